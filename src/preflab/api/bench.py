"""``preflab.bench``: several methods through the same prompts, generator and budget, the same
RM recipe trained on each (several seeds), evaluated on real human pairs beside null
baselines; one table, one report (``preflab bench CONFIG``). ``preflab.quickstart`` is one such
bench, built in (``preflab quickstart``).

>>> import preflab, tempfile
>>> config = {"name": "demo", "llm": "fake", "prompts": {"path": str(example_prompts())}, "budget_prompts": 4,
...           "methods": [{"name": "random-label"}], "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 5}},
...           "eval": [{"name": "check", "path": str(example_prompts().with_name("quickstart_eval.jsonl"))}]}
>>> results = preflab.bench(config, run_dir=tempfile.mkdtemp() + "/demo", progress=False)
>>> sorted(results["table"]), results["eval_sets"]
(['random-label'], {'check': 30})
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Optional

from preflab.api.generate import example_prompts  # noqa: F401 - used by the doctest
from preflab.api.options import format_help, overwrite_option, signed
from preflab.api.preflight import Preflight
from preflab.config import option
from preflab.llm.spec import SPEC_HELP, spec_paths


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    """``preflab bench CONFIG``'s options (the bench itself is the config)."""

    run_dir: Optional[Path] = option(None, "Run folder (default: runs/NAME). A rerun reuses every finished step.",
                                     flag=("--out", "-o"))
    overwrite: bool = overwrite_option()


@dataclasses.dataclass(frozen=True)
class QuickstartOptions:
    """``preflab quickstart``'s options: what of the built-in bench a caller may change."""

    prompts: Optional[Path] = option(None, "Your prompts (default: 120 HH-RLHF harmless prompts shipped with preflab).",
                                     reads=True)
    eval_path: Optional[Path] = option(None, "Your labelled pairs to evaluate on (default: 640 held-out HH-RLHF harmless "
                                       "pairs and preflab's 30-pair check set).", flag="--eval", reads=True)
    eval_format: str = option("auto", "Of the pairs to evaluate on. " + format_help())
    budget: int = option(20, "Prompts per method.", low=1)
    max_tokens: int = option(160, "Token limit per generated response.")
    eval_limit: Optional[int] = option(None, "Evaluate on the first N pairs of each set only (quicker, wider intervals).",
                                       low=1)
    base_limit: Optional[int] = option(None, "Train on the first N of the 320 human base pairs only.", low=1)
    out: Path = option(Path("runs/quickstart"), "Run folder.", flag=("--out", "-o"))
    overwrite: bool = overwrite_option()
    llm: str = option("llamacpp", SPEC_HELP, reads=spec_paths)


def _say(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)


def _planned(check: Preflight, config: str | Path | dict[str, Any], run_dir: str | Path | None, overwrite: bool):
    """(config, root, run folder) of a bench: the whole bench config validated (specs
    included; its problems named by their key paths), its data checked (a pairs file that is
    empty or shares prompts with an evaluation set; base+human without labels), and the run
    folder checked against every file the bench reads."""
    from preflab.io.outputs import workdir_output
    from preflab.pipelines.bench.config import input_paths, load_bench_config
    from preflab.pipelines.bench.data import check_data

    path, data = (None, config) if isinstance(config, dict) else (Path(config), None)
    cfg, root = load_bench_config(path, data=data)
    check.run(check_data, cfg, root, str(path) if path else "<bench config>")  # pairs files: empty, leaking
    folder = Path(run_dir) if run_dir is not None else Path("runs") / cfg.name
    check.outputs(workdir_output(folder), [path, *input_paths(cfg, root)], overwrite=overwrite)
    check.done()
    return cfg, root, folder


def _run(cfg: Any, root: Path, folder: Path, progress: bool) -> dict[str, Any]:
    import logging

    from preflab.pipelines.bench.run import run_bench
    from preflab.report.html import write_report

    try:
        results = run_bench(cfg, root, folder, say=_say if progress else logging.getLogger(__name__).info)
    except KeyboardInterrupt:
        from preflab.errors import Interrupted

        raise Interrupted(f"finished steps are kept in {folder}: run the same command again (the same --out) to "
                          "resume; finished steps and LLM calls are reused") from None
    results["run_dir"] = str(folder)
    results["report"] = str(write_report(folder))
    return results


def _parsed(check: Preflight, options: dict[str, Any], cls: type) -> Any:
    return check.options(options, cls)[cls]


@signed(BenchOptions)
def bench(config: str | Path | dict[str, Any], *, progress: bool = True, **options: Any) -> dict[str, Any]:
    """Run (or resume) a bench from a YAML file or the same keys as a dict (see examples/*.yaml).

    ``run_dir`` (default ``runs/NAME``) keeps every finished step: calling again with the same
    folder reuses them, so a crash or a budget stop loses nothing. The whole config is checked
    before any work. Returns the results (what ``results.json`` holds, plus ``run_dir`` and
    ``report``: the HTML page); ``progress=False`` silences the step log."""
    check = Preflight()
    if not isinstance(config, dict) and not check.path("config", config, "a bench YAML file or a dict of its keys"):
        check.done()
    own = _parsed(check, options, BenchOptions)
    return _run(*_planned(check, config, own.run_dir, own.overwrite), progress)


@signed(QuickstartOptions)
def quickstart(*, progress: bool = True, **options: Any) -> dict[str, Any]:
    """Does a method make a reward model better? The built-in bench
    (:mod:`preflab.pipelines.bench.quickstart`): pairs from RMBoost and RLCD, a MiniLM RM trained
    on real human base pairs with and without them (3 seeds), evaluated on 640 held-out human
    pairs with paired intervals, and the report. Returns what :func:`bench` returns."""
    from preflab.pipelines.bench.quickstart import quickstart_config

    check = Preflight()
    own = _parsed(check, options, QuickstartOptions)
    check.llm(own.llm)
    if check.problems:
        check.done()
    config = quickstart_config(own.prompts, own.llm, own.eval_path, own.eval_format, own.budget, own.max_tokens,
                               own.eval_limit, own.base_limit)
    return _run(*_planned(check, config, own.out, own.overwrite), progress)
