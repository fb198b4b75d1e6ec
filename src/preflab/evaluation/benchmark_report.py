"""What ``preflab eval --benchmark`` writes and prints: ``eval.json`` (the scores of
:mod:`preflab.evaluation.rewardbench`), ``scores.jsonl`` (every row's rewards and result, so
any score can be recomputed elsewhere) and the rows of the terminal tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from preflab.evaluation.rewardbench import PRIOR_SETS, SECTIONS, V2_SUBSETS


def write_benchmark_report(result: dict[str, Any], rows: list[dict], out_dir: str | Path) -> dict[str, str]:
    """``eval.json`` and ``scores.jsonl`` in ``out_dir``, each written atomically."""
    from preflab.io.atomic import atomic_path
    from preflab.io.containers import write_jsonl

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {"json": str(out / "eval.json"), "scores": str(out / "scores.jsonl")}
    write_jsonl(rows, files["scores"])
    with atomic_path(out / "eval.json") as tmp:
        tmp.write_text(json.dumps({**result, "files": files}, indent=2), encoding="utf-8")
    return files


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}"


def _ci(ci: list[float] | None) -> str:
    return "-" if ci is None else f"{100 * ci[0]:.1f}–{100 * ci[1]:.1f}"


def _section_of(subset: str) -> str:
    if subset in PRIOR_SETS:
        return "Prior Sets"
    return next((name for name, members in SECTIONS.items() if subset in members), "-")


def subset_rows(result: dict[str, Any]) -> list[tuple[str, ...]]:
    """(subset, section, rows, score, 95% CI, longer wins, all tied) per subset, in percent;
    RewardBench 2 lists its six subsets in the benchmark's order first."""
    model, baselines = result["model"], result["baselines"]
    names = list(model["subsets"])
    if result["benchmark"] == "rewardbench2":
        names = [n for n in V2_SUBSETS if n in model["subsets"]] + [n for n in names if n not in V2_SUBSETS]
    else:
        order = [n for members in SECTIONS.values() for n in members]
        names = [n for n in order if n in model["subsets"]] + [n for n in names if n not in order]
    rows = []
    for name in names:
        s = model["subsets"][name]
        rows.append((name, _section_of(name) if result["benchmark"] == "rewardbench" else "-", str(s["n"]),
                     _pct(s["accuracy"]), _ci(s["ci95"]),
                     *(_pct(b["subsets"][name]["accuracy"]) for b in baselines.values())))
    return rows


def summary_rows(result: dict[str, Any]) -> list[tuple[str, ...]]:
    """(what, score, 95% CI, longer wins, all tied) for the sections, the prior sets and the
    overall score (RewardBench), or the six-subset average (RewardBench 2), in percent."""
    model, baselines = result["model"], list(result["baselines"].values())

    def row(label: str, get) -> tuple[str, ...]:
        entry = get(model)
        return (label, _pct(entry and entry["score"]), _ci(entry and entry["ci95"]),
                *(_pct((get(b) or {}).get("score")) for b in baselines))

    if result["benchmark"] == "rewardbench2":
        return [row("average of the six subsets", lambda m: m["average"])]
    rows = [row(name, lambda m, name=name: m["sections"].get(name)) for name in SECTIONS if name in model["sections"]]
    if model["prior_sets"] is not None:
        rows.append(row("Prior Sets (half weight)", lambda m: m["prior_sets"]))
    rows.append(row("overall", lambda m: m["overall"]))
    return rows
