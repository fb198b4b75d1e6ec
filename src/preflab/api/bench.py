"""``preflab.bench``: several methods through the same prompts, generator and budget, the same
RM recipe trained on each (several seeds), evaluated on real human pairs beside null
baselines; one table, one report (``preflab bench CONFIG``).

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
from typing import Any

from preflab.api.generate import example_prompts  # noqa: F401 - used by the doctest
from preflab.api.options import signed, take
from preflab.api.shared import overwrite_option


@dataclasses.dataclass(frozen=True)
class BenchOptions:
    overwrite: bool = overwrite_option()


def _say(message: str) -> None:
    from rich.console import Console

    Console(stderr=True).print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)


@signed(BenchOptions)
def bench(config: str | Path | dict[str, Any], *, run_dir: str | Path | None = None, progress: bool = True,
          **options: Any) -> dict[str, Any]:
    """Run (or resume) a bench from a YAML file or the same keys as a dict (see examples/*.yaml).

    ``run_dir`` (default ``runs/NAME``) keeps every finished step: calling again with the same
    folder reuses them, so a crash or a budget stop loses nothing. The whole config is checked
    before any work. Returns the results (what ``results.json`` holds, plus ``report``: the
    HTML page); ``progress=False`` silences the step log."""
    import logging

    from preflab.pipelines.bench.run import run_bench
    from preflab.api import checks as preflights
    from preflab.report.html import write_report

    own = BenchOptions(**take("preflab.bench", options, BenchOptions)[BenchOptions])
    path, data = (None, config) if isinstance(config, dict) else (Path(config), None)
    cfg, root, folder = preflights.bench(path, data, None if run_dir is None else Path(run_dir), overwrite=own.overwrite)
    results = run_bench(cfg, root, folder, say=_say if progress else logging.getLogger(__name__).info)
    results["run_dir"] = str(folder)
    results["report"] = str(write_report(folder))
    return results
