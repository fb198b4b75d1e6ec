"""A pairwise LLM judge that asks in both orders and says when it contradicts itself.

LLM judges prefer whichever response they see first (or second) far more often than chance,
small ones especially. Asking A-vs-B and B-vs-A and mapping both answers back to the same
responses cancels that bias where the judge is consistent, and *measures* it where it is not:
every verdict records both raw answers, and the order-consistency is a first-class result.

>>> parse_verdict("After thinking, [[B]] is better.")
'B'
>>> parse_verdict("A. Response A is more complete.")
'A'
>>> parse_verdict("Both are fine") is None
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from preflab.config import option
from preflab.llm.base import Request
from preflab.prompting import load_template, render_conversation
from preflab.records import Message

_BRACKET = re.compile(r"\[\[\s*(a|b|tie)\s*\]\]", re.IGNORECASE)
_LEADING = re.compile(r"^\s*(?:\*\*)?(?:response\s+)?(a|b)(?:\*\*)?(?:[\s.:,)!]|$)", re.IGNORECASE)
_TIE = re.compile(r"^\s*(?:\[\[)?\s*tie\b", re.IGNORECASE)


def parse_verdict(text: str) -> str | None:
    """``"A"``, ``"B"``, ``"tie"`` or ``None`` (unparseable). Bracketed answers win; if the
    brackets disagree with each other the answer is unparseable, not a guess."""
    found = {m.lower() for m in _BRACKET.findall(text)}
    if len(found) == 1:
        value = found.pop()
        return "tie" if value == "tie" else value.upper()
    if len(found) > 1:
        return None
    if _TIE.match(text):
        return "tie"
    lead = _LEADING.match(text)
    return lead.group(1).upper() if lead else None


@dataclass(frozen=True)
class JudgeConfig:
    criteria: str = option("helpfulness, correctness, harmlessness", "What 'better' means, told to the judge.")
    temperature: float = option(0.0, "Judge sampling temperature (0 = greedy).")
    max_tokens: int = option(16, "Tokens the judge may write; the verdict comes first.")
    template_version: str = option("v1", "Version of the judge template (preflab/templates).")


@dataclass(frozen=True)
class Verdict:
    """The judge's view of (first, second), from both orders.

    ``winner``: 0 (first better), 1 (second better), ``"tie"``, ``"inconsistent"`` (the two
    orders disagree) or ``"unparseable"``. ``p_first`` is P(first ≻ second) averaged over
    the two orders (win 1, tie 0.5, loss 0; an unparseable order counts 0.5).
    """

    winner: int | Literal["tie", "inconsistent", "unparseable"]
    votes: tuple[str | None, str | None]
    p_first: float
    raw: tuple[str, str] = field(default=("", ""))

    @property
    def consistent(self) -> bool:
        return self.winner in (0, 1, "tie")


def _first_score(vote: str | None, first_is: str) -> float:
    if vote is None or vote == "tie":
        return 0.5
    return 1.0 if vote == first_is else 0.0


def combine(vote_ab: str | None, vote_ba: str | None, raw: tuple[str, str] = ("", "")) -> Verdict:
    """Map the A/B answers of both orders onto (first, second)."""
    p = (_first_score(vote_ab, "A") + _first_score(vote_ba, "B")) / 2
    if vote_ab is None or vote_ba is None:
        return Verdict("unparseable", (vote_ab, vote_ba), p, raw)
    mapped = {"A": 0, "B": 1, "tie": "tie"}[vote_ab], {"A": 1, "B": 0, "tie": "tie"}[vote_ba]
    winner: Any = mapped[0] if mapped[0] == mapped[1] else "inconsistent"
    return Verdict(winner, (vote_ab, vote_ba), p, raw)


class PairwiseJudge:
    """Judge with an :class:`~preflab.llm.client.LLM`. Greedy by default, so a verdict is a
    function of the inputs and is cached like any other call."""

    def __init__(self, llm: Any, cfg: JudgeConfig | None = None) -> None:
        self.llm, self.cfg = llm, cfg or JudgeConfig()
        self.template = load_template("judge_pairwise", self.cfg.template_version)

    @property
    def id(self) -> dict[str, Any]:
        return {"backend": self.llm.kind, "model": self.llm.model_id,
                "template": self.template.ref, "criteria": self.cfg.criteria}

    def _ask(self, prompt: list[Message], a: str, b: str) -> list[Message]:
        return self.template.messages(criteria=self.cfg.criteria, prompt=render_conversation(prompt),
                                    response_a=a, response_b=b)

    async def compare(self, prompt: list[Message], first: str, second: str, *, method: str = "judge") -> Verdict:
        opts = {"temperature": self.cfg.temperature, "max_tokens": self.cfg.max_tokens, "seed": 0}
        (ab,), (ba,) = await self.llm.acomplete_many([Request(self._ask(prompt, first, second), opts, method),
                                                      Request(self._ask(prompt, second, first), opts, method)])
        return combine(parse_verdict(ab.text), parse_verdict(ba.text), (ab.text, ba.text))

    async def knockout(self, prompt: list[Message], responses: list[str], *, best: bool, method: str = "judge") -> tuple[int, list[dict]]:
        """Index of the best (or worst) response after N − 1 comparisons, each in both orders.
        A tie or an inconsistent verdict keeps the incumbent (recorded in the log)."""
        incumbent, log = 0, []
        for challenger in range(1, len(responses)):
            verdict = await self.compare(prompt, responses[incumbent], responses[challenger], method=method)
            p_incumbent_wins = verdict.p_first if best else 1.0 - verdict.p_first
            replaced = p_incumbent_wins < 0.5
            log.append({"incumbent": incumbent, "challenger": challenger, "winner": verdict.winner,
                        "p_first": verdict.p_first, "replaced": replaced})
            if replaced:
                incumbent = challenger
        return incumbent, log
