"""Which loader a saved reward-model folder needs: ``load_scorer(path)`` returns a scorer for a
fine-tuned RM (``preflab_rm.json``, :mod:`preflab.rm.save`) or an embedding head
(``preflab_embed_head.json``, :mod:`preflab.rm.embed_head`); ``add_eval_to_card`` puts a
``preflab eval`` result into either one's model card (:mod:`preflab.rm.card`).

Why its own module: the dispatch knows every kind of saved model, while the scorer, the saver
and the embedding head know only themselves. Kept apart, ``rm/`` imports form no circle.

>>> from preflab.rm.loading import load_scorer                  # doctest: +SKIP
>>> load_scorer("runs/rm").score(text_prompt("2+2?"), ["4", "5"])  # doctest: +SKIP
[1.3, -0.8]
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preflab.rm.scorer import RewardModelScorer, Scorer


def load_scorer(path: str | Path, *, batch_size: int = 16, normalize: bool = False, check: bool = True,
                progress: bool = False) -> Scorer:
    """A scorer for a saved model folder: a fine-tuned RM or an embedding head."""
    from preflab.rm.embed_head import HEAD_META, EmbedHeadScorer

    if (Path(path) / HEAD_META).exists():
        return EmbedHeadScorer.load(path, normalize=normalize)
    from preflab.rm.save import load_reward_model

    bb, renderer, meta = load_reward_model(path, check=check)
    return RewardModelScorer(bb, renderer, batch_size=batch_size, normalize=normalize,
                             reward_mean=meta.get("reward_mean"), reward_std=meta.get("reward_std"), progress=progress)


def model_meta(folder: str | Path) -> dict[str, Any] | None:
    """The metadata a saved model's card is written from (a fine-tuned RM's ``preflab_rm.json``
    or an embedding head's), or None when ``folder`` is not a saved preflab model."""
    from preflab.rm.embed_head import HEAD_META
    from preflab.rm.save import META_FILE

    for name in (META_FILE, HEAD_META):
        path = Path(folder) / name
        if path.is_file():
            return json.loads(path.read_text(encoding="utf-8"))
    return None


def add_eval_to_card(folder: str | Path, result: dict[str, Any], data: Any) -> Path | None:
    """Record a ``preflab eval`` result in the card of the model saved in ``folder``
    (:func:`preflab.rm.card.record_eval`); None when it is not a saved preflab model."""
    from preflab.rm.card import eval_entry, record_eval

    meta = model_meta(folder)
    return None if meta is None else record_eval(folder, eval_entry(result, data), meta)
