"""``preflab generate METHOD``, ``preflab methods`` and ``preflab west-of-n-rounds``.

One subcommand per registered method; its flags come from the method's config dataclass and
the options of :func:`preflab.generate` (:mod:`preflab.cli.adapter`), so
``preflab generate rmboost --help`` is always the truth.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.generate import GenerateOptions, generate
from preflab.api.options import ExecutorOptions, LLMOptions
from preflab.api.rounds import RoundsOptions, west_of_n_rounds
from preflab.cli.adapter import command
from preflab.methods.base import Method, methods
from preflab.pipelines.west_of_n_rounds import RoundsConfig

console = Console(stderr=True)
app = typer.Typer(help="Generate synthetic preference pairs with an LLM (one subcommand per method).",
                  no_args_is_help=True)


def _summary_table(name: str, pairs, out: str) -> Table:
    from preflab.pipelines.generation import failure_reasons

    table = Table(title=f"preflab generate {name} → {out}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    info = pairs.info
    usage = pairs.usage
    rows = [("prompts", info["counts"]["prompts"]), ("pairs", info["counts"]["pairs"]),
            ("prompts resumed from a previous run", info["resumed"])]
    rows += [(f"failed: {reason}", count) for reason, count in sorted(failure_reasons(info["counts"]).items())]
    length = pairs.run.get("length") or {}
    if length.get("share_chosen_longer") is not None:
        rows += [("chosen is the longer response", f"{length['share_chosen_longer']:.0%} of pairs"),
                 ("median length ratio chosen / rejected", f"{length['median_length_ratio']:.2f}")]
    total = usage.get("total", {})
    rows += [("tokens in / out", f"{total.get('prompt_tokens', 0)} / {total.get('completion_tokens', 0)}"),
             ("LLM calls (cache hits)", f"{total.get('calls', 0)} ({total.get('cached_calls', 0)})"),
             ("wall time", f"{info['wall_s']:.1f} s")]
    if usage.get("cost") is not None:
        rows.append(("cost", f"{usage['cost']:.4f}"))
    for key, value in rows:
        table.add_row(key, str(value))
    return table


def _register_method(method: Method) -> None:
    def body(**options: Any) -> None:
        pairs = generate(method.name, **options)
        console.print(_summary_table(method.name, pairs, str(options["out"])))

    command(app, method.name, body, method.config, GenerateOptions, LLMOptions, ExecutorOptions, required=("out",),
            shown=method.defaults, help=f"{method.summary} Resumable: rerun the same command after a crash.")


for _method in methods().values():
    _register_method(_method)


def list_methods() -> None:
    """List the generation methods and what each needs."""
    table = Table(title="preflab methods")
    for column in ("method", "needs", "what it does"):
        table.add_column(column)
    for method in methods().values():
        table.add_row(method.name, method.describe_needs(), method.summary)
    Console().print(table)


def rounds(**options: Any) -> None:
    """Iterative West-of-N in one command: base model → pairs → student → next scorer, round after round."""
    summary = west_of_n_rounds(say=lambda m: console.print(m, highlight=False), **options)
    table = Table(title=f"West-of-N rounds → {options['out']}")
    for column in ("round", "synthetic pairs", "train pairs", "eval accuracy"):
        table.add_column(column, justify="right")
    for r in summary["rounds"]:
        acc = r["eval_accuracy"]
        table.add_row(str(r["round"]), str(r.get("synthetic_pairs", "—")), str(r["train_pairs"]),
                      "—" if acc is None else f"{acc:.3f}")
    Console().print(table)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="generate")
    root.command(name="methods")(list_methods)
    command(root, "west-of-n-rounds", rounds, RoundsOptions, RoundsConfig, LLMOptions,
            required=("base", "prompts", "out"))
