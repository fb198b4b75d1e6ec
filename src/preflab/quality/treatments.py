"""Label repair from preference strength: flip, drop, smooth, margin.

Wang et al., "Secrets of RLHF in Large Language Models Part II: Reward Modeling",
arXiv 2401.06080; docs/methods.md#label-repair. Input pairs carry ``strength_mean`` μ (the mean, over an RM
ensemble, of r(x, chosen) − r(x, rejected)) and ``strength_std`` σ. μ < 0 means the ensemble
disagrees with the label; |μ| near 0 means the pair is ambiguous.

The treatments run in a fixed order, each an option: flip → drop → smooth → margin.

- flip: swap chosen/rejected for the lowest-μ ``flip_fraction`` of pairs, or for μ below
  ``flip_below``. A flipped pair's μ is negated, so μ always measures "chosen minus rejected"
  under the label it now has, and a later margin uses −μ for it as the paper prescribes.
- drop: remove pairs with |μ| below ``drop_below`` (ambiguous).
- smooth: give label-smoothing α to the lowest-μ ``smooth_fraction`` (or μ below
  ``smooth_below``; every pair if neither is set) — loss −[(1−α) log σ(Δ) + α log σ(−Δ)].
- margin: margin = ``margin_scale`` × μ, clipped at 0 unless ``margin_clip`` is off — loss
  −log σ(Δ − margin).

>>> from preflab.records import PreferencePair, text_prompt
>>> p = [PreferencePair(prompt=text_prompt("q"), chosen=c, rejected=r, strength_mean=m)
...      for c, r, m in [("a", "b", -2.0), ("c", "d", 0.05), ("e", "f", 1.5)]]
>>> out, summary = clean_pairs(p, CleanConfig(flip_below=0.0, drop_below=0.1, margin=True))
>>> [(x.chosen, x.flipped, x.strength_mean, x.margin) for x in out]
[('b', True, 2.0, 2.0), ('e', False, 1.5, 1.5)]
>>> summary["flipped"], summary["dropped"]
(1, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from preflab.config import option, validate
from preflab.errors import InputError, Problem, about
from preflab.records import PreferencePair


@dataclass(frozen=True)
class CleanConfig:
    """Options of ``preflab clean`` (field help is the CLI help)."""

    flip_fraction: float | None = option(None, "Flip the labels of this lowest-μ fraction of pairs (the paper uses 0.1).")
    flip_below: float | None = option(None, "Flip pairs whose μ is below this value (e.g. 0).")
    drop_below: float | None = option(None, "Drop pairs whose |μ| is below this value (ambiguous pairs).")
    smooth_alpha: float | None = option(None, "Label-smoothing α to give (SPEC default 0.1); every pair unless a fraction or threshold is set.")
    smooth_fraction: float | None = option(None, "Smooth only this lowest-μ fraction of pairs.")
    smooth_below: float | None = option(None, "Smooth only pairs whose μ is below this value.")
    margin: bool = option(False, "Set an adaptive margin from μ (loss −log σ(Δ − margin)).")
    margin_scale: float = option(1.0, "Margin = scale × μ.")
    margin_clip: bool = option(True, "Clip negative margins at 0.")
    balance_length: str | None = option(None, "Last: rebalance so that chosen is the longer response in half of the pairs of unequal length, by drop (a seeded subset of the majority direction) or weight (down-weight it). Needs no strength.")
    seed: int = option(0, "Seed of balance_length drop.")

    def uses_strength(self) -> bool:
        """Whether any treatment reads μ (all but balance_length do)."""
        return any(v is not None for v in (self.flip_fraction, self.flip_below, self.drop_below, self.smooth_alpha)) or self.margin

    def problems(self) -> list[Problem]:
        """This config's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        problems = []
        for name in ("flip_fraction", "smooth_fraction"):
            value = getattr(self, name)
            if value is not None and not 0.0 < value < 1.0:
                problems.append(about(name, f"must lie strictly between 0 and 1, got {value}"))
        for first, second in (("flip_fraction", "flip_below"), ("smooth_fraction", "smooth_below")):
            if getattr(self, first) is not None and getattr(self, second) is not None:
                problems.append(Problem(f"give {{{first}}} or {{{second}}}, not both", (first, second)))
        if self.smooth_alpha is not None and not 0.0 < self.smooth_alpha <= 0.5:
            problems.append(about("smooth_alpha", f"must lie in (0, 0.5], got {self.smooth_alpha}"))
        if (self.smooth_fraction is not None or self.smooth_below is not None) and self.smooth_alpha is None:
            problems.append(Problem("{smooth_fraction} / {smooth_below} need {smooth_alpha}",
                                    ("smooth_fraction", "smooth_below", "smooth_alpha")))
        if self.drop_below is not None and self.drop_below <= 0:
            problems.append(about("drop_below", f"must be positive, got {self.drop_below}"))
        if self.balance_length not in (None, "drop", "weight"):
            problems.append(about("balance_length", f"must be drop or weight, got {self.balance_length!r}"))
        if not self.uses_strength() and self.balance_length is None:
            names = ("flip_fraction", "flip_below", "drop_below", "smooth_alpha", "margin", "balance_length")
            problems.append(Problem("no treatment given: set at least one of " + ", ".join("{%s}" % n for n in names), names))
        return problems


