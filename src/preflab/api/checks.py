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

from preflab.io.outputs import file_output, folder_output, pairs_output, workdir_output
from preflab.api.preflight import Preflight, require_records


def train_rm(input: str, val: Optional[str], metrics: Optional[Path], config: Optional[Path],
             flags: dict[str, Any], *, cheap: bool, overwrite: bool, require_output: bool = True):
    """(recipe, output folder) of ``preflab train-rm``: the options given (config file < flags;
    unset ones keep the recipe's own defaults, so ``--cheap`` honours every option it shares
    with fine-tuning) as one validated :class:`~preflab.rm.config.RecipeConfig`, and every
    output checked against every input, all problems at once."""
    check = Preflight()
    recipe, output_dir = check.run(_train_recipe, config, flags, cheap) or (None, None)
    if recipe is not None and not output_dir and require_output:
        check.problems.append("no output folder: pass --output-dir DIR (or output_dir in the config file)")
    elif recipe is not None and output_dir:
        outputs = folder_output(output_dir)
        if recipe.recipe == "finetune":
            outputs += file_output(metrics or Path(output_dir + ".metrics.jsonl"))
        meta_set = getattr(recipe.options, "meta_set", None)
        check.outputs(outputs, [input, val, meta_set, config], overwrite=overwrite)
    check.done()
    return recipe, output_dir


def _train_recipe(config: Optional[Path], flags: dict[str, Any], cheap: bool):
    from preflab.config import load_yaml
    from preflab.errors import ConfigError
    from preflab.rm.config import RecipeConfig

    given = {**(load_yaml(config) if config else {}), **{k: v for k, v in flags.items() if v is not None}}
    output_dir = given.pop("output_dir", None)
    name = given.pop("recipe", None)
    if cheap and name not in (None, "embed-head"):
        raise ConfigError(f"--cheap trains the embed-head recipe; the config file asks for recipe {name!r}")
    recipe = RecipeConfig.from_dict({"recipe": "embed-head" if cheap else name or "finetune", **given})
    return recipe, None if output_dir is None else str(output_dir)


def score(model: str, input: str, output: Optional[Path], *, batch_size: int, overwrite: bool) -> None:
    check = Preflight()
    check.at_least(1, {"--batch-size": batch_size})
    check.outputs([] if output is None else pairs_output(output), [model, input], overwrite=overwrite)
    check.done()


def eval_cmd(model: str, input: str, output_dir: Optional[Path], *, batch_size: int, n_boot: int, overwrite: bool) -> None:
    check = Preflight()
    check.at_least(1, {"--batch-size": batch_size, "--bootstrap": n_boot})
    check.outputs([] if output_dir is None else workdir_output(output_dir), [model, input], overwrite=overwrite)
    check.done()


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


def pairs_step(cls: type, src: str, dst: str, config: Optional[Path], flags: dict[str, Any], *, overwrite: bool,
               plots: bool = False):
    """``clean``, ``strength`` and ``augment``: a config, pairs in, pairs (+ run record) out."""
    check = Preflight()
    cfg = check.config(cls, config, flags)
    outputs = [] if dst is None else pairs_output(dst, ".run.json") + (workdir_output(str(dst) + ".plots") if plots else [])
    check.outputs(outputs, [src, config], overwrite=overwrite)
    check.done()
    return cfg


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


