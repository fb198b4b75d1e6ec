"""Judge existing pairs and measure the judge: order consistency, agreement with the labels.

``judge_pairs`` asks the judge about every pair in both orders (chosen shown first, then
second) and reports how often it contradicts itself, how often it agrees with the label, and
how often it answers "A" whatever the content (position bias). Small judges are weak; the
point is to measure that honestly before trusting RLAIF labels.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from typing import Any, Iterable

from preflab.judges.pairwise import PairwiseJudge, Verdict
from preflab.records import PreferencePair


async def _window(judge: PairwiseJudge, pairs: list[PreferencePair]) -> list[Verdict]:
    return list(await asyncio.gather(*(judge.compare(p.prompt, p.chosen, p.rejected, method="judge") for p in pairs)))


def judge_pairs(judge: PairwiseJudge, pairs: Iterable[PreferencePair], *, in_flight: int = 8,
                progress=None) -> list[dict[str, Any]]:
    """One row per pair: both votes, the combined winner (0 = agrees with the label), P(chosen ≻ rejected)."""
    rows, batch = [], []
    pairs = list(pairs)

    def flush() -> None:
        for pair, verdict in zip(batch, asyncio.run(_window(judge, batch))):
            rows.append({"id": pair.id, "votes": list(verdict.votes), "winner": verdict.winner,
                         "p_chosen": verdict.p_first, "agrees": verdict.winner == 0,
                         "group": pair.provenance.get("agreement") or pair.category, "raw": list(verdict.raw)})
        if progress:
            progress(len(rows), len(pairs))
        batch.clear()

    for pair in pairs:
        batch.append(pair)
        if len(batch) >= in_flight:
            flush()
    if batch:
        flush()
    return rows


def agreement_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Rates over all judged pairs, and per group (e.g. PandaLM unanimous vs majority)."""
    def rates(subset: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(subset)
        winners = Counter(str(r["winner"]) for r in subset)
        votes = Counter(v for r in subset for v in r["votes"])
        consistent = sum(winners[k] for k in ("0", "1", "tie"))
        decided = winners["0"] + winners["1"]
        return {
            "pairs": n,
            "parsed_both_orders": n - winners["unparseable"],
            "order_consistency": consistent / n if n else None,
            "agreement_with_label_all": winners["0"] / n if n else None,
            "agreement_with_label_when_decided": winners["0"] / decided if decided else None,
            "share_of_A_votes": votes["A"] / max(1, votes["A"] + votes["B"]),
            "winners": dict(winners),
        }

    summary = {"all": rates(rows)}
    groups = sorted({r["group"] for r in rows if r["group"] is not None})
    for group in groups:
        summary[f"group:{group}"] = rates([r for r in rows if r["group"] == group])
    return summary
