"""``preflab train-rm``, ``preflab score``, ``preflab eval``: thin wrappers over
:mod:`preflab.rm` and :mod:`preflab.evaluate`.

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

from preflab.errors import InputError

console = Console()
log = logging.getLogger(__name__)

FORMAT_HELP = "Input layout: auto, pairs (preflab/TRL), hh-rlhf, pandalm."


def _read(path: str, fmt: str) -> list:
    from preflab import io

    pairs = list(io.read_pairs(path, fmt))
    if not pairs:
        raise InputError("no preference pairs in the file", path=path)
    return pairs


def train_rm(
    input: str = typer.Argument(..., help="Training pairs (any format preflab reads)."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    val: Optional[str] = typer.Option(None, "--val", help="Validation pairs (else --val-fraction of the input)."),
    config: Optional[Path] = typer.Option(None, "--config", help="YAML file with the same keys as the flags."),
    metrics: Optional[Path] = typer.Option(None, "--metrics", help="Metrics JSONL (default: OUTPUT_DIR.metrics.jsonl)."),
    cheap: bool = typer.Option(False, "--cheap", help="Train the frozen-embedding head instead of fine-tuning (seconds on CPU): the embed-head recipe, with the options it shares (max length, lr, epochs, loss options); others are refused."),
    config_flags: dict[str, Any] | None = None,
) -> None:
    """Train a reward model on preference pairs (fine-tuned, or --cheap: frozen-embedding head)."""
    from preflab.rm.recipes import train_scorer

    recipe, output_dir = _recipe(config, config_flags or {}, cheap)
    pairs = _read(input, fmt)
    val_pairs = _read(val, fmt) if val else None
    trained = train_scorer(pairs, recipe, output_dir=output_dir, val_pairs=val_pairs, inputs={"pairs": input, **({"val": val} if val else {})},
                           metrics_path=(metrics or Path(output_dir + ".metrics.jsonl")) if recipe.recipe == "finetune" else None)
    acc = "-" if trained.val_accuracy is None else f"{trained.val_accuracy:.3f}"
    speed = f", {trained.result.pairs_per_second:.2f} pairs/s" if trained.result is not None else ""
    console.print(f"saved {recipe.recipe} RM to {trained.path}: {len(pairs)} pairs{speed}, best val accuracy {acc}")


def _recipe(config: Path | None, flags: dict[str, Any], cheap: bool):
    """The recipe from the options given (config file < flags; unset ones keep the recipe's own
    defaults, so ``--cheap`` honours every option it shares with fine-tuning) and the output
    folder; every problem is reported at once, before any data is read."""
    from preflab.config import load_yaml
    from preflab.errors import ConfigError
    from preflab.rm.config import RecipeConfig

    given = {**(load_yaml(config) if config else {}), **{k: v for k, v in flags.items() if v is not None}}
    output_dir = given.pop("output_dir", None)
    name = given.pop("recipe", None)
    if cheap and name not in (None, "embed-head"):
        raise ConfigError(f"--cheap trains the embed-head recipe; the config file asks for recipe {name!r}")
    recipe = RecipeConfig.from_dict({"recipe": "embed-head" if cheap else name or "finetune", **given})
    if not output_dir:
        raise InputError("no output folder: pass --output-dir DIR (or output_dir in the config file)")
    return recipe, str(output_dir)


def score(
    model: str = typer.Argument(..., help="A model folder saved by train-rm."),
    input: str = typer.Argument(..., help="Pairs, or JSONL rows with 'prompt' and a 'responses' list."),
    output: Path = typer.Option(..., "--output", "-o", help="Pairs with chosen_score/rejected_score, or rows with 'scores'."),
    fmt: str = typer.Option("auto", "--format", "-f", help=FORMAT_HELP),
    batch_size: int = typer.Option(16, "--batch-size", help="Sequences per forward pass."),
    normalize: bool = typer.Option(False, "--normalize/--raw", help="(r - mean)/std with the statistics saved at training."),
    sort: bool = typer.Option(True, "--sort/--no-sort", help="Length-sorted batches (much faster on CPU)."),
) -> None:
    """Write rewards for pairs, or for a prompt and many responses."""
    from preflab.rm.loading import load_scorer

    scorer = load_scorer(model, batch_size=batch_size, normalize=normalize, progress=True)
    if hasattr(scorer, "sort_by_length"):
        scorer.sort_by_length = sort
    rows = _multi_response_rows(input)
    if rows is not None:
        n = _score_many(scorer, rows, output, input)
        _score_record(output, model, input, {"batch_size": batch_size, "normalize": normalize, "sort": sort},
                      {"prompts": len(rows), "responses": n})
        return
    from preflab import io
    from preflab.rm.scorer import score_pairs

    pairs = _read(input, fmt)
    rewards = score_pairs(scorer, pairs)
    scored = [p.model_copy(update={"chosen_score": c, "rejected_score": r}) for p, (c, r) in zip(pairs, rewards)]
    n = io.write_pairs(scored, output)
    _score_record(output, model, input, {"format": fmt, "batch_size": batch_size, "normalize": normalize, "sort": sort},
                  {"pairs": n})
    console.print(f"scored {n} pairs → {output}")


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
    flat = scorer.score_many(items) if hasattr(scorer, "score_many") else [s for m, r in items for s in scorer.score(m, [r])]
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
) -> None:
    """Pairwise accuracy (95% CI), per category, high-confidence subset, calibration, baselines."""
    from preflab.evaluate.report import evaluate_pairs, table_rows, write_report
    from preflab.rm.loading import load_scorer
    from preflab.rm.scorer import score_pairs

    pairs = _read(input, fmt)
    scorer = load_scorer(model, batch_size=batch_size, progress=True)
    result = evaluate_pairs(pairs, score_pairs(scorer, pairs), n_boot=n_boot, seed=seed)
    result["model_path"], result["input"] = model, input
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
        cat = Table(title="By category")
        for col in ("category", "pairs", "accuracy", "95% CI"):
            cat.add_column(col)
        for name, r in m["by_category"].items():
            cat.add_row(name, str(r["n"]), f"{r['accuracy']:.3f}", f"[{r['ci95'][0]:.3f}, {r['ci95'][1]:.3f}]")
        console.print(cat)
    console.print(f"wrote {files['json']} and {files['png']}")


def register(app: typer.Typer) -> None:
    """Add the top-level reward-model commands to the ``preflab`` app."""
    from preflab.cli.options import with_config_options
    from preflab.rm.config import TrainConfig

    app.command("train-rm")(with_config_options(train_rm, TrainConfig))
    app.command("score")(score)
    app.command("eval")(eval_cmd)


__all__ = ["register", "train_rm"]
