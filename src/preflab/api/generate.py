"""``preflab.generate``: synthetic preference pairs with one method (``preflab generate METHOD``).

>>> import preflab
>>> pairs = preflab.generate("rlcd", ["Why is the sky blue?", "Name a prime."], llm="fake", cache=False,
...                          progress=False)
>>> len(pairs) + len(pairs.failures)   # the fake LLM gives both prompts the same answer: no pair
2
>>> pairs.failures[0]["reason"], pairs.usage["total"]["calls"]
('identical', 4)
"""

from __future__ import annotations

import dataclasses
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Optional

from preflab.api.data import Pairs
from preflab.api.options import opt, signed, take
from preflab.progress import Bar
from preflab.cli.options import RunOptions
from preflab.api.preflight import ALLOW_EMPTY, OVERWRITE


@dataclasses.dataclass(frozen=True)
class GenerateOptions:
    """``preflab generate METHOD``'s own options (besides the run options and the method's)."""

    limit: Optional[int] = opt(None, "Use only the first N prompts.")
    config: Optional[Path] = opt(None, "YAML with the method's options (same keys as the flags).")
    scorer: Optional[str] = opt(None, "Reward model folder (preflab train-rm output) for scorer-based methods; "
                                "in Python also a scorer or what train_rm returned.", objects=True)
    judge_llm: Optional[str] = opt(None, "Judge LLM spec (default: the generator).")
    judge_criteria: Optional[str] = opt(None, "What 'better' means to the judge.")
    overwrite: bool = opt(False, OVERWRITE.help)
    allow_empty: bool = opt(False, ALLOW_EMPTY.help)


def example_prompts() -> Path:
    """The small prompt set shipped with preflab (written for it; see preflab/data)."""
    from importlib.resources import files

    return Path(str(files("preflab") / "data" / "example_prompts.txt"))


def _other_methods(name: str) -> dict[str, list[str]]:
    """Option name → the other methods that take it (for 'belongs to another method')."""
    from preflab.methods.base import methods

    owners: dict[str, list[str]] = {}
    for other in methods().values():
        if other.name != name:
            for f in dataclasses.fields(other.config):
                owners.setdefault(f.name, []).append(other.name)
    return owners


def is_llm(obj: Any) -> bool:
    """An LLM the caller opened (:func:`preflab.llm.open_llm`): used as it is, not closed."""
    return hasattr(obj, "complete") and hasattr(obj, "usage")


def open_generator(run: RunOptions, llm: Any, stack: ExitStack):
    """The LLM for ``llm`` (a spec, a backend or an opened LLM) with ``run``'s cache and budgets."""
    if is_llm(llm):
        return llm
    model = run.open_llm(llm)
    stack.callback(model.close)
    return model


def _scorer(scorer: Any):
    from preflab.methods.context import Lazy

    if scorer is None:
        return None
    if isinstance(scorer, (str, Path)):
        def load():
            from preflab.rm.loading import load_scorer

            return load_scorer(scorer)

        return Lazy(load)
    return getattr(scorer, "scorer", scorer)  # what train_rm returned, or any scorer


@signed(RunOptions, GenerateOptions)
def generate(method: str, prompts: Any = None, *, llm: Any = "llamacpp", out: str | Path | None = None,
             progress: bool = True, **options: Any) -> Pairs:
    """Generate preference pairs for ``prompts`` with ``method`` (``preflab.methods()`` lists them).

    ``prompts``: a path (.txt, .jsonl, .parquet, a pair file), prompt strings, records, dicts,
    a ``datasets.Dataset`` or a ``DataFrame`` (default: preflab's 20 example prompts). ``llm``:
    a spec (``llamacpp``, ``openai:MODEL``, ``hf:smollm2``, ``fake``), or an LLM you opened.
    ``out``: the pairs file (.jsonl, .parquet, a datasets folder) with OUT.failures.jsonl and
    OUT.run.json beside it; a call that stops (a crash, a budget) resumes when called again
    with the same ``out``. Without ``out`` the run happens in a temporary folder. Every LLM call
    goes through the call cache unless ``cache=False``. The method's own options (e.g. ``n=8``
    for west-of-n) are keyword arguments too. Returns :class:`~preflab.api.data.Pairs` with
    ``.failures`` and ``.usage``; everything is checked before the first call.
    """
    from preflab.api import checks as preflights
    from preflab.pipelines.generation import run_generation
    from preflab.llm.usage import BudgetExceeded
    from preflab.methods.base import get_method
    from preflab.methods.context import Lazy

    chosen = get_method(method)
    parts = take(f"preflab.generate({method!r})", options, RunOptions, GenerateOptions, chosen.config,
                 elsewhere=_other_methods(chosen.name), loose=(chosen.config,))
    run = RunOptions(**{**parts[RunOptions], **({"llm": llm} if isinstance(llm, str) else {})})
    own = dataclasses.replace(GenerateOptions(), **parts[GenerateOptions])
    prompts = example_prompts() if prompts is None else prompts
    with ExitStack() as stack:
        if out is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="preflab-generate-"))) / "pairs.jsonl"
            keep = False
        else:
            keep = True
        scorer_path = own.scorer if isinstance(own.scorer, (str, Path)) else None
        cfg = preflights.generate(chosen, own.config, parts[chosen.config], prompts=prompts, out=str(out), llm=llm,
                                  judge_llm=own.judge_llm, scorer=scorer_path, limit=own.limit,
                                  in_flight=run.in_flight, max_tokens_budget=run.max_tokens_budget,
                                  max_cost=run.max_cost, overwrite=own.overwrite, allow_empty=own.allow_empty)
        generator = open_generator(run, llm, stack)

        def open_judge():
            from preflab.judges import JudgeConfig, PairwiseJudge

            backend = generator
            if own.judge_llm and own.judge_llm != run.llm:
                backend = open_generator(run, own.judge_llm, stack)
            return PairwiseJudge(backend, JudgeConfig(**({"criteria": own.judge_criteria} if own.judge_criteria else {})))

        bar = stack.enter_context(Bar(f"Generating ({chosen.name})", progress))
        try:
            result = run_generation(prompts, out, chosen, cfg, generator, seed=run.seed, scorer=_scorer(own.scorer),
                                    judge=Lazy(open_judge), limit=own.limit, in_flight=run.in_flight, progress=bar,
                                    extra_run={"llm_spec": generator.spec, "executor": run.work_executor.record()})
        except BudgetExceeded as exc:
            raise BudgetExceeded(f"{exc}; finished prompts are kept in {out}.partial.jsonl — rerun the same "
                                 "command (or call again with the same out=) with a larger budget to continue") from None
    return Pairs(result.pairs, {"failures": result.failures, "counts": dict(result.counts), "resumed": result.resumed,
                                "wall_s": result.wall_s, "run": result.run, "path": str(out) if keep else None})
