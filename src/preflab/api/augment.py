"""``preflab.augment``: scored pairs → reward-augmented, goal-conditioned DPO data (docs/methods.md#reward-augmented-dpo-data).

>>> import preflab
>>> from preflab import PreferencePair, text_prompt
>>> scored = [PreferencePair(prompt=text_prompt("Name a colour."), chosen="Teal.", rejected="Dunno.",
...                          chosen_score=8.0, rejected_score=3.0)]
>>> data = preflab.augment(scored)
>>> len(data), data[0].prompt[0].content.splitlines()[-1], data[1].prompt[0].content.splitlines()[-1]
(2, 'Overall score: 8.', 'Overall score: 3.')
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from pathlib import Path
from typing import Any, Literal, Optional

from preflab.api.data import Pairs, read_pairs
from preflab.api.options import config_option, fmt_option, overwrite_option, signed
from preflab.api.pair_step import pair_step_preflight, step_result
from preflab.augmentation import AugmentConfig
from preflab.config import option
from preflab.errors import InputError


@dataclasses.dataclass(frozen=True)
class AugmentOptions:
    """``preflab augment``'s own options (besides the goal's: :class:`~preflab.augmentation.AugmentConfig`)."""

    config: Optional[Path] = config_option()
    fmt: str = fmt_option()
    column_map: Optional[str] = option(None, "Rename source columns: 'score_chosen=chosen_score,score_rejected=rejected_score'.")
    split: Optional[str] = option(None, "Split of a datasets folder or hub dataset; 'test' is refused.")
    seed: int = option(0, "Seed of UltraFeedback's rejected-completion draw.")
    to: Literal["trl-chat", "preflab"] = option("trl-chat", "Output layout: trl-chat (TRL conversational DPO) or preflab "
                                                "(keeps scores and provenance).")
    not_test: bool = option(False, "The input's name says test but it is training data.")
    overwrite: bool = overwrite_option()

    def problems(self) -> list:
        from preflab.io.schemas import column_map_problems

        return column_map_problems(self.column_map)


@signed(AugmentOptions, AugmentConfig)
def augment(pairs: Any, *, out: str | Path | None = None, **options: Any) -> Pairs:
    """Positive- and negative-goal copies of every scored pair (``chosen_score`` and
    ``rejected_score``, or UltraFeedback's raw layout). Test splits are refused. ``out``
    writes them in the ``to`` layout with OUT.run.json."""
    from preflab.augmentation import augment_pairs, refuse_test_split
    from preflab.io import memory
    from preflab.provenance import run_record

    check, parsed = pair_step_preflight(options, AugmentOptions, AugmentConfig, src=pairs, out=out)
    own, cfg = parsed[AugmentOptions], parsed[AugmentConfig]
    name = memory.NAME if memory.is_in_memory(pairs) else pairs
    if not own.not_test:
        check.run(refuse_test_split, name, own.split)
    elif own.split is not None:
        check.run(refuse_test_split, "data", own.split)
    check.done()
    counts: Counter = Counter()
    source = read_pairs(pairs, own.fmt, column_map=own.column_map, split=own.split, seed=own.seed)
    try:
        made = list(augment_pairs(source, cfg, counts))
    except InputError as exc:  # the pair's row is known here, its source here
        raise exc.located(path=str(name)) from None
    record = run_record("augment", cfg, inputs={"pairs": pairs}, counts=dict(counts), seed=own.seed,
                        output={"path": None if out is None else str(out), "format": own.to, "rows": len(made)})
    return step_result(made, out, record, fmt=own.to, counts=dict(counts))
