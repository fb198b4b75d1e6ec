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
from preflab.api.options import (ALLOW_EMPTY_HELP, IN_FLIGHT_HELP, SEED_HELP, ExecutorOptions, LLMOptions,
                                 config_option, overwrite_option, signed)
from preflab.api.preflight import Preflight, require_records
from preflab.config import option
from preflab.errors import Interrupted, Problem
from preflab.llm.spec import spec_paths
from preflab.progress import Bar


@dataclasses.dataclass(frozen=True)
class GenerateOptions:
    """``preflab generate METHOD``'s own options (besides the LLM's, the executor's and the method's)."""

    prompts: Optional[Path] = option(None, "Prompts: .txt (one per line), .jsonl/.parquet with a prompt column, or any "
                                     "pair file (default: preflab's 20 example prompts); in Python also prompt strings, "
                                     "records, dicts, a datasets.Dataset or a DataFrame.", flag=("--prompts", "-p"),
                                     objects=True, reads=True)
    out: Optional[Path] = option(None, "Output pairs (.jsonl, .parquet or a datasets folder); also OUT.failures.jsonl and "
                                 "OUT.run.json. A run that stops resumes when given the same OUT again (in Python, "
                                 "without it the run happens in a temporary folder).", flag=("--out", "-o"))
    limit: Optional[int] = option(None, "Use only the first N prompts.")
    config: Optional[Path] = config_option()
    scorer: Optional[str] = option(None, "Reward model folder (preflab train-rm output) for scorer-based methods; "
                                   "in Python also a scorer or what train_rm returned.", objects=True, reads=True)
    judge_llm: Optional[str] = option(None, "Judge LLM spec (default: the generator).", reads=spec_paths)
    judge_criteria: Optional[str] = option(None, "What 'better' means to the judge.")
    seed: int = option(0, SEED_HELP)
    in_flight: int = option(8, IN_FLIGHT_HELP)
    overwrite: bool = overwrite_option()
    allow_empty: bool = option(False, ALLOW_EMPTY_HELP)


def example_prompts() -> Path:
    """The small prompt set shipped with preflab (written for it; see preflab/data)."""
    from importlib.resources import files

    return Path(str(files("preflab") / "data" / "example_prompts.txt"))


def other_methods(name: str) -> dict[str, list[str]]:
    """Option name → the other methods that take it (for 'belongs to another method')."""
    from preflab.methods.base import methods

    owners: dict[str, list[str]] = {}
    for other in methods().values():
        if other.name != name:
            for f in dataclasses.fields(other.config):
                owners.setdefault(f.name, []).append(other.name)
    return owners


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


def _opened(stack: ExitStack, options: LLMOptions, spec: Any, executor: Any):
    """The LLM for ``spec``, closed with ``stack`` when this call opened it."""
    from preflab.api.options import is_llm

    model = options.open(spec, executor=executor)
    if not is_llm(spec):
        stack.callback(model.close)
    return model


@signed(GenerateOptions, LLMOptions, ExecutorOptions)
def generate(method: str, prompts: Any = None, *, progress: bool = True, **options: Any) -> Pairs:
    """Generate preference pairs for ``prompts`` with ``method`` (``preflab.methods()`` lists them).

    ``llm`` is a spec (``llamacpp``, ``openai:MODEL``, ``hf:smollm2``, ``fake``) or an LLM you
    opened. Every LLM call goes through the call cache unless ``cache=False``. The method's own
    options (e.g. ``n=8`` for west-of-n) are keyword arguments too. Returns
    :class:`~preflab.api.data.Pairs` with ``.failures`` and ``.usage``; everything is checked
    before the first call.
    """
    from preflab import io
    from preflab.llm.usage import BudgetExceeded
    from preflab.methods.base import get_method
    from preflab.methods.context import Lazy
    from preflab.pipelines.generation import run_generation

    chosen = get_method(method)
    check = Preflight()
    parsed = check.options({"prompts": prompts, **options}, GenerateOptions, LLMOptions, ExecutorOptions, chosen.config,
                           defaults=chosen.defaults, elsewhere=other_methods(chosen.name))
    own, llm_options, cfg = parsed[GenerateOptions], parsed[LLMOptions], parsed[chosen.config]
    executor = parsed[ExecutorOptions].to_executor()
    source = example_prompts() if own.prompts is None else own.prompts
    with ExitStack() as stack:
        out = own.out
        if out is None:
            out = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="preflab-generate-"))) / "pairs.jsonl"
        check.llm(llm_options.llm, budget=llm_options)
        if own.judge_llm and own.judge_llm != llm_options.llm:
            check.llm(own.judge_llm, "judge_llm", budget=llm_options)
        from preflab.io.outputs import pairs_output

        if own.scorer is not None:
            check.scorer("scorer", own.scorer)
        check.outputs(pairs_output(str(out), ".failures.jsonl", ".run.json", ".partial.jsonl"),
                      [source], overwrite=own.overwrite)  # and every path an option reads: scorer, config, ...
        check.done()
        records = list(io.read_prompts(source))
        require_records(len(records), "prompts", str(io.memory.NAME if io.memory.is_in_memory(source) else source),
                        own.allow_empty)
        generator = _opened(stack, llm_options, llm_options.llm, executor)

        def open_judge():
            from preflab.judges import JudgeConfig, PairwiseJudge

            backend = generator
            if own.judge_llm and own.judge_llm != llm_options.llm:
                backend = _opened(stack, llm_options, own.judge_llm, executor)
            return PairwiseJudge(backend, JudgeConfig(**({"criteria": own.judge_criteria} if own.judge_criteria else {})))

        bar = stack.enter_context(Bar(f"Generating ({chosen.name})", progress))
        try:
            result = run_generation(source, out, chosen, cfg, generator, seed=own.seed, scorer=_scorer(own.scorer),
                                    judge=Lazy(open_judge), limit=own.limit, in_flight=own.in_flight, progress=bar,
                                    records=records,
                                    extra_run={"llm_spec": generator.spec, "executor": executor.record()})
        except BudgetExceeded as exc:
            raise BudgetExceeded([*exc.problems, Problem(f"finished prompts are kept in {out}.partial.jsonl — run it again "
                                                         "with the same {out} and a larger budget to continue", ("out",))]
                                 ) from None
        except KeyboardInterrupt:
            if own.out is None:  # a temporary folder: nothing outlives the call but the call cache
                raise Interrupted("finished LLM calls are kept in the call cache: run it again to redo the rest "
                                  "(pass out= to keep finished prompts too)") from None
            raise Interrupted(f"finished prompts are kept in {out}.partial.jsonl: run the same command again (the same "
                              "--out) to continue from there") from None
    return Pairs(result.pairs, {"failures": result.failures, "counts": dict(result.counts), "resumed": result.resumed,
                                "wall_s": result.wall_s, "run": result.run,
                                "path": None if own.out is None else str(own.out)})

