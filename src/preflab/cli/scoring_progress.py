"""A progress bar for scoring many pairs with any scorer (``preflab score`` and ``eval``).

Scorers score a whole list in one call, which is silent for minutes on a large file (the
embedding head has no bar of its own). Here the pairs go to the scorer in chunks large enough
that length-sorted batching keeps nearly all of its gain, and a bar on stderr counts the pairs.
"""

from __future__ import annotations

from typing import Sequence

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

CHUNK_PAIRS = 512


def score_pairs_with_progress(scorer, pairs: Sequence, what: str = "Scoring pairs",
                              chunk: int = CHUNK_PAIRS) -> list[tuple[float, float]]:
    """:func:`preflab.rm.scorer.score_pairs` chunk by chunk, with a progress bar."""
    from preflab.rm.scorer import score_pairs

    rewards: list[tuple[float, float]] = []
    with Progress(TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                  console=Console(stderr=True)) as bar:
        task = bar.add_task("pairs", total=len(pairs))
        for start in range(0, len(pairs), chunk):
            rewards += score_pairs(scorer, pairs[start:start + chunk])
            bar.update(task, completed=len(rewards))
    return rewards
