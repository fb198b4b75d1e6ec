"""``preflab train-rm``, ``preflab score``, ``preflab eval``: thin wrappers over
:mod:`preflab.rm` and :mod:`preflab.evaluation`.

The training flags are generated from :class:`preflab.rm.config.TrainConfig` (its field help is
the flag help), so the YAML keys of ``--config`` and the flags cannot drift apart. Precedence:
defaults < ``--config file.yaml`` < flags given on the command line.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from preflab.cli.options import FORMAT_HELP, RunOptions
from preflab.errors import InputError
from preflab.preflight import OVERWRITE

console = Console()
log = logging.getLogger(__name__)


def _read(path: str, fmt: str, degenerate: bool = False, counts: dict | None = None) -> list:
    """All pairs of ``path``; ``degenerate`` applies io.DEGENERATE_RULE, counted in ``counts``."""
    from preflab import io

    report = io.ReadReport()
    pairs = list(io.read_pairs(path, fmt, degenerate=degenerate, report=report))
    if counts is not None:
        counts.update(io.degenerate_counts(report))
    if not pairs:
        raise InputError("no preference pairs in the file", path=path)
    return pairs


def _degenerate_note(counts: dict) -> str:
    return (f"{counts.get('empty_response', 0)} with an empty response (kept), "
            f"{counts.get('identical_skipped', 0)} with identical responses (skipped)")


def train_rm(
    input: str = typer.Argument(..., help="Training pairs (any format preflab reads)."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    val: Optional[str] = typer.Option(None, "--val", help="Validation pairs (else --val-fraction of the input)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file with the same keys as the flags."),
    metrics: Optional[Path] = typer.Option(None, "--metrics", help="Metrics JSONL (default: OUTPUT_DIR.metrics.jsonl)."),
    cheap: bool = typer.Option(False, "--cheap", help="Train the frozen-embedding head instead of fine-tuning (seconds on CPU): the embed-head recipe, with the options it shares (max length, lr, epochs, loss options); others are refused."),
    lenient: bool = typer.Option(False, "--lenient", help="Train on real data with degenerate rows: pairs with an empty "
                                 "response are kept (an empty reply is a real, worse answer), pairs with identical "
                                 "responses are skipped; both are counted."),
    overwrite: bool = OVERWRITE,
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Train a reward model on preference pairs (fine-tuned, or --cheap: frozen-embedding head)."""
    from preflab.cli import preflights
    from preflab.rm.recipes import train_scorer

    recipe, output_dir = preflights.train_rm(input, val, metrics, config, config_flags or {}, cheap=cheap,
                                             overwrite=overwrite)
    counts: dict = {}
    pairs = _read(input, fmt, lenient, counts)
    val_pairs = _read(val, fmt, lenient) if val else None
    if lenient:
        console.print(f"degenerate rows: {_degenerate_note(counts)}")
    trained = train_scorer(pairs, recipe, output_dir=output_dir, val_pairs=val_pairs, inputs={"pairs": input, **({"val": val} if val else {})},
                           metrics_path=(metrics or Path(output_dir + ".metrics.jsonl")) if recipe.recipe == "finetune" else None)
    acc = "-" if trained.val_accuracy is None else f"{trained.val_accuracy:.3f}"
    speed = f", {trained.result.pairs_per_second:.2f} pairs/s" if trained.result is not None else ""
    console.print(f"saved {recipe.recipe} RM to {trained.path}: {len(pairs)} pairs{speed}, best val accuracy {acc}")


