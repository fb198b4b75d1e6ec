"""``preflab.west_of_n_rounds``: iterative West-of-N in one call (``preflab west-of-n-rounds``):
base model → pairs → student → next scorer, round after round
(:mod:`preflab.pipelines.west_of_n_rounds`, docs/methods.md#west-of-n)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from preflab.api.options import LLMOptions, config_option, overwrite_option, signed
from preflab.api.preflight import Preflight
from preflab.config import option
from preflab.errors import about
from preflab.pipelines.west_of_n_rounds import RoundsConfig


@dataclasses.dataclass(frozen=True)
class RoundsOptions:
    """``preflab west-of-n-rounds``'s own options (besides the LLM's and the rounds')."""

    base: Optional[Path] = option(None, "Labelled pairs D_L (the base model's data).", objects=True, reads=True)
    prompts: Optional[Path] = option(None, "Unlabelled prompts.", flag=("--prompts", "-p"), objects=True, reads=True)
    out: Optional[Path] = option(None, "Folder: roundN/pairs.jsonl, roundN/model, rounds.json.", flag=("--out", "-o"))
    eval_pairs: Optional[Path] = option(None, "Labelled pairs to score every round's model on.", flag="--eval",
                                        objects=True, reads=True)
    limit: Optional[int] = option(None, "Use only the first N prompts.")
    config: Optional[Path] = config_option()
    overwrite: bool = overwrite_option()


@signed(RoundsOptions, RoundsConfig, LLMOptions)
def west_of_n_rounds(*, say=None, **options: Any) -> dict[str, Any]:
    """Run (or resume) iterative West-of-N into ``out``; returns the rounds summary (what
    rounds.json holds). ``say``: a callable that gets one line per step."""
    from preflab import io
    from preflab.io.outputs import workdir_output
    from preflab.pipelines.west_of_n_rounds import run_rounds

    check = Preflight()
    parsed = check.options(options, RoundsOptions, RoundsConfig, LLMOptions)
    own, cfg, llm_options = parsed[RoundsOptions], parsed[RoundsConfig], parsed[LLMOptions]
    for name in ("base", "prompts", "out"):
        if getattr(own, name) is None:
            check.add(about(name, "is required"))
    check.llm(llm_options.llm, budget=llm_options)
    if own.out is not None:
        check.outputs(workdir_output(own.out), [own.base, own.prompts, own.eval_pairs, own.config],
                      overwrite=own.overwrite)
    check.done()
    labelled = list(io.read_pairs(own.base))
    held = list(io.read_pairs(own.eval_pairs)) if own.eval_pairs is not None else None
    with llm_options.open() as model:
        return run_rounds(labelled, own.prompts, model, cfg, Path(own.out), eval_pairs=held, limit=own.limit,
                          say=say or (lambda message: None))

