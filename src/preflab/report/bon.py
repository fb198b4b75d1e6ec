"""Best-of-N results as tables (markdown, or rows for rich and HTML) and one plot: the gold
score of each pick against N beside the random and oracle picks, and the win rates of one
RM's picks over another's. Shared by ``preflab bon`` and the ``bon:`` part of a bench report.

The input is what :func:`preflab.evaluation.best_of_n.bon_curves` returns plus ``wins``,
``ns``, ``prompts`` and ``gold`` (``results.json`` of ``preflab bon``; ``results["bon"]`` of a bench).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _cell(c: dict[str, Any] | None, key: str = "mean") -> str:
    if not c or key not in c:
        return "—"
    lo, hi = c["ci95"]
    spread = f" ±{c['seed_std']:.3f}" if c.get("seeds", 0) > 1 else ""
    return f"{c[key]:.3f}{spread} [{lo:.3f}, {hi:.3f}]"


def _delta(d: dict[str, Any] | None) -> str:
    if not d or "delta" not in d:
        return "—"
    lo, hi = d["ci95"]
    return f"{d['delta']:+.3f} [{lo:+.3f}, {hi:+.3f}]" + (" *" if lo > 0 or hi < 0 else "")


def _ks(bon: dict[str, Any]) -> list[str]:
    return [str(k) for k in bon["ns"]]


def gold_rows(bon: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Gold score of each RM's pick per N, then the random and oracle picks and the KL of best-of-N."""
    ks = _ks(bon)
    header = ["pick"] + [f"N={k}" for k in ks]
    body = [[label] + [_cell(cells.get(k)) for k in ks] for label, cells in bon["curves"].items()]
    body.append(["null: random pick"] + [_cell(bon["random"].get(k)) for k in ks])
    body.append(["oracle: the gold scorer's best"] + [_cell(bon["oracle"].get(k)) for k in ks])
    body.append(["KL of best-of-N (nats)"] + [f"{bon['kl_nats'][k]:.2f}" for k in ks])
    return header, body


def gain_rows(bon: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    """Each RM's gold score minus the random pick's, on the same subsets (paired interval)."""
    ks = _ks(bon)
    return (["pick"] + [f"Δ N={k}" for k in ks],
            [[label] + [_delta((cells.get(k) or {}).get("vs_random")) for k in ks] for label, cells in bon["curves"].items()])


def win_rows(bon: dict[str, Any]) -> tuple[list[str], list[list[str]]] | None:
    """The win rate of A's pick over B's per N (paired interval; the share of ties), or None."""
    wins = bon.get("wins") or {}
    if not wins:
        return None
    ks = _ks(bon)

    def cell(c: dict[str, Any] | None) -> str:
        text = _cell(c, "win_rate")
        return text if text == "—" else f"{text}{' *' if c['ci95'][0] > 0.5 or c['ci95'][1] < 0.5 else ''} (ties {c['ties']:.0%})"

    return ["win rate"] + [f"N={k}" for k in ks], [[name] + [cell(cells.get(k)) for k in ks] for name, cells in wins.items()]


def gold_text(bon: dict[str, Any]) -> str:
    gold = bon.get("gold") or {}
    if gold.get("kind") == "judge":
        judge = gold.get("judge") or {}
        return (f"the LLM judge {judge.get('backend', '')}:{judge.get('model', '')} (its P(sample ≻ an independent "
                "policy sample), asked in both orders)")
    return f"the reward model {gold.get('path') or gold.get('label', 'gold')}"


def _markdown(header: list[str], body: list[list[str]]) -> str:
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in body])


def bon_markdown(bon: dict[str, Any], heading: str = "") -> str:
    """The three tables with a line on how to read them."""
    seeds = " ± seed std" if any(c.get("seeds", 0) > 1 for cells in bon["curves"].values() for c in cells.values()) else ""
    parts = [heading] if heading else []
    parts.append(f"Best-of-N on {bon['prompts']} prompts, {bon['n']} samples each, {bon['subsets']} seeded nested "
                 f"subsets per prompt; gold: {gold_text(bon)}. Gold score of the pick: mean{seeds} [bootstrap 95% "
                 "interval over prompts].\n")
    parts.append(_markdown(*gold_rows(bon)))
    parts.append("\nGain over the random pick on the same subsets (paired 95% interval; * = excludes 0):\n")
    parts.append(_markdown(*gain_rows(bon)))
    wins = win_rows(bon)
    if wins:
        parts.append("\nWin rate of one pick over the other, judged by the gold scorer (paired 95% interval over "
                     "prompts; * = excludes 0.5; ties: the same response or equal gold scores):\n")
        parts.append(_markdown(*wins))
    return "\n".join(parts) + "\n"


def rich_tables(bon: dict[str, Any]) -> list:
    """The three tables for a terminal (rich)."""
    from rich.table import Table

    def table(title: str, header: list[str], body: list[list[str]]) -> Table:
        out = Table(title=title)
        for i, column in enumerate(header):
            out.add_column(column, justify="left" if i == 0 else "right")
        for row in body:
            out.add_row(*row)
        return out

    tables = [table(f"best-of-N: gold score of the pick ({gold_text(bon)}; {bon['prompts']} prompts)", *gold_rows(bon)),
              table("gain over the random pick (paired 95% interval; * excludes 0)", *gain_rows(bon))]
    wins = win_rows(bon)
    if wins:
        tables.append(table("win rate of one pick over the other (paired 95% interval)", *wins))
    return tables


def plot_bon(bon: dict[str, Any], path: Path) -> str:
    """Gold score against N (log scale) with 95% bands: one line per RM, the random pick
    dashed, the oracle dotted; and, when there are any, the win rates against N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [int(k) for k in _ks(bon)]
    wins = bon.get("wins") or {}
    fig, axes = plt.subplots(1, 2 if wins else 1, figsize=(10.4 if wins else 5.4, 3.8), squeeze=False, dpi=100)
    ax = axes[0][0]

    def line(ax, cells: dict[str, Any], key: str, label: str, band: bool = True, **style: Any) -> None:
        points = [(k, cells[str(k)]) for k in ks if key in (cells.get(str(k)) or {})]
        if not points:
            return
        x = [k for k, _ in points]
        ax.plot(x, [c[key] for _, c in points], marker="o", ms=3, lw=1.4, label=label, **style)
        if band:
            ax.fill_between(x, [c["ci95"][0] for _, c in points], [c["ci95"][1] for _, c in points], alpha=0.12,
                            color=ax.lines[-1].get_color())

    for label, cells in bon["curves"].items():
        line(ax, cells, "mean", label)
    line(ax, bon["random"], "mean", "random pick", band=False, color="#888888", ls="--")
    line(ax, bon["oracle"], "mean", "oracle (gold's best)", band=False, color="#222222", ls=":")
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.set_xlabel("N (samples the pick is made from)")
    ax.set_ylabel("gold score of the pick")
    ax.set_title(f"best-of-N, {bon['prompts']} prompts (95% intervals)", fontsize=9)
    ax.legend(fontsize=7)
    if wins:
        ax = axes[0][1]
        for name, cells in wins.items():
            line(ax, cells, "win_rate", name)
        ax.axhline(0.5, color="k", lw=0.7, ls="--")
        ax.set_xscale("log", base=2)
        ax.set_xticks(ks, [str(k) for k in ks])
        ax.set_ylim(0, 1)
        ax.set_xlabel("N")
        ax.set_ylabel("win rate (gold scorer)")
        ax.set_title("one pick over the other (paired 95% intervals)", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return str(path)
