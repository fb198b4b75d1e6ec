"""Which loader a saved reward-model folder needs: ``load_scorer(path)`` returns a scorer for a
fine-tuned RM (``preflab_rm.json``, :mod:`preflab.rm.save`) or an embedding head
(``preflab_embed_head.json``, :mod:`preflab.rm.embed_head`).

Why its own module: the dispatch knows every kind of saved model, while the scorer, the saver
and the embedding head know only themselves. Kept apart, ``rm/`` imports form no circle.

>>> from preflab.rm.loading import load_scorer                  # doctest: +SKIP
>>> load_scorer("runs/rm").score(text_prompt("2+2?"), ["4", "5"])  # doctest: +SKIP
[1.3, -0.8]
"""

from __future__ import annotations

from pathlib import Path

from preflab.rm.scorer import RewardModelScorer, Scorer


def load_scorer(path: str | Path, *, batch_size: int = 16, normalize: bool = False, check: bool = True,
                progress: bool = False) -> Scorer:
    """A scorer for a saved model folder: a fine-tuned RM or an embedding head."""
    from preflab.rm.embed_head import HEAD_META, EmbedHeadScorer

    if (Path(path) / HEAD_META).exists():
        return EmbedHeadScorer.load(path)
    from preflab.rm.save import load_reward_model

    bb, renderer, meta = load_reward_model(path, check=check)
    return RewardModelScorer(bb, renderer, batch_size=batch_size, normalize=normalize,
                             reward_mean=meta.get("reward_mean"), reward_std=meta.get("reward_std"), progress=progress)
