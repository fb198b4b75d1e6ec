"""``preflab.best_of_n``: does a reward model pick better responses? Best-of-N against a gold
scorer (``preflab bon``; the run itself: :mod:`preflab.pipelines.best_of_n`).

>>> import preflab, tempfile
>>> from preflab import PreferencePair, text_prompt
>>> pairs = [PreferencePair(prompt=text_prompt(f"Question {i}?"), chosen=f"A careful, helpful answer {i}.",
...                         rejected=f"No {i}.") for i in range(8)]
>>> proxy = preflab.train_rm(pairs, cheap=True, epochs=20, progress=False)
>>> gold = preflab.train_rm(pairs, cheap=True, epochs=40, seed=1, progress=False)
>>> policy = "fake#seeded=true"   # a new answer per sample
>>> results = preflab.best_of_n(["Why?", "How?"], rm={"proxy": proxy}, gold=gold, llm=policy, n=4, cache=False,
...                             progress=False)
>>> results["ns"], sorted(results["curves"]), results["curves"]["proxy"]["1"]["n"]
([1, 2, 4], ['proxy'], 2)
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Optional

from preflab.api.options import (IN_FLIGHT_HELP, LLMOptions, config_option, is_llm, overwrite_option,
                                 signed)
from preflab.api.preflight import Preflight, require_records
from preflab.config import option
from preflab.errors import Problem, about
from preflab.llm.spec import spec_paths
from preflab.methods.base import REPEAT_PENALTY_HELP

#: The files that make a folder a saved reward model (rm.save.META_FILE, rm.embed_head.HEAD_META;
#: named here so that the check before work loads no model library).
MODEL_FILES = ("preflab_rm.json", "preflab_embed_head.json")


def rm_paths(given: Any) -> list[Any]:
    """The folders named by ``rm`` (``DIR``, ``LABEL=DIR``, a list of them, or a dict's values),
    for the output guard (:func:`preflab.config.read_paths`).

    >>> rm_paths(["runs/a", "boost=runs/b"]), rm_paths({"x": "runs/c"})
    (['runs/a', 'runs/b'], ['runs/c'])
    """
    named, _ = _named_rms(given)
    return [value for value in named.values() if _is_path(value)]


@dataclasses.dataclass(frozen=True)
class BonOptions:
    """``preflab bon``'s own options (besides the policy LLM's)."""

    prompts: Optional[Path] = option(None, "Prompts to sample for: .txt (one per line), .jsonl/.parquet with a prompt "
                                     "column, or any pair file (its prompts); in Python also prompt strings, records, "
                                     "dicts, a datasets.Dataset or a DataFrame.", flag=("--prompts", "-p"), objects=True,
                                     reads=True)
    rm: list[str] = option([], "A reward model under test: a folder saved by train-rm, or LABEL=DIR. In Python also "
                           "{label: folder or scorer}.", objects=True, reads=rm_paths)
    gold: Optional[str] = option(None, "The gold reward model folder that scores the picks; it must not be one of the "
                                 "RMs under test. In Python also a scorer.", objects=True, reads=True)
    gold_judge: Optional[str] = option(None, "Or an LLM judge as the gold scorer (a spec): every sample is judged "
                                       "against an independent policy sample, and two RMs' picks against each other, "
                                       "each in both orders. In Python also an LLM you opened.", objects=True,
                                       reads=spec_paths)
    judge_criteria: Optional[str] = option(None, "What 'better' means to the gold judge.")
    out: Optional[Path] = option(None, "Run folder: results.json, results.md, bon.png, picks.jsonl, run.json and the "
                                 "cached steps; a rerun into it resumes and reuses every finished step (in Python, "
                                 "without it the run happens in a temporary folder).", flag=("--out", "-o"))
    n: int = option(16, "Samples drawn per prompt: the largest N.")
    ns: list[int] = option([], "The N values reported (default 1, 2, 4, ... up to n); none may exceed n.")
    subsets: int = option(4, "Seeded nested subsets per prompt: the n samples in a seeded order, best-of-k taking the "
                          "first k; the numbers average over them.", low=1)
    limit: Optional[int] = option(None, "Use only the first N prompts.")
    temperature: float = option(0.7, "Policy sampling temperature.")
    max_tokens: int = option(256, "Token limit per sample.")
    repeat_penalty: float = option(1.0, REPEAT_PENALTY_HELP, low=1, high=2)
    seed: int = option(0, "Seed of the samples, the subsets and the bootstrap.")
    in_flight: int = option(8, IN_FLIGHT_HELP)
    batch_size: int = option(16, "Sequences per forward pass when a reward model scores.")
    n_boot: int = option(2000, "Bootstrap resamples for the 95% intervals.", flag="--bootstrap")
    config: Optional[Path] = config_option()
    overwrite: bool = overwrite_option()

    def problems(self) -> list[Problem]:
        """Cross-field rules: N values within the samples drawn, one gold scorer, an RM to test."""
        problems = []
        above = [k for k in self.ns if isinstance(k, int) and k > self.n]
        if above:
            problems.append(Problem("{ns}: " + ", ".join(map(str, above)) + f" above the samples drawn per prompt "
                                    f"({{n}} = {self.n}); draw more with {{n}} or drop them", ("ns", "n")))
        if any(not isinstance(k, int) or isinstance(k, bool) or k < 1 for k in self.ns):
            problems.append(about("ns", f"must be whole numbers of at least 1, got {list(self.ns)}"))
        if (self.gold is None) == (self.gold_judge is None):
            problems.append(Problem("give one gold scorer: {gold} (a reward model folder) or {gold_judge} (an LLM "
                                    "judge spec)" + (", not both" if self.gold is not None else ""),
                                    ("gold", "gold_judge")))
        if not self.rm:
            problems.append(Problem("no reward model to test: give {rm} DIR (repeat it for several)", ("rm",)))
        return problems


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _named_rms(given: Any) -> tuple[dict[str, Any], list[Problem]]:
    """label → folder (a string) or scorer object, from ``LABEL=DIR``/``DIR`` strings or a dict."""
    problems: list[Problem] = []
    if isinstance(given, dict):
        return {str(k): v for k, v in given.items()}, problems
    named: dict[str, Any] = {}
    for value in given if isinstance(given, (list, tuple)) else [given]:
        if _is_path(value):
            text = str(value)
            label, sep, path = text.partition("=")
            if not sep or Path(text).exists():
                label, path = Path(text).name or text, text
        else:
            label, path = type(value).__name__, value
        if label in named:
            problems.append(Problem("{rm}: two reward models share the label " + repr(label) + "; name them "
                                    "LABEL=DIR", ("rm",)))
        named[label] = path
    return named, problems


def _model_problem(path: str, option: str) -> Problem | None:
    folder = Path(path)
    if not folder.exists():
        return Problem("{" + option + "}: " + f"{path} does not exist", (option,))
    if not folder.is_dir() or not any((folder / name).exists() for name in MODEL_FILES):
        return Problem("{" + option + "}: " + f"{path} is not a reward model folder (no {' or '.join(MODEL_FILES)}; "
                       "train one with preflab train-rm)", (option,))
    return None


def _sources(check: Preflight, own: BonOptions):
    """(the RMs under test, the gold RM or None), each an RMSource, every problem recorded."""
    from preflab.pipelines.best_of_n import RMSource
    from preflab.provenance import file_fingerprint

    named, problems = _named_rms(own.rm)
    check.problems += problems
    rms: dict[str, RMSource] = {}
    for label, value in named.items():
        if _is_path(value):
            problem = _model_problem(str(value), "rm")
            if problem:
                check.add(problem)
                continue
            rms[label] = RMSource(label, str(value), fingerprint=file_fingerprint(value), batch_size=own.batch_size)
        else:
            check.scorer("rm", value)
            rms[label] = RMSource(label, scorer=getattr(value, "scorer", value))
    gold = None
    if own.gold is not None:
        if _is_path(own.gold):
            problem = _model_problem(str(own.gold), "gold")
            if problem:
                check.add(problem)
            else:
                gold = RMSource("gold", str(own.gold), fingerprint=file_fingerprint(own.gold), batch_size=own.batch_size)
        else:
            check.scorer("gold", own.gold)
            gold = RMSource("gold", scorer=getattr(own.gold, "scorer", own.gold))
    if gold is not None:
        for label, rm in rms.items():
            same = (rm.path is not None and gold.path is not None
                    and (Path(rm.path).resolve() == Path(gold.path).resolve() or rm.fingerprint == gold.fingerprint))
            if same or (rm.scorer is not None and rm.scorer is gold.scorer):
                check.add(Problem("{gold} is the reward model under test " + repr(label) + "; the gold scorer must "
                                  "be another model (a stronger RM trained on other data, or {gold_judge})",
                                  ("gold", "gold_judge")))
    return rms, gold


@signed(BonOptions, LLMOptions)
def best_of_n(prompts: Any = None, *, progress: bool = True, **options: Any) -> dict[str, Any]:
    """Best-of-N: sample ``n`` responses per prompt from the policy ``llm`` (once; cached and
    resumable), let each RM in ``rm`` pick its best out of nested seeded subsets of N of them,
    and score the picks with the ``gold`` RM (or the ``gold_judge`` LLM). Returns what
    results.json holds: per RM and N the gold score of its pick beside the random and oracle
    picks, its gain over the random pick and the win rate of each RM's pick over every other's,
    all with 95% intervals over prompts. Everything is checked before the first sample."""
    from preflab import io
    from preflab.io.outputs import workdir_output
    from preflab.llm.usage import BudgetExceeded
    from preflab.pipelines.best_of_n import BonRun, Sampling, run_best_of_n

    check = Preflight()
    if _is_path(options.get("rm")):  # one folder, not in a list
        options["rm"] = [options["rm"]]
    parsed = check.options({"prompts": prompts, **options}, BonOptions, LLMOptions)
    own, llm_options = parsed[BonOptions], parsed[LLMOptions]
    if own.prompts is None:
        check.add(Problem("no prompts: give {prompts} FILE", ("prompts",)))
    rms, gold = _sources(check, own)
    check.llm(llm_options.llm, budget=llm_options)
    if own.gold_judge is not None and own.gold_judge != llm_options.llm:
        check.llm(own.gold_judge, "gold_judge", budget=llm_options)
    with ExitStack() as stack:
        out = own.out
        if out is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="preflab-bon-"))) / "bon"
        inputs = [own.prompts, own.config, *(rm.path for rm in rms.values()), gold.path if gold else None]
        check.outputs(workdir_output(out), inputs, overwrite=own.overwrite)
        check.done()
        source = own.prompts
        records = list(io.read_prompts(source))[: own.limit]
        require_records(len(records), "prompts", str(io.memory.NAME if io.memory.is_in_memory(source) else source),
                        False)
        policy = llm_options.open()
        if not is_llm(llm_options.llm):
            stack.callback(policy.close)
        if own.gold_judge is not None:
            from preflab.judges import JudgeConfig, PairwiseJudge

            judge_llm = policy if own.gold_judge is llm_options.llm or own.gold_judge == llm_options.llm \
                else llm_options.open(own.gold_judge)
            if judge_llm is not policy and not is_llm(own.gold_judge):
                stack.callback(judge_llm.close)
            gold = PairwiseJudge(judge_llm, JudgeConfig(**({"criteria": own.judge_criteria} if own.judge_criteria else {})))
        sampling = Sampling(own.n, own.temperature, own.max_tokens, own.repeat_penalty, own.seed,
                            reference=own.gold_judge is not None)
        plan = BonRun(records, rms, gold, sampling, sorted(set(own.ns)) or _default_ns(own.n), own.subsets, own.n_boot,
                      own.in_flight)
        settings = {f.name: getattr(own, f.name) for f in dataclasses.fields(own) if _plain(getattr(own, f.name))}
        settings["llm"] = llm_options.llm if isinstance(llm_options.llm, str) else policy.spec
        record = {"config": settings, "inputs": _inputs(own, rms, gold),
                  "generator": {"backend": policy.kind, "model": policy.model_id}}
        try:
            results = run_best_of_n(plan, policy, Path(out), progress=progress, say=_say(progress), record=record)
        except BudgetExceeded as exc:
            raise BudgetExceeded([*exc.problems, Problem(f"finished prompts are kept in {out}/steps — run it again with "
                                                         "the same {out} and a larger budget to continue", ("out",))]
                                 ) from None
    results["out"] = None if own.out is None else str(own.out)
    return results


def _default_ns(n: int) -> list[int]:
    from preflab.evaluation.best_of_n import default_ns

    return default_ns(n)


def _plain(value: Any) -> bool:
    if isinstance(value, (list, tuple)):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, (str, int, float, bool, Path))


def _inputs(own: BonOptions, rms: dict[str, Any], gold: Any) -> dict[str, Any]:
    inputs = {f"rm:{label}": rm.path for label, rm in rms.items() if rm.path}
    if _is_path(own.prompts):
        inputs["prompts"] = own.prompts
    if getattr(gold, "path", None):
        inputs["gold"] = gold.path
    return inputs


def _say(progress: bool):
    import logging

    if not progress:
        return logging.getLogger(__name__).info

    def say(message: str) -> None:
        import time

        from rich.console import Console

        Console(stderr=True).print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {message}", highlight=False)

    return say
