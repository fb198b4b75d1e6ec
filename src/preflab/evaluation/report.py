"""Evaluate a scorer on pairs and write the result: JSON, reliability PNG, and rows for the
terminal table. The baselines are computed on exactly the same pairs."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Sequence

from preflab.evaluation.baselines import null_baselines
from preflab.evaluation.length import length_metrics
from preflab.evaluation.metrics import correctness, evaluate_deltas
from preflab.evaluation.response_length import pair_lengths
from preflab.records import PreferencePair

log = logging.getLogger(__name__)


def high_confidence_mask(pairs: Sequence[PreferencePair]) -> list[bool] | None:
    """PandaLM-style agreement: unanimous pairs are the high-confidence subset."""
    marks = [p.provenance.get("agreement") for p in pairs]
    if all(m is None for m in marks):
        return None
    return [m == "unanimous" for m in marks]


def evaluate_pairs(pairs: Sequence[PreferencePair], rewards: Sequence[tuple[float, float]], *, n_boot: int = 2000,
                   seed: int = 0) -> dict[str, Any]:
    """Model metrics plus baselines on the same pairs."""
    cats = [p.category for p in pairs]
    cats = cats if any(c is not None for c in cats) else None
    hc = high_confidence_mask(pairs)
    deltas = [c - r for c, r in rewards]
    model = evaluate_deltas(deltas, categories=cats, high_confidence=hc, n_boot=n_boot, seed=seed)
    model["length"] = length_metrics(correctness(deltas), *pair_lengths(pairs), n_boot=n_boot, seed=seed)
    return {"model": model, "baselines": null_baselines(pairs, high_confidence=hc, n_boot=n_boot, seed=seed)}


def reliability_plot(calib: dict[str, Any], path: str | Path, title: str = "Reliability of σ(Δ)") -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    bins = calib["bins"]
    ax.plot([0.5, 1], [0.5, 1], "--", color="grey", label="perfect")
    ax.plot([b["confidence"] for b in bins], [b["accuracy"] for b in bins], "o-", label=f"model (ECE {calib['ece']:.3f})")
    for b in bins:
        ax.annotate(str(b["count"]), (b["confidence"], b["accuracy"]), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set_xlabel("confidence of predicted winner")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return str(path)


def write_report(result: dict[str, Any], out_dir: str | Path) -> dict[str, str]:
    """``eval.json`` and ``reliability.png`` in ``out_dir`` (atomic JSON write)."""
    from preflab.io.atomic import atomic_path
    from preflab.io.portable import record_json

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / "eval.json") as tmp:
        tmp.write_text(record_json(result, indent=2), encoding="utf-8")
    png = reliability_plot(result["model"]["calibration"], out / "reliability.png")
    return {"json": str(out / "eval.json"), "png": png}


def table_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(name, n, accuracy, 95% CI, high-confidence accuracy) rows: model, then baselines."""
    rows = []
    for name, r in [("model", result["model"]), *result["baselines"].items()]:
        hc = r.get("high_confidence")
        rows.append((name, str(r["n"]), f"{r['accuracy']:.3f}", f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]",
                     f"{hc['accuracy']:.3f} (n={hc['n']})" if hc else "-"))
    return rows


def length_rows(result: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(measure, n, value, 95% CI) rows of the model's length-controlled metrics; a stratum
    without pairs shows n = 0 and no value."""
    m = result["model"]["length"]
    rows = []
    for key, label in (("matched", f"length-matched pairs (within {m['match_tolerance']:.0%})"),
                       ("against_length", "longer response rejected"), ("with_length", "longer response chosen"),
                       ("length_controlled", "length-controlled accuracy"),
                       ("length_agreement", "model prefers the longer response"),
                       ("human_length_agreement", "labels prefer the longer response")):
        r = m[key]
        if r["accuracy"] is None:
            rows.append((label, str(r["n"]), "-", "-"))
        else:
            rows.append((label, str(r["n"]), f"{r['accuracy']:.3f}", f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]"))
    return rows
