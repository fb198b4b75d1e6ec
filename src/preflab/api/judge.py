"""``preflab.judge``: an LLM judge on labelled pairs, asked in both orders, measured against
the labels (order consistency, agreement, position bias; per group) — ``preflab judge``.

>>> import preflab
>>> from preflab import PreferencePair, text_prompt
>>> pairs = [PreferencePair(prompt=text_prompt("2+2?"), chosen="4", rejected="5")]
>>> verdicts = preflab.judge(pairs, llm="fake#answer=A", cache=False, progress=False)
>>> verdicts["summary"]["all"]["pairs"], verdicts["rows"][0]["votes"]
(1, ['A', 'A'])
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from pathlib import Path
from typing import Any, Optional

from preflab.api.data import read_pairs
from preflab.api.options import IN_FLIGHT_HELP, LLMOptions, fmt_option, is_llm, signed
from preflab.api.preflight import Preflight
from preflab.config import option
from preflab.progress import Bar


@dataclasses.dataclass(frozen=True)
class JudgeOptions:
    """``preflab judge``'s own options (besides the LLM's; greedy verdicts need no seed)."""

    out: Optional[Path] = option(None, "Per-pair verdicts (.jsonl); OUT.run.json gets the summary (in Python, without "
                                 "it nothing is written).", flag=("--out", "-o"))
    fmt: str = fmt_option()
    limit: Optional[int] = option(None, "Judge only the first N pairs.")
    criteria: Optional[str] = option(None, "What 'better' means to the judge.")
    max_tokens: int = option(16, "Tokens the judge may write.")
    in_flight: int = option(8, IN_FLIGHT_HELP)


@signed(JudgeOptions, LLMOptions)
def judge(pairs: Any, *, progress: bool = True, **options: Any) -> dict[str, Any]:
    """Ask the judge ``llm`` (a spec or an LLM you opened) about every pair in both orders.
    Returns ``{"rows": one verdict per pair, "summary": rates per group, "judge": its id,
    "usage": tokens and calls, "run": the run record}``; ``out`` also writes the verdicts
    (JSONL) and OUT.run.json."""
    from preflab.io.containers import write_jsonl
    from preflab.io.outputs import file_output
    from preflab.judges import JudgeConfig, PairwiseJudge
    from preflab.judges.agreement import agreement_summary, judge_pairs
    from preflab.provenance import run_record, write_run_json

    check = Preflight()
    parsed = check.options(options, JudgeOptions, LLMOptions)
    own, llm_options = parsed[JudgeOptions], parsed[LLMOptions]
    check.llm(llm_options.llm, budget=llm_options)
    check.outputs([] if own.out is None else file_output(own.out, ".run.json"), [pairs])
    check.done()
    cfg = JudgeConfig(max_tokens=own.max_tokens, **({"criteria": own.criteria} if own.criteria else {}))
    items = list(read_pairs(pairs, own.fmt))[:own.limit]
    with ExitStack() as stack:
        model = llm_options.open()
        if not is_llm(llm_options.llm):
            stack.callback(model.close)
        pj = PairwiseJudge(model, cfg)
        with Bar("Judging (both orders)", progress) as bar:
            rows = judge_pairs(pj, items, in_flight=own.in_flight, progress=bar)
        summary = agreement_summary(rows)
        usage = model.usage.summary()
    record = run_record("judge", cfg, inputs={"pairs": pairs}, counts={"pairs": len(rows)}, judge=pj.id,
                        summary=summary, usage=usage)
    if own.out is not None:
        write_jsonl(rows, own.out)
        write_run_json(Path(str(own.out) + ".run.json"), record)
    return {"rows": rows, "summary": summary, "judge": pj.id, "usage": usage, "run": record}
