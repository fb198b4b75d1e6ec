"""A reward-model scorer on an executor: loaded in this process, or held by each Ray actor
(:class:`RayScorer`, whose ``score_many`` splits its items into one shard per actor).

Why both in one place: the actors build the very scorer a local run loads
(:func:`load_scorer_here`), so scores do not depend on where they were computed.
"""

from __future__ import annotations

from functools import partial
from typing import Sequence

from preflab.config import validate
from preflab.executor.config import Executor
from preflab.executor.pool import ActorPool


def load_scorer_here(model: str, batch_size: int = 16, normalize: bool = False, sort: bool = True):
    """The scorer of the saved model folder ``model`` with length-sorted batches on or off
    (what each Ray scoring actor builds too)."""
    from preflab.rm.loading import load_scorer

    scorer = load_scorer(model, batch_size=batch_size, normalize=normalize)
    if hasattr(scorer, "sort_by_length"):
        scorer.sort_by_length = sort
    return scorer


class RayScorer:
    """A :class:`~preflab.rm.scorer.Scorer` whose ``score_many`` splits the items into one
    contiguous shard per actor (each actor holds the reward model) and joins the rewards."""

    def __init__(self, model: str, executor: Executor, *, batch_size: int = 16, normalize: bool = False,
                 sort: bool = True) -> None:
        self.pool = ActorPool(partial(load_scorer_here, str(model), batch_size, normalize, sort), executor)
        try:
            self.pool.ready()  # a model that cannot load fails here, before any work
        except BaseException:
            self.pool.close()
            raise

    def score_many(self, items: Sequence[tuple]) -> list[float]:
        items = list(items)
        if not items:
            return []
        size = -(-len(items) // self.pool.size)
        parts = [(items[a:a + size],) for a in range(0, len(items), size)]
        return [v for part in self.pool.shards("score_many", parts) for v in part]

    def score(self, prompt, responses) -> list[float]:
        return self.score_many([(prompt, r) for r in responses])

    def close(self) -> None:
        self.pool.close()


def load_scorer_on(executor: Executor | None, model: str, *, batch_size: int = 16, normalize: bool = False,
                   sort: bool = True):
    """A reward-model scorer for the folder ``model``: loaded here, or held by each Ray actor
    (``score_many`` splits its items into one shard per actor)."""
    if executor is not None and executor.is_ray:
        return RayScorer(model, validate(executor, "executor"), batch_size=batch_size, normalize=normalize, sort=sort)
    return load_scorer_here(model, batch_size, normalize, sort)
