"""``preflab generate METHOD``, ``preflab methods`` and ``preflab west-of-n-rounds``.

One subcommand per registered method; its options come from the method's config dataclass
(see :mod:`preflab.cli.options`), so ``preflab generate rmboost --help`` is always the truth.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.generate import GenerateOptions
from preflab.cli.command_options import with_command_options
from preflab.cli.options import ALL_RUN_OPTIONS, EXECUTOR_OPTIONS, LLM_OPTIONS, RunOptions, with_config_options, with_run_options
from preflab.methods.base import Method, methods
from preflab.api.preflight import OVERWRITE

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


def _command_for(method: Method):
    def command(
        prompts: Optional[Path] = typer.Option(None, "--prompts", "-p", help="Prompts: .txt (one per line), .jsonl/.parquet with a prompt column, or any pair file (default: preflab's 20 example prompts)."),
        out: str = typer.Option(..., "--out", "-o", help="Output pairs (.jsonl, .parquet or a datasets folder); also OUT.failures.jsonl and OUT.run.json."),
        run: RunOptions = RunOptions(),
        config_flags: dict[str, Any] | None = None,
        **options: Any,
    ) -> None:
        from preflab.api.generate import generate

        values = {f.name: getattr(run, f.name) for f in dataclasses.fields(run) if f.name != "llm"}
        pairs = generate(method.name, prompts, llm=run.llm, out=out, **values, **options, **(config_flags or {}))
        console.print(_summary_table(method.name, pairs, out))

    command = with_command_options(command, GenerateOptions)
    return with_config_options(with_run_options(command, ALL_RUN_OPTIONS + EXECUTOR_OPTIONS), method.config, method.defaults, name=method.name,
                               doc=f"{method.summary} Resumable: rerun the same command after a crash.")


for _method in methods().values():
    app.command(name=_method.name)(_command_for(_method))


def list_methods() -> None:
    """List the generation methods and what each needs."""
    table = Table(title="preflab methods")
    for column in ("method", "needs", "what it does"):
        table.add_column(column)
    for method in methods().values():
        table.add_row(method.name, method.describe_needs(), method.summary)
    Console().print(table)


def west_of_n_rounds(
    base: Path = typer.Option(..., "--base", help="Labelled pairs D_L (the base model's data)."),
    prompts: Path = typer.Option(..., "--prompts", "-p", help="Unlabelled prompts."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder: roundN/pairs.jsonl, roundN/model, rounds.json."),
    eval_pairs: Optional[Path] = typer.Option(None, "--eval", help="Labelled pairs to score every round's model on."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N prompts."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML with the same keys as the flags."),
    overwrite: bool = OVERWRITE,
    run: RunOptions = RunOptions(),
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Iterative West-of-N in one command: base model → pairs → student → next scorer, round after round."""
    from preflab import io
    from preflab.api import checks as preflights
    from preflab.pipelines.west_of_n_rounds import run_rounds

    cfg = preflights.west_of_n_rounds(config, config_flags or {}, base=base, prompts=prompts, out=out, llm=run.llm,
                                      eval_pairs=eval_pairs, limit=limit, overwrite=overwrite)
    labelled = list(io.read_pairs(base))
    held = list(io.read_pairs(eval_pairs)) if eval_pairs else None
    with run.open_llm() as model:
        summary = run_rounds(labelled, prompts, model, cfg, out, eval_pairs=held, limit=limit,
                             say=lambda m: console.print(m, highlight=False))
    table = Table(title=f"West-of-N rounds → {out}")
    for column in ("round", "synthetic pairs", "train pairs", "eval accuracy"):
        table.add_column(column, justify="right")
    for r in summary["rounds"]:
        acc = r["eval_accuracy"]
        table.add_row(str(r["round"]), str(r.get("synthetic_pairs", "—")), str(r["train_pairs"]),
                      "—" if acc is None else f"{acc:.3f}")
    Console().print(table)


def register(root: typer.Typer) -> None:
    from preflab.pipelines.west_of_n_rounds import RoundsConfig

    root.add_typer(app, name="generate")
    root.command(name="methods")(list_methods)
    rounds = with_run_options(west_of_n_rounds, LLM_OPTIONS)  # the seed is the rounds' own option
    root.command(name="west-of-n-rounds")(with_config_options(rounds, RoundsConfig))