def _mu(pairs: list[PreferencePair]) -> np.ndarray:
    missing = [p.id for p in pairs if p.strength_mean is None]
    if missing:
        raise InputError(f"{len(missing)} pairs have no strength_mean (first: {missing[0]}); "
                         "run `preflab strength` first", field="strength_mean")
    return np.array([p.strength_mean for p in pairs], dtype=float)


def _lowest(mu: np.ndarray, fraction: float) -> tuple[np.ndarray, float]:
    """Indices of the lowest-μ fraction (stable order) and the μ value at the cut."""
    k = int(round(fraction * len(mu)))
    order = np.argsort(mu, kind="stable")[:k]
    return order, float(mu[order[-1]]) if k else float("nan")


def flip(pair: PreferencePair) -> PreferencePair:
    """Swap the label; μ is negated so it stays "chosen minus rejected". The id is unchanged."""
    return pair.model_copy(update={
        "chosen": pair.rejected, "rejected": pair.chosen,
        "chosen_score": pair.rejected_score, "rejected_score": pair.chosen_score,
        "strength_mean": -pair.strength_mean if pair.strength_mean is not None else None,
        "flipped": not pair.flipped,
        "provenance": {**pair.provenance, "clean": {**pair.provenance.get("clean", {}), "flip": True}},
    })


def clean_pairs(pairs: list[PreferencePair], cfg: CleanConfig) -> tuple[list[PreferencePair], dict[str, Any]]:
    """Apply the configured treatments; returns the new pairs and a summary of what changed."""
    validate(cfg)
    pairs = list(pairs)
    summary: dict[str, Any] = {"pairs_in": len(pairs), "flipped": 0, "dropped": 0, "smoothed": 0, "with_margin": 0}
    if cfg.uses_strength():
        pairs = _strength_treatments(pairs, cfg, summary)
    if cfg.balance_length:
        from preflab.quality.length_balance import balance_length

        pairs, balanced = balance_length(pairs, how=cfg.balance_length, seed=cfg.seed)
        summary["length_balance"] = balanced
        summary["dropped"] += balanced["dropped"]
    summary["pairs_out"] = len(pairs)
    return pairs, summary


def _strength_treatments(pairs: list[PreferencePair], cfg: CleanConfig, summary: dict[str, Any]) -> list[PreferencePair]:
    mu = _mu(pairs)
    summary["mu_below_zero"] = int((mu < 0).sum())
    if cfg.flip_fraction is not None or cfg.flip_below is not None:
        if cfg.flip_fraction is not None:
            chosen, cut = _lowest(mu, cfg.flip_fraction)
            summary["flip_mu_cut"] = cut
        else:
            chosen = np.flatnonzero(mu < cfg.flip_below)
        for i in chosen:
            pairs[i] = flip(pairs[i])
        summary["flipped"] = len(chosen)
        mu = _mu(pairs)
    if cfg.drop_below is not None:
        keep = np.abs(mu) >= cfg.drop_below
        summary["dropped"] = int((~keep).sum())
        pairs = [p for p, k in zip(pairs, keep) if k]
        mu = mu[keep]
    if cfg.smooth_alpha is not None:
        if cfg.smooth_fraction is not None:
            targets, cut = _lowest(mu, cfg.smooth_fraction)
            summary["smooth_mu_cut"] = cut
        elif cfg.smooth_below is not None:
            targets = np.flatnonzero(mu < cfg.smooth_below)
        else:
            targets = np.arange(len(pairs))
        for i in targets:
            pairs[i] = pairs[i].model_copy(update={"smoothing": cfg.smooth_alpha})
        summary["smoothed"] = len(targets)
    if cfg.margin:
        margins = cfg.margin_scale * mu
        if cfg.margin_clip:
            margins = np.clip(margins, 0.0, None)
        pairs = [p.model_copy(update={"margin": float(m)}) for p, m in zip(pairs, margins)]
        summary["with_margin"] = len(pairs)
        summary["margin_mean"] = float(margins.mean()) if len(margins) else 0.0
    return pairs
