"""The bench results as a markdown table, a rich table and plots (accuracy ± 95% interval
per row and evaluation set, null baselines beside them; accuracy against the pairs added at
each mix ratio)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table


def _cell(r: dict[str, Any]) -> str:
    if not r or "accuracy" not in r:
        return "—"
    lo, hi = r["ci95"]
    spread = f" ±{r['seed_std']:.3f}" if r.get("seeds", 0) > 1 else ""
    return f"{r['accuracy']:.3f}{spread} [{lo:.3f}, {hi:.3f}]"


def train_cell(cells: dict[str, Any]) -> str:
    """A row's training pairs; a row that added fewer pairs than its mix ratio asked for says so."""
    mix = cells.get("_mix") or {}
    capped = f" (capped: {mix['added']} of {mix['asked']} asked)" if mix.get("capped") else ""
    return f"{cells.get('_train_pairs', '')}{capped}"


def rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    evals = list(results["eval_sets"])
    header = ["row", "train pairs"] + [f"{e} (n={results['eval_sets'][e]})" for e in evals]
    body = []
    for row, cells in results["table"].items():
        body.append([row, train_cell(cells)] + [_cell(cells.get(e, {})) for e in evals])
    for name, cells in results["baselines"].items():
        body.append([f"null: {name}", "—"] + [_cell(cells.get(e, {})) for e in evals])
    return header, body


def tokens_cell(m: dict[str, Any]) -> str:
    """Tokens paid for, and those served from the LLM call cache (e.g. self-training reusing
    West-of-N's samples): a method's full cost is the sum, its marginal cost the first part."""
    if m.get("tokens_in") is None:  # a pairs file without a generation record
        return "—"
    cached = m.get("tokens_cached", 0)
    return f"{m['tokens_in']} / {m['tokens_out']}" + (f" (+{cached} from cache)" if cached else "")


def wall_cell(m: dict[str, Any]) -> str:
    return "—" if m.get("wall_s") is None else f"{m['wall_s']:.0f} s"


def source_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """The pairs files a bench read instead of generating: path, sha256 of the bytes, and what
    their run record says made them; None when there are none."""
    body = []
    for key, m in results["methods"].items():
        source = m.get("source")
        if source:
            run = source.get("run") or {}
            generator = run.get("generator") or {}
            made = " ".join(str(x) for x in (run.get("step"), generator.get("model"), run.get("created")) if x) or \
                "no run record"
            body.append([key, source.get("given") or source["path"], source["fingerprint"], made])
    return (["row source", "pairs file (as the bench file names it)", "sha256 (16)", "made by"], body) if body else None


def difference_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """Each row minus base-only on the same evaluation pairs (paired bootstrap 95% interval);
    None when the bench has no base-only row."""
    evals = list(results["eval_sets"])
    body = []
    for row, cells in results["table"].items():
        deltas = [(cells.get(e) or {}).get("vs_base") or {} for e in evals]
        if any(deltas):
            body.append([row] + [_delta(d) for d in deltas])
    return (["row"] + [f"Δ {e}" for e in evals], body) if body else None


def length_rows(results: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """Per row and evaluation set: the length-controlled accuracy (the mean of the accuracies
    where the longer response won and where it lost) and how often the model prefers the longer
    response, beside how often the human labels do; None when no row has them."""
    evals = list(results["eval_sets"])
    body = []
    for row, cells in results["table"].items():
        metrics = [(cells.get(e) or {}).get("length") for e in evals]
        if any(metrics):
            body.append([row] + [_length_cell(m) for m in metrics])
    return (["row"] + [f"{e}: length-controlled; prefers longer (labels)" for e in evals], body) if body else None


def _length_cell(m: dict[str, Any] | None) -> str:
    if not m:
        return "—"
    lc, model, labels = m["length_controlled"], m["length_agreement"], m["human_length_agreement"]
    acc = "n/a (n=0)" if lc["accuracy"] is None else f"{lc['accuracy']:.3f} [{lc['ci95'][0]:.3f}, {lc['ci95'][1]:.3f}]"
    if model["accuracy"] is None:
        return acc
    return f"{acc}; {model['accuracy']:.0%} ({labels['accuracy']:.0%})"


def length_cell(m: dict[str, Any]) -> str:
    """A method's pairs: the share where chosen is the longer response, and the median ratio."""
    length = m.get("length") or {}
    if length.get("share_chosen_longer") is None:
        return "—"
    return f"{length['share_chosen_longer']:.0%} (×{length['median_length_ratio']:.2f})"


def _delta(d: dict[str, Any]) -> str:
    if "delta" not in d:
        return "—"
    lo, hi = d["ci95"]
    mark = " *" if lo > 0 or hi < 0 else ""
    return f"{d['delta']:+.3f} [{lo:+.3f}, {hi:+.3f}]{mark}"


def _markdown(header: list[str], body: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in body])


