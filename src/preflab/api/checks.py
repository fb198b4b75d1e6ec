"""What each writing command checks before its first side effect (one call per command).

Every function here resolves the command's config, checks option ranges, LLM specs and every
output against every input (:mod:`preflab.io.outputs`), and raises one
:class:`~preflab.errors.ConfigError` (exit 2) naming all problems; otherwise it creates the
folders the command fills, with preflab's marker, and returns the resolved config. Keeping
the checks here keeps the command modules thin and the rules in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from preflab.io.outputs import file_output, pairs_output, workdir_output
from preflab.api.preflight import Preflight, require_records


def generate(method, config: Optional[Path], flags: dict[str, Any], *, prompts: Path, out: str, llm: str,
             judge_llm: Optional[str], scorer: Optional[str], limit: Optional[int], in_flight: int,
             max_tokens_budget: Optional[int], max_cost: Optional[float], overwrite: bool, allow_empty: bool):
    """The method's resolved config for ``preflab generate METHOD``; also refuses a prompt
    file without prompts (exit 1) unless ``allow_empty``."""
    from preflab import io

    check = Preflight()
    cfg = check.config(method.config, config, flags, method.defaults)
    check.at_least(1, {"--limit": limit, "--in-flight": in_flight, "--max-tokens-budget": max_tokens_budget})
    check.positive({"--max-cost": max_cost})
    check.llm(llm)
    if judge_llm and judge_llm != llm:
        check.llm(judge_llm, "--judge-llm")
    check.outputs(pairs_output(out, ".failures.jsonl", ".run.json", ".partial.jsonl"), [prompts, scorer, config],
                  overwrite=overwrite)
    check.done()
    require_records(sum(1 for _ in io.read_prompts(prompts)), "prompts", str(io.memory.NAME if io.memory.is_in_memory(prompts) else prompts), allow_empty)
    return cfg


def judge(pairs: str, out: Optional[Path], *, llm: str, limit: Optional[int], max_tokens: int, in_flight: int) -> None:
    check = Preflight()
    check.at_least(1, {"--limit": limit, "--max-tokens": max_tokens, "--in-flight": in_flight})
    check.llm(llm)
    check.outputs([] if out is None else file_output(out, ".run.json"), [pairs])
    check.done()


def meta_set(prompts: Path, out: Path, *, llm: str, k: int, limit: Optional[int], temperature: float,
             max_tokens: int) -> None:
    check = Preflight()
    check.at_least(2, {"--k": k})
    check.at_least(1, {"--limit": limit, "--max-tokens": max_tokens})
    check.at_least(0, {"--temperature": temperature})
    check.llm(llm)
    check.outputs(file_output(out), [prompts])
    check.done()


def west_of_n_rounds(config: Optional[Path], flags: dict[str, Any], *, base: Path, prompts: Path, out: Path, llm: str,
                     eval_pairs: Optional[Path], limit: Optional[int], overwrite: bool):
    from preflab.pipelines.west_of_n_rounds import RoundsConfig

    check = Preflight()
    cfg = check.config(RoundsConfig, config, flags)
    check.at_least(1, {"--limit": limit})
    check.llm(llm)
    check.outputs(workdir_output(out), [base, prompts, eval_pairs, config], overwrite=overwrite)
    check.done()
    return cfg


def bench(config: Optional[Path], data: Optional[dict[str, Any]], run_dir: Optional[Path], *, overwrite: bool):
    """(config, root, run folder) of ``preflab bench`` / ``quickstart``: the whole bench file
    validated (specs included), and the run folder checked against every file it reads."""
    from preflab.pipelines.bench.config import input_paths, load_bench_config

    cfg, root = load_bench_config(config, data=data)
    run_dir = run_dir or Path("runs") / cfg.name
    check = Preflight()
    check.outputs(workdir_output(run_dir), [config, *input_paths(cfg, root)], overwrite=overwrite)
    check.done()
    return cfg, root, run_dir


def report(source: Path, out: Optional[Path], page_size: int) -> tuple[Path, bool]:
    """(page, whether SOURCE is a bench run) of ``preflab report``: RUN_DIR/report.html for a
    bench run folder, PAIRS.report.html for a pairs file (or ``out``), checked against every
    file the page is made from."""
    from preflab.errors import InputError
    from preflab.report.browser import companions

    check = Preflight()
    check.at_least(1, {"--page-size": page_size})
    if not source.exists() and not str(source).startswith("hf:"):
        raise InputError("no such file or folder: name a bench run folder or a pairs file", path=str(source))
    datasets = any((source / name).exists() for name in ("dataset_info.json", "dataset_dict.json"))
    bench = source.is_dir() and not datasets
    if bench and not (source / "results.json").exists():
        raise InputError("no results.json: run `preflab bench CONFIG` into this folder first, or name a pairs file",
                         path=str(source))
    if bench:
        out = out or source / "report.html"
        inputs = [source / "results.json", source / "run.json"]
    else:
        out = out or source.with_name(source.name + ".report.html")
        inputs = [source, *companions(source).values()]
    if out.suffix.lower() not in (".html", ".htm"):
        check.problems.append(f"{out}: the report is one HTML page; name it .html")
    check.outputs(file_output(out), inputs)
    check.done()
    return out, bench
