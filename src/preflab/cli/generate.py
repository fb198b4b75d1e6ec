"""``preflab generate METHOD``, ``preflab methods`` and ``preflab judge``.

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

from preflab.cli.options import with_config_options
from preflab.errors import ConfigError
from preflab.llm.spec import SPEC_HELP
from preflab.methods.base import Context, Method, methods
from preflab.preflight import ALLOW_EMPTY, OVERWRITE

console = Console(stderr=True)
app = typer.Typer(help="Generate synthetic preference pairs with an LLM (one subcommand per method).",
                  no_args_is_help=True)

LLM_HELP = "Generator. " + SPEC_HELP


def _open_llm(spec: str, cache: bool, cache_path: Optional[Path], max_tokens_budget: Optional[int],
              max_cost: Optional[float], prices: Optional[Path]):
    from preflab.llm.client import open_llm
    from preflab.llm.usage import PriceTable, Usage

    usage = Usage(prices=PriceTable.load(prices) if prices else None, max_tokens=max_tokens_budget, max_cost=max_cost)
    return open_llm(spec, cache=(cache_path or True) if cache else False, usage=usage)


def _summary_table(name: str, result, out: str) -> Table:
    from preflab.generation import failure_reasons

    table = Table(title=f"preflab generate {name} → {out}")
    table.add_column("measure")
    table.add_column("value", justify="right")
    usage = result.run.get("usage", {})
    rows = [("prompts", result.counts["prompts"]), ("pairs", result.counts["pairs"]),
            ("prompts resumed from a previous run", result.resumed)]
    rows += [(f"failed: {reason}", count) for reason, count in sorted(failure_reasons(result.counts).items())]
    total = usage.get("total", {})
    rows += [("tokens in / out", f"{total.get('prompt_tokens', 0)} / {total.get('completion_tokens', 0)}"),
             ("LLM calls (cache hits)", f"{total.get('calls', 0)} ({total.get('cached_calls', 0)})"),
             ("wall time", f"{result.wall_s:.1f} s")]
    if usage.get("cost") is not None:
        rows.append(("cost", f"{usage['cost']:.4f}"))
    for key, value in rows:
        table.add_row(key, str(value))
    return table


def _post_filter(method: Method, cfg: Any):
    quantile = getattr(cfg, "confidence_quantile", None)
    if quantile is None:
        return None
    from preflab.methods.west_of_n import keep_confident

    def keep(pairs):
        kept, cut = keep_confident(pairs, quantile)
        return kept, {"confidence_quantile": quantile, "confidence_cut": cut}

    return keep


def example_prompts() -> Path:
    """The small prompt set shipped with preflab (written for it; see preflab/data)."""
    from importlib.resources import files

    return Path(str(files("preflab") / "data" / "example_prompts.txt"))


def _run(method: Method, *, prompts: Optional[Path], llm: str, out: str, limit: Optional[int], seed: int, in_flight: int,
         config: Optional[Path], cache: bool, cache_path: Optional[Path], scorer: Optional[str],
         judge_llm: Optional[str], judge_criteria: Optional[str], max_tokens_budget: Optional[int],
         max_cost: Optional[float], prices: Optional[Path], config_flags: dict[str, Any],
         overwrite: bool = False, allow_empty: bool = False) -> None:
    from preflab.cli import preflights
    from preflab.generation import run_generation
    from preflab.llm.usage import BudgetExceeded

    prompts = prompts or example_prompts()
    cfg = preflights.generate(method, config, config_flags, prompts=prompts, out=out, llm=llm, judge_llm=judge_llm,
                              scorer=scorer, limit=limit, in_flight=in_flight, max_tokens_budget=max_tokens_budget,
                              max_cost=max_cost, overwrite=overwrite, allow_empty=allow_empty)
    generator = _open_llm(llm, cache, cache_path, max_tokens_budget, max_cost, prices)
    ctx = Context(llm=generator, seed=seed)
    if scorer:
        from preflab.rm.scorer import load_scorer

        ctx.scorer = load_scorer(scorer)
    needs_judge = method.name == "rlaif" or getattr(cfg, "mode", None) == "pairwise"
    if needs_judge or judge_llm:
        from preflab.judges import JudgeConfig, PairwiseJudge

        judge_backend = generator if not judge_llm or judge_llm == llm else _open_llm(
            judge_llm, cache, cache_path, max_tokens_budget, max_cost, prices)
        ctx.judge = PairwiseJudge(judge_backend, JudgeConfig(**({"criteria": judge_criteria} if judge_criteria else {})))
    if getattr(cfg, "min_mean_logprob", None) is not None and not generator.backend.supports_loglikelihood:
        raise ConfigError(f"--min-mean-logprob needs the generator's log-likelihoods, which {llm} cannot give; "
                          "use the llamacpp or hf backend")
    with Progress(TextColumn(f"Generating ({method.name})"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=console) as bar:
        task = bar.add_task("prompts", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        try:
            result = run_generation(prompts, out, method, cfg, ctx, limit=limit, in_flight=in_flight,
                                    post_filter=_post_filter(method, cfg), progress=progress,
                                    extra_run={"llm_spec": generator.spec})
        except BudgetExceeded as exc:
            raise BudgetExceeded(f"{exc}; finished prompts are kept in {out}.partial.jsonl — rerun the same "
                                 "command with a larger budget to continue") from None
        finally:
            generator.close()
    console.print(_summary_table(method.name, result, out))


def _command_for(method: Method):
    def command(
        prompts: Optional[Path] = typer.Option(None, "--prompts", "-p", help="Prompts: .txt (one per line), .jsonl/.parquet with a prompt column, or any pair file (default: preflab's 20 example prompts)."),
        llm: str = typer.Option("llamacpp", "--llm", help=LLM_HELP),
        out: str = typer.Option(..., "--out", "-o", help="Output pairs (.jsonl, .parquet or a datasets folder); also OUT.failures.jsonl and OUT.run.json."),
        limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N prompts."),
        seed: int = typer.Option(0, "--seed", help="Seed of every draw and sample."),
        in_flight: int = typer.Option(8, "--in-flight", help="Prompts worked on at once (keeps a server busy)."),
        config: Optional[Path] = typer.Option(None, "--config", help="YAML with the method's options (same keys as the flags)."),
        cache: bool = typer.Option(True, "--cache/--no-cache", help="Reuse finished LLM calls (reruns and resumes are free)."),
        cache_path: Optional[Path] = typer.Option(None, "--cache-path", help="SQLite call cache (default: the user cache folder)."),
        scorer: Optional[str] = typer.Option(None, "--scorer", help="Reward model folder (preflab train-rm output) for scorer-based methods."),
        judge_llm: Optional[str] = typer.Option(None, "--judge-llm", help="Judge LLM spec (default: the generator)."),
        judge_criteria: Optional[str] = typer.Option(None, "--judge-criteria", help="What 'better' means to the judge."),
        max_tokens_budget: Optional[int] = typer.Option(None, "--max-tokens-budget", help="Stop cleanly after this many tokens."),
        max_cost: Optional[float] = typer.Option(None, "--max-cost", help="Stop cleanly after this cost (needs --prices)."),
        prices: Optional[Path] = typer.Option(None, "--prices", help="YAML/JSON price table per 1M tokens."),
        overwrite: bool = OVERWRITE, allow_empty: bool = ALLOW_EMPTY,
        config_flags: dict[str, Any] | None = None,
    ) -> None:
        _run(method, prompts=prompts, llm=llm, out=out, limit=limit, seed=seed, in_flight=in_flight, config=config,
             cache=cache, cache_path=cache_path, scorer=scorer, judge_llm=judge_llm, judge_criteria=judge_criteria,
             max_tokens_budget=max_tokens_budget, max_cost=max_cost, prices=prices, config_flags=config_flags or {},
             overwrite=overwrite, allow_empty=allow_empty)

    return with_config_options(command, method.config, method.defaults, name=method.name,
                               doc=f"{method.summary} Resumable: rerun the same command after a crash.")


for _method in methods().values():
    app.command(name=_method.name)(_command_for(_method))


def list_methods() -> None:
    """List the generation methods and what each needs."""
    table = Table(title="preflab methods")
    for column in ("method", "needs", "what it does"):
        table.add_column(column)
    for method in methods().values():
        needs = method.needs if not callable(method.needs) else "scorer (pointwise) or judge (pairwise)"
        table.add_row(method.name, ", ".join(needs) if isinstance(needs, tuple) else needs, method.summary)
    Console().print(table)


def west_of_n_rounds(
    base: Path = typer.Option(..., "--base", help="Labelled pairs D_L (the base model's data)."),
    prompts: Path = typer.Option(..., "--prompts", "-p", help="Unlabelled prompts."),
    out: Path = typer.Option(..., "--out", "-o", help="Folder: roundN/pairs.jsonl, roundN/model, rounds.json."),
    llm: str = typer.Option("llamacpp", "--llm", help=LLM_HELP),
    eval_pairs: Optional[Path] = typer.Option(None, "--eval", help="Labelled pairs to score every round's model on."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use only the first N prompts."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML with the same keys as the flags."),
    overwrite: bool = OVERWRITE,
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Iterative West-of-N in one command: base model → pairs → student → next scorer, round after round."""
    from preflab import io
    from preflab.cli import preflights
    from preflab.llm.client import open_llm
    from preflab.west_of_n_rounds import run_rounds

    cfg = preflights.west_of_n_rounds(config, config_flags or {}, base=base, prompts=prompts, out=out, llm=llm,
                                      eval_pairs=eval_pairs, limit=limit, overwrite=overwrite)
    labelled = list(io.read_pairs(base))
    held = list(io.read_pairs(eval_pairs)) if eval_pairs else None
    with open_llm(llm, cache=True) as model:
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
    root.command(name="west-of-n-rounds")(with_config_options(west_of_n_rounds, RoundsConfig))
