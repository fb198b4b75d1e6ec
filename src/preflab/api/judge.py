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
from preflab.api.generate import open_generator
from preflab.api.options import opt, run_options_subset, signed, take
from preflab.progress import Bar
from preflab.api.shared import fmt_option
from preflab.cli.options import LLM_OPTIONS, RunOptions

#: The run options a judge takes: greedy verdicts need no seed.
JUDGE_RUN_OPTIONS = LLM_OPTIONS + ("in_flight",)


@dataclasses.dataclass(frozen=True)
class JudgeOptions:
    fmt: str = fmt_option()
    limit: Optional[int] = opt(None, "Judge only the first N pairs.")
    criteria: Optional[str] = opt(None, "What 'better' means to the judge.")
    max_tokens: int = opt(16, "Tokens the judge may write.")


#: The run options of ``preflab judge`` (greedy verdicts need no seed).
JudgeRunOptions = run_options_subset("JudgeRunOptions", JUDGE_RUN_OPTIONS)


@signed(JudgeRunOptions, JudgeOptions)
def judge(pairs: Any, *, llm: Any = "llamacpp", out: str | Path | None = None, progress: bool = True,
          **options: Any) -> dict[str, Any]:
    """Ask the judge ``llm`` (a spec or an LLM you opened) about every pair in both orders.
    Returns ``{"rows": one verdict per pair, "summary": rates per group, "judge": its id,
    "usage": tokens and calls}``; ``out`` also writes the verdicts (JSONL) and OUT.run.json."""
    from preflab.api import checks as preflights
    from preflab.io.containers import write_jsonl
    from preflab.judges import JudgeConfig, PairwiseJudge
    from preflab.judges.agreement import agreement_summary, judge_pairs
    from preflab.provenance import run_record, write_run_json

    parts = take("preflab.judge", options, JudgeRunOptions, JudgeOptions)
    run = RunOptions(**{**parts[JudgeRunOptions], **({"llm": llm} if isinstance(llm, str) else {})})
    own = JudgeOptions(**parts[JudgeOptions])
    preflights.judge(pairs, None if out is None else Path(out), llm=llm, limit=own.limit, max_tokens=own.max_tokens,
                     in_flight=run.in_flight)
    cfg = JudgeConfig(max_tokens=own.max_tokens, **({"criteria": own.criteria} if own.criteria else {}))
    items = list(read_pairs(pairs, own.fmt))[:own.limit]
    with ExitStack() as stack:
        model = open_generator(run, llm, stack)
        pj = PairwiseJudge(model, cfg)
        with Bar("Judging (both orders)", progress) as bar:
            rows = judge_pairs(pj, items, in_flight=run.in_flight, progress=bar)
        summary = agreement_summary(rows)
        usage = model.usage.summary()
    record = run_record("judge", cfg, inputs={"pairs": pairs}, counts={"pairs": len(rows)}, judge=pj.id,
                        summary=summary, usage=usage)
    if out is not None:
        write_jsonl(rows, out)
        write_run_json(Path(str(out) + ".run.json"), record)
    return {"rows": rows, "summary": summary, "judge": pj.id, "usage": usage, "run": record}