def results_markdown(results: dict[str, Any]) -> str:
    lines = [_markdown(*rows(results))]
    cost = ["", "| method | prompts | pairs kept | chosen longer (median ratio) | failures | tokens in / out | wall time |",
            "|---|---|---|---|---|---|---|"]
    for key, m in results["methods"].items():
        failures = ", ".join(f"{k} {v}" for k, v in sorted(m["failures"].items())) or "—"
        cost.append(f"| {key} | {m['prompts']} | {m['pairs']} | {length_cell(m)} | {failures} | {tokens_cell(m)} | "
                    f"{wall_cell(m)} |")
    sources = source_rows(results)
    if sources:
        cost += ["", "Pairs read from files (not generated by this bench); their cost is their run record's:", "",
                 _markdown(*sources)]
    note = ("\nAccuracy: mean over RM seeds ± seed std, [bootstrap 95% interval over the evaluation pairs of the "
            "seed-averaged correctness]. Null baselines use no model.\n")
    if any((c.get("_mix") or {}).get("capped") for c in results["table"].values()):
        note += (f"\n{mix_note(results)}\n")
    diff = difference_rows(results)
    if diff:
        note += ("\nDifference from base-only on the same evaluation pairs (paired bootstrap 95% interval; "
                 "* = the interval excludes 0):\n\n" + _markdown(*diff) + "\n")
    length = length_rows(results)
    if length:
        note += ("\nLength: accuracy with length controlled (mean of the accuracies where the longer response won "
                 "and where it lost, 95% interval); how often the model prefers the longer response (how often the "
                 "human labels do):\n\n" + _markdown(*length) + "\n")
    return "\n".join(lines) + "\n" + note + "\n".join(cost) + "\n"


def mix_note(results: dict[str, Any]) -> str:
    """What a capped row and the base+human rows are."""
    base = (results.get("mix") or {}).get("base_pairs")
    text = (f"A base+ row adds its mix ratio × the {base} base pairs; *capped*: its source had fewer pairs, so it "
            "added all it had (of how many asked).")
    if results.get("human"):
        text += (" base+human adds as many human pairs of the same prompts as the largest base+method row of its "
                 "ratio (a seeded draw), so a smaller method row is compared with more human data than it added.")
    return text


def rich_table(results: dict[str, Any]) -> Table:
    return _rich(f"preflab bench: {results['name']}", *rows(results))


def rich_difference_table(results: dict[str, Any]) -> Table | None:
    """Each row minus base-only (paired 95% interval; * = excludes 0), or None."""
    diff = difference_rows(results)
    return _rich("difference from base-only, same evaluation pairs", *diff) if diff else None


def rich_length_table(results: dict[str, Any]) -> Table | None:
    """Length-controlled accuracy and the model's preference for the longer response, or None."""
    length = length_rows(results)
    return _rich("length: length-controlled accuracy; prefers the longer response (the labels do)", *length) if length else None


def _rich(title: str, header: list[str], body: list[list[str]]) -> Table:
    table = Table(title=title)
    for i, col in enumerate(header):
        table.add_column(col, justify="left" if i == 0 else "right")
    for r in body:
        table.add_row(*r)
    return table