def score(
    model: str = typer.Argument(..., help="A model folder saved by train-rm."),
    input: str = typer.Argument(..., help="Pairs, or JSONL rows with 'prompt' and a 'responses' list."),
    output: Path = typer.Option(..., "--output", "-o", help="Pairs with chosen_score/rejected_score, or rows with 'scores'."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    batch_size: int = typer.Option(16, "--batch-size", help="Sequences per forward pass."),
    normalize: bool = typer.Option(False, "--normalize/--raw", help="(r - mean)/std with the statistics saved at training."),
    sort: bool = typer.Option(True, "--sort/--no-sort", help="Length-sorted batches (much faster on CPU)."),
    overwrite: bool = OVERWRITE,
    run: RunOptions = RunOptions(),
) -> None:
    """Write rewards for pairs, or for a prompt and many responses. Degenerate rows of real
    data: pairs with an empty response are scored (an empty reply is a real, worse answer);
    pairs whose two responses are identical cannot be decided and are skipped. Both are counted."""
    from preflab.cli import preflights
    from preflab.executor.llm import load_scorer_on

    preflights.score(model, input, output, batch_size=batch_size, overwrite=overwrite)

    executor = run.work_executor
    scorer = load_scorer_on(executor, model, batch_size=batch_size, normalize=normalize, sort=sort)
    try:
        _score_file(scorer, model, input, output, fmt, {"batch_size": batch_size, "normalize": normalize, "sort": sort,
                                                        "executor": executor.record()})
    finally:
        if hasattr(scorer, "close"):
            scorer.close()


def _score_file(scorer, model: str, input: str, output: Path, fmt: str, settings: dict[str, Any]) -> None:
    rows = _multi_response_rows(input)
    if rows is not None:
        n = _score_many(scorer, rows, output, input)
        _score_record(output, model, input, settings, {"prompts": len(rows), "responses": n})
        return
    from preflab import io
    from preflab.cli.scoring_progress import score_pairs_with_progress

    counts: dict = {}
    pairs = _read(input, fmt, True, counts)
    rewards = score_pairs_with_progress(scorer, pairs)
    scored = [p.model_copy(update={"chosen_score": c, "rejected_score": r}) for p, (c, r) in zip(pairs, rewards)]
    n = io.write_pairs(scored, output)
    _score_record(output, model, input, {"format": fmt, **settings}, {"pairs": n, "degenerate_rows": counts})
    console.print(f"scored {n} pairs → {output}; degenerate rows: {_degenerate_note(counts)}")


def _score_record(output: Path, model: str, input: str, settings: dict[str, Any], counts: dict[str, Any]) -> None:
    from preflab.provenance import run_record, sidecar, write_run_json

    write_run_json(sidecar(output), run_record("score", settings, inputs={"model": model, "input": input}, counts=counts,
                                               seed=None))


def _multi_response_rows(path: str) -> list[dict] | None:
    name = Path(path).name.lower()
    if not name.endswith((".jsonl", ".jsonl.gz")):
        return None
    from preflab.io import containers

    first = next(containers.iter_rows(path), None)
    if first is None or "responses" not in first[1]:
        return None
    return [row for _, row in containers.iter_rows(path)]


def _score_many(scorer, rows: list[dict], output: Path, path: str) -> int:
    from preflab.cli.scoring_progress import score_with_progress
    from preflab.io import containers
    from preflab.records import text_prompt

    items, spans = [], []
    for i, row in enumerate(rows):
        prompt = row.get("prompt")
        if not isinstance(row.get("responses"), list) or prompt is None:
            raise InputError("expected 'prompt' and a list 'responses'", path=path, line=i + 1)
        msgs = text_prompt(prompt) if isinstance(prompt, str) else _messages(prompt, path, i)
        spans.append((len(items), len(items) + len(row["responses"])))
        items += [(msgs, str(r)) for r in row["responses"]]
    flat = score_with_progress(scorer, items)
    out = [{**row, "scores": flat[a:b]} for row, (a, b) in zip(rows, spans)]
    containers.write_jsonl(out, output)
    console.print(f"scored {len(items)} responses of {len(rows)} prompts → {output}")
    return len(items)


def _messages(prompt: Any, path: str, i: int):
    from preflab.records import Message

    try:
        return [Message(**m) for m in prompt]
    except Exception:  # noqa: BLE001 - any malformed message is the same input error
        raise InputError("prompt must be text or a list of {role, content} messages", path=path, line=i + 1) from None


def eval_cmd(
    model: str = typer.Argument(..., help="A model folder saved by train-rm."),
    input: str = typer.Argument(..., help="Held-out human preference pairs."),
    output_dir: Path = typer.Option(..., "--output-dir", "-o", help="Where eval.json and reliability.png go."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    batch_size: int = typer.Option(16, "--batch-size", help="Sequences per forward pass."),
    n_boot: int = typer.Option(2000, "--bootstrap", help="Bootstrap resamples for the 95% interval."),
    seed: int = typer.Option(0, "--seed", help="Bootstrap seed."),
    overwrite: bool = OVERWRITE,
) -> None:
    """Pairwise accuracy (95% CI), per category, high-confidence subset, calibration, baselines.
    Degenerate rows of real evaluation sets: pairs with an empty response are scored (an empty
    reply is a real, worse answer); pairs whose two responses are identical cannot be decided
    and are skipped. Both are counted in eval.json ("degenerate_rows") and the summary."""
    from preflab.cli import preflights
    from preflab.evaluation.report import evaluate_pairs, length_rows, table_rows, write_report

    preflights.eval_cmd(model, input, output_dir, batch_size=batch_size, n_boot=n_boot, overwrite=overwrite)
    from preflab.cli.scoring_progress import score_pairs_with_progress
    from preflab.rm.loading import load_scorer

    counts: dict = {}
    pairs = _read(input, fmt, True, counts)
    scorer = load_scorer(model, batch_size=batch_size)
    result = evaluate_pairs(pairs, score_pairs_with_progress(scorer, pairs), n_boot=n_boot, seed=seed)
    result["model_path"], result["input"], result["degenerate_rows"] = model, input, counts
    files = write_report(result, output_dir)
    from preflab.provenance import run_record, write_run_json

    write_run_json(output_dir / "run.json", run_record(
        "eval", {"format": fmt, "batch_size": batch_size, "bootstrap": n_boot}, inputs={"model": model, "input": input},
        counts={"pairs": len(pairs), "accuracy": result["model"]["accuracy"]}, seed=seed))
    table = Table(title=f"{Path(model).name} on {Path(input).name}")
    for col in ("scorer", "pairs", "accuracy", "95% CI", "high-confidence"):
        table.add_column(col, justify="left" if col == "scorer" else "right")
    for row in table_rows(result):
        table.add_row(*row)
    console.print(table)
    m = result["model"]
    console.print(f"ECE {m['calibration']['ece']:.3f}; mean Δ {m['gap']['mean']:.3f}; Δ<0 on {m['gap']['share_negative']:.1%} of pairs")
    if "by_category" in m and len(m["by_category"]) > 1:
        console.print(_rows_table("By category", "category", [
            (name, str(r["n"]), f"{r['accuracy']:.3f}", f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]")
            for name, r in m["by_category"].items()]))
    console.print(_rows_table("Length (words)", "measure", length_rows(result), "accuracy or share"))
    console.print(f"degenerate rows: {_degenerate_note(counts)}")
    console.print(f"wrote {files['json']} and {files['png']}")


def _rows_table(title: str, first: str, rows: list[tuple[str, ...]], value: str = "accuracy") -> Table:
    table = Table(title=title)
    for col in (first, "pairs", value, "95% CI"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    return table


def register(app: typer.Typer) -> None:
    """Add the top-level reward-model commands to the ``preflab`` app."""
    from preflab.cli.options import EXECUTOR_OPTIONS, with_config_options, with_run_options
    from preflab.rm.config import TrainConfig

    app.command("train-rm")(with_config_options(train_rm, TrainConfig))
    app.command("score")(with_run_options(score, EXECUTOR_OPTIONS))
    app.command("eval")(eval_cmd)


__all__ = ["register", "train_rm"]
