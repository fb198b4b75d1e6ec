"""``preflab.meta_set``: k samples per prompt from the current policy, the meta set MetaRM
trains its reward model to keep separating (``preflab meta-set``; ``preflab train-rm
--meta-set`` reads it).

>>> import preflab
>>> from preflab.llm.fake import fake_llm
>>> policy = fake_llm(default=lambda messages, options, seed: f"sample {seed}")   # a new answer per sample
>>> sampled = preflab.meta_set(["Name a bird.", "Name a tree."], llm=policy, k=2)
>>> sampled["run"]["counts"], len(sampled["rows"][0]["responses"])
({'prompts': 2, 'rows': 2}, 2)
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Optional

from preflab.api.options import SEED_HELP, LLMOptions, is_llm, signed
from preflab.api.preflight import Preflight
from preflab.config import option


@dataclasses.dataclass(frozen=True)
class MetaSetOptions:
    """``preflab meta-set``'s own options (besides the LLM's)."""

    prompts: Optional[Path] = option(None, "Prompts (any file preflab reads prompts from; in Python also prompt "
                                     "strings, records, dicts, a Dataset or a DataFrame).", flag=("--prompts", "-p"),
                                     objects=True, reads=True)
    out: Optional[Path] = option(None, "Meta set (.jsonl): prompt + k responses per row; OUT.run.json beside it "
                                 "(in Python, without it nothing is written).", flag=("--out", "-o"))
    k: int = option(4, "Responses per prompt.", low=2)
    limit: Optional[int] = option(None, "Use only the first N prompts.")
    temperature: float = option(0.9, "Sampling temperature.", low=0)
    max_tokens: int = option(128, "Most tokens per response.")
    seed: int = option(0, SEED_HELP)


@signed(MetaSetOptions, LLMOptions)
def meta_set(prompts: Any = None, **options: Any) -> dict[str, Any]:
    """k distinct samples per prompt from the policy ``llm`` (a spec or an LLM you opened);
    prompts whose samples are not k distinct non-empty texts are left out. Returns ``{"rows":
    one {prompt, responses} per kept prompt, "run": the run record}``; ``out`` also writes the
    rows (JSONL) and OUT.run.json."""
    from preflab import io
    from preflab.errors import about
    from preflab.io.containers import write_jsonl
    from preflab.io.outputs import file_output
    from preflab.provenance import run_record, sidecar, write_run_json
    from preflab.rm.metarm import sample_meta_set

    check = Preflight()
    parsed = check.options({"prompts": prompts, **options}, MetaSetOptions, LLMOptions)
    own, llm_options = parsed[MetaSetOptions], parsed[LLMOptions]
    if own.prompts is None:
        check.add(about("prompts", "is required"))
    check.llm(llm_options.llm, budget=llm_options)
    check.outputs([] if own.out is None else file_output(own.out), [own.prompts])
    check.done()
    records = list(io.read_prompts(own.prompts))[:own.limit]
    with ExitStack() as stack:
        model = llm_options.open()
        if not is_llm(llm_options.llm):
            stack.callback(model.close)
        rows = sample_meta_set(records, model, k=own.k, temperature=own.temperature, max_tokens=own.max_tokens,
                               seed=own.seed)
        usage, generator = model.usage.summary(), {"backend": model.kind, "model": model.model_id}
    spec = llm_options.llm if isinstance(llm_options.llm, str) else model.spec
    settings = {"llm": spec, "k": own.k, "limit": own.limit, "temperature": own.temperature,
                "max_tokens": own.max_tokens}
    record = run_record("meta-set", settings, inputs={"prompts": own.prompts}, seed=own.seed, generator=generator,
                        counts={"prompts": len(records), "rows": len(rows)}, usage=usage)
    if own.out is not None:
        write_jsonl(rows, own.out)
        write_run_json(sidecar(own.out), record)
    return {"rows": rows, "run": record}
