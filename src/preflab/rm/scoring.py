"""A progress bar for scoring many responses with any scorer (``preflab score`` and ``eval``).

Scorers score a whole list in one call, which is silent for minutes on a large file (the
embedding head has no bar of its own). Here the items go to the scorer in chunks large enough
that length-sorted batching keeps nearly all of its gain, and a bar on stderr counts them.
"""

from __future__ import annotations

from typing import Sequence

from preflab.progress import Bar

CHUNK = 1024


def score_with_progress(scorer, items: Sequence, what: str = "Scoring responses", chunk: int = CHUNK,
                        enabled: bool = True) -> list[float]:
    """Rewards of (prompt messages, response) items, in order, chunk by chunk with a bar
    (``enabled=False``: none)."""
    many = getattr(scorer, "score_many", None)
    if many is None:
        def many(part):
            return [s for prompt, response in part for s in scorer.score(prompt, [response])]
    rewards: list[float] = []
    with Bar(what, enabled) as bar:
        bar(0, len(items))
        for start in range(0, len(items), chunk):
            rewards += many(items[start:start + chunk])
            bar(len(rewards), len(items))
    return rewards


def score_pairs_with_progress(scorer, pairs: Sequence, enabled: bool = True) -> list[tuple[float, float]]:
    """(chosen reward, rejected reward) per pair, as :func:`preflab.rm.scorer.score_pairs`."""
    flat = score_with_progress(scorer, [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)],
                               "Scoring pairs (responses)", enabled=enabled)
    return [(flat[2 * i], flat[2 * i + 1]) for i in range(len(pairs))]
