"""The ``Scorer`` protocol and the reward-model scorer behind it.

Anything that maps (prompt, responses) to one float per response is a scorer: a trained RM,
the cheap embedding head (:mod:`preflab.rm.embed_head`), an ensemble. West-of-N picks the best
and worst of N samples with it; strength estimation calls ``score_pairs`` with several.

Why length-sorted batches: on CPU a batch costs as much as its longest sequence times its
size; sorting the whole workload by length before cutting batches removes nearly all padding
(see ``benchmarks/rm_scoring.py``).

>>> from preflab.rm.loading import load_scorer                  # doctest: +SKIP
>>> scorer = load_scorer("runs/rm")                             # doctest: +SKIP
>>> scorer.score(text_prompt("2+2?"), ["4", "5"])               # doctest: +SKIP
[1.3, -0.8]
"""

from __future__ import annotations

import logging
from typing import Iterable, Protocol, Sequence, runtime_checkable

from preflab.progress import Bar
from preflab.records import Message, PreferencePair

log = logging.getLogger(__name__)


@runtime_checkable
class Scorer(Protocol):
    """Rewards for responses to one prompt (higher = better)."""

    def score(self, prompt: list[Message], responses: list[str]) -> list[float]: ...


def score_pairs(scorer: Scorer, pairs: Iterable[PreferencePair]) -> list[tuple[float, float]]:
    """(reward of chosen, reward of rejected) for every pair. Uses the scorer's batched
    ``score_many`` when it has one (one length-sorted pass over all pairs)."""
    pairs = list(pairs)
    many = getattr(scorer, "score_many", None)
    if many is not None:
        flat = many([(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
        return [(flat[2 * i], flat[2 * i + 1]) for i in range(len(pairs))]
    out = []
    for p in pairs:
        c, r = scorer.score(p.prompt, [p.chosen, p.rejected])
        out.append((c, r))
    return out


class RewardModelScorer:
    """A trained (or any) sequence-classification RM as a :class:`Scorer`.

    ``normalize=True`` returns (r − mean) / std with the statistics saved at training time.
    """

    def __init__(self, backbone, renderer, *, batch_size: int = 16, sort_by_length: bool = True,
                 normalize: bool = False, reward_mean: float | None = None, reward_std: float | None = None,
                 progress: bool = False) -> None:
        self.bb, self.renderer = backbone, renderer
        self.batch_size = batch_size
        self.sort_by_length = sort_by_length
        self.progress = progress
        if normalize and (reward_mean is None or not reward_std):
            from preflab.errors import ConfigError

            raise ConfigError("normalised scores need the reward mean/std saved at training time (train with validation data)")
        self.shift, self.scale = (reward_mean, reward_std) if normalize else (0.0, 1.0)
        self._warned_long = False

    def score(self, prompt: list[Message], responses: list[str]) -> list[float]:
        return self.score_many([(prompt, r) for r in responses])

    def score_many(self, items: Sequence[tuple[list[Message], str]]) -> list[float]:
        """Rewards for (prompt, response) items, in input order."""
        return self._run(items, want_reps=False)[0]

    def represent_many(self, items: Sequence[tuple[list[Message], str]]):
        """[N, H] float tensor: the representation the model pools for each item (decoders: the
        last real token's hidden state, i.e. the input of the score head; encoders: the final
        [CLS] state), in input order. Why: strength ``heads`` trains M small heads on a shared
        fine-tuned backbone's representations instead of fine-tuning M backbones."""
        return self._run(items, want_reps=True)[1]

    def _say_truncated(self, n: int, total: int) -> None:
        """Warn, once per scorer, that conversations longer than the model takes were fitted by
        preflab's rule, which other tools do not apply (docs/reward-models.md#truncation)."""
        if not n or self._warned_long:
            return
        self._warned_long = True
        log.warning("%d of %d conversations are longer than the %d tokens this reward model takes: preflab dropped "
                    "their oldest exchanges to fit (docs/reward-models.md#truncation); TRL and vLLM do not, and fail "
                    "on them or score them whole", n, total, self.renderer.max_length)

    def _run(self, items, want_reps: bool):
        import torch

        from preflab.rm.forward import rewards_full

        encoded = [self.renderer.encode_one(p, r) for p, r in items]
        self._say_truncated(sum(e.truncated for e in encoded), len(encoded))
        order = list(range(len(encoded)))
        if self.sort_by_length:
            order.sort(key=lambda i: len(encoded[i].prompt) + len(encoded[i].responses[0]))
        out = [0.0] * len(encoded)
        reps = [None] * len(encoded)
        batches = [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        self.bb.model.eval()
        with Bar("Scoring with reward model", self.progress) as bar, torch.inference_mode():
            bar(0, len(batches))
            for done, batch in enumerate(batches, 1):
                # one forward per batch: the global length sort already did the grouping
                r, h = rewards_full(self.bb, [encoded[i] for i in batch], group_overhead=float("inf"), want_reps=want_reps)
                for j, (i, v) in enumerate(zip(batch, r[:, 0].float().tolist())):
                    out[i] = (v - self.shift) / self.scale
                    if want_reps:
                        reps[i] = h[j].float()
                bar(done, len(batches))
        return out, (torch.stack(reps) if want_reps else None)
