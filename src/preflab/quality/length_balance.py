"""Length balance of a preference file (``preflab clean --balance-length``): make "chosen is
longer" hold for half of the unequal-length pairs, so a reward model trained on the file cannot
lower its loss by preferring the longer answer. The in-loss treatments (``length_debias``
balance and poe) are :mod:`preflab.rm.length_debias`; this module applies the same balance to
the data itself, by dropping or reweighting pairs.
"""

from __future__ import annotations

from typing import Any, Literal, Sequence

import numpy as np

from preflab.errors import ConfigError
from preflab.evaluation.response_length import share_chosen_longer
from preflab.records import PreferencePair
from preflab.rm.length_debias import balance_factors, length_directions


def balance_length(pairs: Sequence[PreferencePair], *, how: Literal["drop", "weight"] = "drop", seed: int = 0,
                   ) -> tuple[list[PreferencePair], dict[str, Any]]:
    """Make "chosen is longer" hold for half of the unequal-length pairs, by dropping or weighting.

    Dropping removes a seeded random subset of the majority direction, keeping input order;
    weighting multiplies the majority direction's weights by n_minority / n_majority. Pairs of
    equal length are untouched. The summary says what was removed or reweighted.

    >>> from preflab.records import text_prompt
    >>> ps = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=c, rejected=r) for i, (c, r) in
    ...       enumerate([("a b", "c"), ("a b", "c"), ("a b", "c"), ("a", "b c")])]
    >>> kept, s = balance_length(ps)
    >>> s["dropped"], s["share_chosen_longer_before"], s["share_chosen_longer_after"]
    (2, 0.75, 0.5)
    """
    if how not in ("drop", "weight"):
        raise ConfigError(f"balance_length: how must be 'drop' or 'weight', got {how!r}")
    pairs = list(pairs)
    longer, shorter = length_directions(pairs)
    n_long, n_short = int(longer.sum()), int(shorter.sum())
    summary: dict[str, Any] = {"how": how, "pairs_in": len(pairs), "share_chosen_longer_before": _share(n_long, n_short),
                               "dropped": 0, "reweighted": 0}
    factors = balance_factors(pairs) if how == "weight" or min(n_long, n_short) else np.ones(len(pairs))
    majority = longer if n_long > n_short else shorter
    excess = abs(n_long - n_short)
    if excess and how == "drop":
        rng = np.random.default_rng(seed)
        drop = set(rng.choice(np.flatnonzero(majority), size=excess, replace=False).tolist())
        pairs = [p for i, p in enumerate(pairs) if i not in drop]
        summary["dropped"] = excess
        n_long, n_short = min(n_long, n_short), min(n_long, n_short)
    elif excess:
        pairs = [p.model_copy(update={"weight": (p.weight if p.weight is not None else 1.0) * f}) if f != 1 else p
                 for p, f in zip(pairs, factors)]
        summary.update(reweighted=int(majority.sum()), weight_factor=float(factors[majority][0]))
        n_long = n_short = 1
    summary.update(pairs_out=len(pairs), share_chosen_longer_after=_share(n_long, n_short))
    return pairs, summary


def _share(n_long: int, n_short: int) -> float | None:
    share = share_chosen_longer(n_long, n_short)
    return None if share is None else round(share, 4)
