"""``preflab.strength`` (an RM ensemble's preference strength per pair) and ``preflab.clean``
(repair labels from it: flip, drop, smooth, margin, length balance).

>>> import preflab
>>> from preflab import PreferencePair, text_prompt
>>> pairs = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen="yes", rejected="no", strength_mean=m)
...          for i, m in enumerate([-1.0, 0.5, 2.0])]
>>> cleaned = preflab.clean(pairs, flip_below=0.0)
>>> [p.flipped for p in cleaned], cleaned.info["summary"]["flipped"]
([True, False, False], 1)
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

from preflab.api.data import Pairs, read_pairs
from preflab.api.options import ExecutorOptions, config_option, fmt_option, overwrite_option, signed
from preflab.api.pair_step import pair_step_preflight, step_result
from preflab.progress import Bar
from preflab.quality.strength import StrengthConfig
from preflab.quality.treatments import CleanConfig


@dataclasses.dataclass(frozen=True)
class CleanOptions:
    """``preflab clean``'s own options (besides the treatments': :class:`~preflab.quality.treatments.CleanConfig`)."""

    config: Optional[Path] = config_option()
    overwrite: bool = overwrite_option()


@dataclasses.dataclass(frozen=True)
class StrengthOptions:
    """``preflab strength``'s own options (besides the executor's and the ensemble's:
    :class:`~preflab.quality.strength.StrengthConfig`)."""

    fmt: str = fmt_option()
    config: Optional[Path] = config_option()
    overwrite: bool = overwrite_option()


@signed(CleanOptions, CleanConfig)
def clean(pairs: Any, *, out: str | Path | None = None, **options: Any) -> Pairs:
    """Flip → drop → smooth → margin → length balance, each optional, on pairs with
    ``strength_mean`` (from :func:`strength`). ``out`` also writes the pairs and OUT.run.json.
    ``.info["summary"]`` says what changed and why."""
    from preflab.provenance import run_record
    from preflab.quality.treatments import clean_pairs

    check, parsed = pair_step_preflight(options, CleanOptions, CleanConfig, src=pairs, out=out)
    check.done()
    cfg = parsed[CleanConfig]
    cleaned, summary = clean_pairs(list(read_pairs(pairs)), cfg)
    return step_result(cleaned, out, run_record("clean", cfg, inputs={"pairs": pairs}, counts=summary), summary=summary)


@signed(StrengthOptions, ExecutorOptions, StrengthConfig)
def strength(pairs: Any, *, out: str | Path | None = None, progress: bool = True, **options: Any) -> Pairs:
    """Train an ensemble of M reward models and give every pair its preference strength:
    ``strength_mean`` (μ) and ``strength_std`` (σ) of the reward differences
    (docs/methods.md#preference-strength). With ``out``, the pairs, OUT.run.json and plots in OUT.plots/ are written."""
    import numpy as np

    from preflab.provenance import run_record
    from preflab.pipelines.strength import compute_strength
    from preflab.quality.strength_plot import plot_strength
    from preflab.quality.strength_stats import sigma_by_mu_bins

    check, parsed = pair_step_preflight(options, StrengthOptions, ExecutorOptions, StrengthConfig, src=pairs, out=out,
                                       plots=True)
    check.done()
    own, cfg = parsed[StrengthOptions], parsed[StrengthConfig]
    executor = parsed[ExecutorOptions].to_executor()
    data = list(read_pairs(pairs, own.fmt))
    with Bar(f"Training ensemble ({cfg.mode}, M={cfg.members})", progress) as bar:
        result = compute_strength(data, cfg, progress=bar, executor=executor)
    mu = np.array([p.strength_mean for p in result.pairs])
    sigma = np.array([p.strength_std for p in result.pairs])
    plots = plot_strength(mu, sigma, Path(str(out) + ".plots")) if out is not None else []
    record = run_record("strength", cfg, inputs={"pairs": pairs}, counts=result.info,
                        sigma_by_mu=sigma_by_mu_bins(mu, sigma), plots=plots, executor=executor.record())
    return step_result(result.pairs, out, record, summary=result.info, plots=plots)