def plot_results(results: dict[str, Any], path: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    evals = list(results["eval_sets"])
    names = list(results["table"]) + [f"null: {b}" for b in results["baselines"]]
    cells = {**results["table"], **{f"null: {b}": v for b, v in results["baselines"].items()}}
    fig, axes = plt.subplots(1, len(evals), figsize=(max(5, 1.2 + 0.7 * len(names)) * len(evals), 3.6), squeeze=False, dpi=100)
    for ax, ev in zip(axes[0], evals):
        acc = [cells[n].get(ev, {}).get("accuracy", np.nan) for n in names]
        ci = [cells[n].get(ev, {}).get("ci95", [np.nan, np.nan]) for n in names]
        err = np.array([[a - c[0], c[1] - a] for a, c in zip(acc, ci)]).T
        colors = ["#888888" if n.startswith("null") else "#4c72b0" if n == "base-only" else "#dd8452" for n in names]
        ax.bar(range(len(names)), acc, yerr=err, color=colors, capsize=3)
        ax.axhline(0.5, color="k", lw=0.7, ls="--")
        ax.set_xticks(range(len(names)))
        ax.set_xticklabels(names, rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0.3, 1.0)
        ax.set_title(f"{ev} (n={results['eval_sets'][ev]})", fontsize=9)
        ax.set_ylabel("pairwise accuracy")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def plot_length(results: dict[str, Any], path: Path) -> str | None:
    """Accuracy against the length ratio (log2 of chosen over rejected, in words), one panel per
    evaluation set and one line per row: a flat line judges quality, a rising one judges length.
    Bins without pairs are left out; None (no file) when no row has length metrics."""
    evals = [e for e in results["eval_sets"] if any((c.get(e) or {}).get("length") for c in results["table"].values())]
    if not evals:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(evals), figsize=(5.2 * len(evals), 3.6), squeeze=False, dpi=100)
    for ax, ev in zip(axes[0], evals):
        for row, cells in results["table"].items():
            bins = ((cells.get(ev) or {}).get("length") or {}).get("by_ratio") or []
            points = [(i, b["accuracy"]) for i, b in enumerate(bins) if b["n"]]
            if points:
                ax.plot(*zip(*points), marker="o", lw=1.2, label=row, color="#4c72b0" if row == "base-only" else None)
        labels = [_ratio_label(b) for b in bins]
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels(labels, fontsize=7, rotation=20)
        ax.axhline(0.5, color="k", lw=0.7, ls="--")
        ax.set_ylim(0, 1)
        ax.set_xlabel("log2 length ratio, chosen / rejected (n per bin in results.json)", fontsize=8)
        ax.set_ylabel("pairwise accuracy")
        ax.set_title(ev, fontsize=9)
    axes[0][-1].legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)


def _ratio_label(b: dict[str, Any]) -> str:
    lo, hi = b["lo"], b["hi"]  # an open end: infinite in memory, null in results.json
    if lo is None or lo == float("-inf"):
        return f"< {hi:g}"
    if hi is None or hi == float("inf"):
        return f">= {lo:g}"
    return f"{lo:g}..{hi:g}"


def plot_mix(results: dict[str, Any], path: Path) -> str | None:
    """Accuracy against the pairs added to the base, one panel per evaluation set and one line
    per source (each method, human), base-only at 0; a capped point (its source ran out of
    pairs) is drawn hollow. None (no file) unless the bench has several mix ratios."""
    points: dict[str, list[tuple[dict[str, Any], dict[str, Any]]]] = {}
    for cells in results["table"].values():
        mix = cells.get("_mix")
        if mix:
            points.setdefault(mix["from"], []).append((mix, cells))
    if len((results.get("mix") or {}).get("ratios") or []) < 2 or not points:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    evals = list(results["eval_sets"])
    base = results["table"].get("base-only", {})
    fig, axes = plt.subplots(1, len(evals), figsize=(5.4 * len(evals), 3.8), squeeze=False, dpi=100)
    for ax, ev in zip(axes[0], evals):
        start = (base.get(ev) or {}).get("accuracy")
        if start is not None:
            ax.axhline(start, color="#4c72b0", lw=0.8, ls=":", label="base-only")
        for source, series in points.items():
            series = sorted(series, key=lambda s: s[0]["ratio"])
            xs = [0] * (start is not None) + [m["added"] for m, _ in series]
            ys = [start] * (start is not None) + [(c.get(ev) or {}).get("accuracy") for _, c in series]
            style = {"color": "#222222", "lw": 2} if source == "human" else {}
            line, = ax.plot(xs, ys, marker="o", ms=4, label=f"base+{source}", **style)
            capped = [(m["added"], (c.get(ev) or {}).get("accuracy")) for m, c in series if m["capped"]]
            if capped:
                ax.plot(*zip(*capped), ls="none", marker="o", ms=8, mfc="white", color=line.get_color())
        ax.axhline(0.5, color="k", lw=0.7, ls="--")
        n_base = (results.get("mix") or {}).get("base_pairs")
        if n_base:
            top = ax.secondary_xaxis("top", functions=(lambda x, n=n_base: x / n, lambda r, n=n_base: r * n))
            top.set_xlabel("mix: pairs added per base pair", fontsize=8)
        ax.set_xlabel("pairs added to the base (hollow: capped, the source ran out)", fontsize=8)
        ax.set_ylabel("pairwise accuracy")
        ax.set_title(f"{ev} (n={results['eval_sets'][ev]})", fontsize=9)
    axes[0][-1].legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)
