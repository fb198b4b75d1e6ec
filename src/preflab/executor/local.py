"""Loading a reward model in this process (what each Ray scoring actor does too)."""

from __future__ import annotations


def load_scorer_here(model: str, batch_size: int = 16, normalize: bool = False, sort: bool = True):
    """The scorer of the saved model folder ``model`` with length-sorted batches on or off."""
    from preflab.rm.loading import load_scorer

    scorer = load_scorer(model, batch_size=batch_size, normalize=normalize)
    if hasattr(scorer, "sort_by_length"):
        scorer.sort_by_length = sort
    return scorer
