"""``preflab generate METHOD``, ``preflab methods`` and ``preflab west-of-n-rounds``.

One subcommand per registered method; its options come from the method's config dataclass
(see :mod:`preflab.cli.options`), so ``preflab generate rmboost --help`` is always the truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from preflab.cli.options import ALL_RUN_OPTIONS, EXECUTOR_OPTIONS, LLM_OPTIONS, RunOptions, with_config_options, with_run_options
from preflab.methods.base import Method, methods
from preflab.methods.context import Lazy
from preflab.preflight import ALLOW_EMPTY, OVERWRITE

console = Console(stderr=True)
app = typer.Typer(help="Generate synthetic preference pairs with an LLM (one subcommand per method).",
                  no_args_is_help=True)

def _summary_table(name: str, result, out: str) -> Table:
    from preflab.generation import failure_reasons

    table = Table(title=f"preflab generate {name} → {out}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    usage = result.run.get("usage", {})
    rows = [("prompts", result.counts["prompts"]), ("pairs", result.counts["pairs"]),
            ("prompts resumed from a previous run", result.resumed)]
    rows += [(f"failed: {reason}", count) for reason, count in sorted(failure_reasons(result.counts).items())]
    length = result.run.get("length") or {}
    if length.get("share_chosen_longer") is not None:
        rows += [("chosen is the longer response", f"{length['share_chosen_longer']:.0%} of pairs"),
                 ("median length ratio chosen / rejected", f"{length['median_length_ratio']:.2f}")]
    total = usage.get("total", {})
    rows += [("tokens in / out", f"{total.get('prompt_tokens', 0)} / {total.get('completion_tokens', 0)}"),
             ("LLM calls (cache hits)", f"{total.get('calls', 0)} ({total.get('cached_calls', 0)})"),
             ("wall time", f"{result.wall_s:.1f} s")]
    if usage.get("cost") is not None:
        rows.append(("cost", f"{usage['cost']:.4f}"))
    for key, value in rows:
        table.add_row(key, str(value))
    return table


def example_prompts() -> Path:
    """The small prompt set shipped with preflab (written for it; see preflab/data)."""
    from importlib.resources import files

    return Path(str(files("preflab") / "data" / "example_prompts.txt"))


def _run(method: Method, *, prompts: Optional[Path], out: str, limit: Optional[int], config: Optional[Path],
         scorer: Optional[str], judge_llm: Optional[str], judge_criteria: Optional[str], run: RunOptions,
         config_flags: dict[str, Any], overwrite: bool = False, allow_empty: bool = False) -> None:
    from preflab.cli import preflights
    from preflab.generation import run_generation
    from preflab.llm.usage import BudgetExceeded

    prompts = prompts or example_prompts()
    cfg = preflights.generate(method, config, config_flags, prompts=prompts, out=out, llm=run.llm, judge_llm=judge_llm,
                              scorer=scorer, limit=limit, in_flight=run.in_flight,
                              max_tokens_budget=run.max_tokens_budget, max_cost=run.max_cost, overwrite=overwrite,
                              allow_empty=allow_empty)
    generator = run.open_llm()
    opened = [generator]

    def load_scorer():
        from preflab.rm.loading import load_scorer

        return load_scorer(scorer)

    def open_judge():
        from preflab.judges import JudgeConfig, PairwiseJudge

        backend = generator
        if judge_llm and judge_llm != run.llm:
            backend = run.open_llm(judge_llm)
            opened.append(backend)
        return PairwiseJudge(backend, JudgeConfig(**({"criteria": judge_criteria} if judge_criteria else {})))

    bar = Progress(TextColumn(f"Generating ({method.name})"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TimeRemainingColumn(), console=console)
    task = bar.add_task("prompts", total=None)

    def progress(done: int, total: int) -> None:
        if not bar.live.is_started:  # shown once the run is validated and under way
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        result = run_generation(prompts, out, method, cfg, generator, seed=run.seed,
                                scorer=Lazy(load_scorer) if scorer else None, judge=Lazy(open_judge),
                                limit=limit, in_flight=run.in_flight, progress=progress,
                                extra_run={"llm_spec": generator.spec, "executor": run.work_executor.record()})
    except BudgetExceeded as exc:
        raise BudgetExceeded(f"{exc}; finished prompts are kept in {out}.partial.jsonl — rerun the same "
                             "command with a larger budget to continue") from None
    finally:
        if bar.live.is_started:
            bar.stop()
        for model in opened:
            model.close()
    console.print(_summary_table(method.name, result, out))


def _command_for(method: Method):
    def command(
        prompts: Optional[Path] = typer.Option(None, "--prompts", "-p", help="Prompts: .txt (one per line), .jsonl/.parquet with a prompt column, or any pair file (default: preflab's 20 example prompts)."),
        out: str = typer.Option(..., "--out", "-o", help="Output pairs (.jsonl, .parquet or a datasets folder); also OUT.failures.jsonl and OUT.run.json."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N prompts."),
        config: Optional[Path] = typer.Option(None, "--config", help="YAML with the method's options (same keys as the flags)."),
        scorer: Optional[str] = typer.Option(None, "--scorer", help="Reward model folder (preflab train-rm output) for scorer-based methods."),
        judge_llm: Optional[str] = typer.Option(None, "--judge-llm", help="Judge LLM spec (default: the generator)."),
        judge_criteria: Optional[str] = typer.Option(None, "--judge-criteria", help="What 'better' means to the judge."),
        overwrite: bool = OVERWRITE, allow_empty: bool = ALLOW_EMPTY,
        run: RunOptions = RunOptions(),
        config_flags: dict[str, Any] | None = None,
    ) -> None:
        _run(method, prompts=prompts, out=out, limit=limit, config=config, scorer=scorer, judge_llm=judge_llm,
             judge_criteria=judge_criteria, run=run, config_flags=config_flags or {}, overwrite=overwrite,
             allow_empty=allow_empty)

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
    from preflab.cli import preflights
    from preflab.west_of_n_rounds import run_rounds

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
    from preflab.west_of_n_rounds import RoundsConfig

    root.add_typer(app, name="generate")
    root.command(name="methods")(list_methods)
    rounds = with_run_options(west_of_n_rounds, LLM_OPTIONS)  # the seed is the rounds' own option
    root.command(name="west-of-n-rounds")(with_config_options(rounds, RoundsConfig))
