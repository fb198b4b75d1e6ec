"""``preflab train-rm``, ``preflab score``, ``preflab eval``: the shell over
:func:`preflab.train_rm`, :func:`preflab.score` and :func:`preflab.evaluate`.

The training flags are generated from :class:`preflab.rm.config.TrainConfig` (its field help is
the flag help), so the YAML keys of ``--config`` and the flags cannot drift apart. Precedence:
defaults < ``--config file.yaml`` < flags given on the command line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from preflab.api.options import ExecutorOptions
from preflab.api.rm import EvalOptions, ScoreOptions, TrainRmOptions, evaluate, score, train_rm
from preflab.cli.adapter import Arg, command
from preflab.rm.config import TrainConfig

console = Console()


def _degenerate_note(counts: dict) -> str:
    return (f"{counts.get('empty_response', 0)} with an empty response (kept), "
            f"{counts.get('identical_skipped', 0)} with identical responses (skipped)")


def train_rm_cmd(input: str, **options: Any) -> None:
    """Train a reward model on preference pairs (fine-tuned, or --cheap: frozen-embedding head)."""
    trained = train_rm(input, save_required=True, **options)
    if options.get("lenient"):
        console.print(f"degenerate rows: {_degenerate_note(trained.info['degenerate_rows'])}")
    acc = "-" if trained.val_accuracy is None else f"{trained.val_accuracy:.3f}"
    speed = f", {trained.result.pairs_per_second:.2f} pairs/s" if trained.result is not None else ""
    console.print(f"saved {trained.recipe.recipe} RM to {trained.path}: {trained.info['pairs']} pairs{speed}, "
                  f"best val accuracy {acc}")


def score_cmd(model: str, input: str, **options: Any) -> None:
    """Write rewards for pairs, or for a prompt and many responses. Degenerate rows of real
    data: pairs with an empty response are scored (an empty reply is a real, worse answer);
    pairs whose two responses are identical cannot be decided and are skipped. Both are counted."""
    result = score(model, input, **options)
    output = options["out"]
    if hasattr(result, "info"):
        console.print(f"scored {len(result)} pairs → {output}; degenerate rows: "
                      f"{_degenerate_note(result.info['degenerate_rows'])}")
    else:
        console.print(f"scored {sum(len(r['scores']) for r in result)} responses of {len(result)} prompts → {output}")


def eval_cmd(model: str, input: str, **options: Any) -> None:
    """Pairwise accuracy (95% CI), per category, high-confidence subset, calibration, baselines.
    Degenerate rows of real evaluation sets: pairs with an empty response are scored (an empty
    reply is a real, worse answer); pairs whose two responses are identical cannot be decided
    and are skipped. Both are counted in eval.json ("degenerate_rows") and the summary.
    On RewardBench or RewardBench 2 (--benchmark, or sniffed): the benchmark's own scores, per
    subset, section and overall (best-of-N, Ties and the six-subset average for v2)."""
    from preflab.evaluation.report import length_rows, table_rows

    result = evaluate(model, input, **options)
    if "benchmark" in result:
        return _print_benchmark(result, model, input)
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
    console.print(f"degenerate rows: {_degenerate_note(result['degenerate_rows'])}")
    console.print(f"wrote {result['files']['json']} and {result['files']['png']}")


BENCHMARK_NAMES = {"rewardbench": "RewardBench", "rewardbench2": "RewardBench 2"}


def _print_benchmark(result: dict, model: str, input: str) -> None:
    """The subsets, then the sections and overall score (or the six-subset average), each beside
    the null baselines, in percent."""
    from rich import box

    from preflab.evaluation.benchmark_report import subset_rows, summary_rows

    name = BENCHMARK_NAMES[result["benchmark"]]
    baselines = [{"longer_response_wins": "longer wins"}.get(b, b.replace("_", " ")) for b in result["baselines"]]
    v1 = result["benchmark"] == "rewardbench"
    table = Table(title=f"{name}: {Path(model).name} on {Path(str(input)).name} (%)", box=box.SIMPLE_HEAD)
    for col in ("subset", *(("section",) if v1 else ()), "rows", "score", "95% CI", *baselines):
        table.add_column(col, justify="left" if col in ("subset", "section") else "right",
                         no_wrap=col in ("subset", "section", "95% CI"))
    for row in subset_rows(result):
        table.add_row(*(row if v1 else row[:1] + row[2:]))
    console.print(table)
    summary = Table(title=f"{name} score (%)", box=box.SIMPLE_HEAD)
    for col in ("", "score", "95% CI", *baselines):
        summary.add_column(col, justify="left" if not col else "right", no_wrap=col in ("", "95% CI"))
    for row in summary_rows(result):
        summary.add_row(*row)
    console.print(summary)
    model_scores = result["model"]
    if not model_scores["complete"]:
        missing = model_scores.get("missing_subsets") or model_scores.get("average", {}).get("missing") or []
        console.print(f"partial run: {len(missing)} official subsets missing" + (
            f" ({', '.join(missing[:6])}{', ...' if len(missing) > 6 else ''})" if missing else "")
            + ("; some subsets have other row counts than the official set" if model_scores.get(
                "rows_differ_from_official") else ""))
    console.print(f"first-position baseline {result['unavailable_baselines']['first_position_wins']}")
    console.print(f"wrote {result['files']['json']} and {result['files']['scores']}")


def _rows_table(title: str, first: str, rows: list[tuple[str, ...]], value: str = "accuracy") -> Table:
    table = Table(title=title)
    for col in (first, "pairs", value, "95% CI"):
        table.add_column(col)
    for row in rows:
        table.add_row(*row)
    return table


def register(app: typer.Typer) -> None:
    """Add the top-level reward-model commands to the ``preflab`` app."""
    model = Arg("model", "A model folder saved by train-rm.")
    # the library shows the training bar unless told not to; this command trains without it unless
    # --progress is given, as it did before (preflab_rm.json records the setting it trained with)
    command(app, "train-rm", train_rm_cmd, TrainRmOptions, TrainConfig,
            args=[Arg("input", "Training pairs (any format preflab reads).")], defaults={"progress": False})
    command(app, "score", score_cmd, ScoreOptions, ExecutorOptions, required=("out",),
            args=[model, Arg("input", "Pairs, or JSONL rows with 'prompt' and a 'responses' list.")])
    command(app, "eval", eval_cmd, EvalOptions, required=("out",),
            args=[model, Arg("input", "Held-out human preference pairs, or RewardBench / RewardBench 2 rows "
                             "(a file, a datasets folder, or hf:allenai/reward-bench[-2]).")])
