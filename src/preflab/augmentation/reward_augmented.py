"""Reward-augmented preference data for DPO.

Zhang et al., "Reward-Augmented Data Enhances Direct Preference Alignment of LLMs",
arXiv 2410.08067 (ICML 2025); docs/methods.md#reward-augmented-dpo-data. A scored pair (x, y_w, y_l, s_w, s_l) becomes two
goal-conditioned DPO examples:

- positive goal: prompt g(s_w) + x, chosen y_w, rejected y_l;
- negative goal: prompt g(s_l) + x, chosen y_l, rejected y_w (order reversed).

The policy thus learns what a response of each quality looks like instead of only "w beats l",
and at inference it is conditioned on the top score (:func:`goal_prompt`).

>>> from preflab.records import PreferencePair, text_prompt
>>> pair = PreferencePair(prompt=text_prompt("Name a prime."), chosen="7", rejected="8",
...                       chosen_score=9, rejected_score=3)
>>> pos, neg = augment_pairs([pair], AugmentConfig(goal="user", template="Score {score}."))
>>> pos.prompt[-1].content, pos.chosen, neg.prompt[-1].content, neg.chosen
('Score 9.\\n\\nName a prime.', '7', 'Score 3.\\n\\nName a prime.', '8')

The public reference code forgets to swap chosen/rejected in its "nosys" negative branch;
here both variants swap. Ties (s_w == s_l) are explicit: ``positive-only`` (default) keeps
one copy, ``drop`` removes the pair, ``both`` keeps both copies (they then contradict each
other under the same goal — only for ablations). So are contradictions (s_w < s_l, common in
a reward model's scores of human-labelled pairs): ``refuse`` (default), ``drop`` the pair, or
order it ``by-score`` (the higher-scored response becomes chosen; the swap is recorded).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, Literal

from preflab.config import option, validate
from preflab.errors import ConfigError, InputError, Problem, about
from preflab.records import Message, PreferencePair

DEFAULT_TEMPLATE = (
    "You are an assistant that generates responses for the instruction while implicitly achieving "
    "the following target scores (on a scale of {min}-{max}, where {min} is lowest and {max} is "
    "highest):\nOverall score: {score}."
)
TEMPLATE_VERSION = "reward-augmented/v1"


@dataclass(frozen=True)
class AugmentConfig:
    """Options of ``preflab augment`` (field help is the CLI help)."""

    goal: Literal["system", "user"] = option("system", "Where the goal goes: system (a system message, merged before an existing one) or user (prepended to the last user turn: the paper's nosys variant).")
    template: str = option(DEFAULT_TEMPLATE, "Goal text; placeholders {score}, {min}, {max}.")
    scale_min: float = option(1.0, "Lowest score of the scale.")
    scale_max: float = option(10.0, "Highest score of the scale (the inference-time goal).")
    decimals: int = option(0, "Digits after the point when writing scores (UltraFeedback overall scores need 1).")
    ties: Literal["positive-only", "drop", "both"] = option("positive-only", "Pairs with equal scores: positive-only (one copy), drop, or both copies.")
    contradictions: Literal["refuse", "drop", "by-score"] = option(
        "refuse", "Pairs whose chosen_score is below their rejected_score (a reward model that disagrees with the "
        "label): refuse, drop them, or order them by-score (the higher-scored response becomes chosen).")

    def problems(self) -> list[Problem]:
        """This config's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        problems = []
        if self.scale_min >= self.scale_max:
            problems.append(Problem(f"{{scale_min}} ({self.scale_min}) must be below {{scale_max}} ({self.scale_max})",
                                    ("scale_min", "scale_max")))
        if "{score}" not in self.template:
            problems.append(about("template", "must contain {score}"))
        if self.goal not in ("system", "user"):
            problems.append(about("goal", f"must be system or user, not {self.goal!r}"))
        if self.ties not in ("positive-only", "drop", "both"):
            problems.append(about("ties", f"must be positive-only, drop or both, not {self.ties!r}"))
        if self.contradictions not in ("refuse", "drop", "by-score"):
            problems.append(about("contradictions", f"must be refuse, drop or by-score, not {self.contradictions!r}"))
        return problems


def format_score(score: float, cfg: AugmentConfig) -> str:
    """``score`` with ``cfg.decimals`` digits; a score that rounds to zero is written ``0``,
    never ``-0`` (reward-model scores sit around zero)."""
    text = f"{score:.{cfg.decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def goal_text(score: float, cfg: AugmentConfig) -> str:
    return cfg.template.format(score=format_score(score, cfg), min=format_score(cfg.scale_min, cfg),
                               max=format_score(cfg.scale_max, cfg))


def goal_prompt(prompt: list[Message], score: float, cfg: AugmentConfig) -> list[Message]:
    """``prompt`` conditioned on ``score``; at inference use ``score=cfg.scale_max``."""
    text = goal_text(score, cfg)
    messages = list(prompt)
    if cfg.goal == "system":
        if messages and messages[0].role == "system":
            merged = f"{text}\n\n{messages[0].content}" if messages[0].content else text
            return [Message(role="system", content=merged)] + messages[1:]
        return [Message(role="system", content=text)] + messages
    last = messages[-1]
    return messages[:-1] + [Message(role="user", content=f"{text}\n\n{last.content}")]


def _scores(pair: PreferencePair, cfg: AugmentConfig, row: int | None) -> tuple[float, float]:
    for field in ("chosen_score", "rejected_score"):
        value = getattr(pair, field)
        if value is None:
            raise InputError(f"pair {pair.id} has no score; score pairs first (judge, RM) or map score columns",
                             field=field, row=row)
        if not cfg.scale_min <= value <= cfg.scale_max:
            raise InputError(f"pair {pair.id}: score {value} lies outside the scale "
                             f"[{cfg.scale_min:g}, {cfg.scale_max:g}]; set --scale-min/--scale-max", field=field, row=row)
    return pair.chosen_score, pair.rejected_score  # type: ignore[return-value]


def _by_score(pair: PreferencePair) -> PreferencePair:
    """``pair`` ordered by its scores: the higher-scored response chosen, the swap recorded."""
    return pair.model_copy(update={
        "chosen": pair.rejected, "rejected": pair.chosen, "chosen_score": pair.rejected_score,
        "rejected_score": pair.chosen_score, "provenance": {**pair.provenance, "reordered_by_score": True}})


def _copy(pair: PreferencePair, score: float, swap: bool, kind: str, cfg: AugmentConfig) -> PreferencePair:
    chosen, rejected = (pair.rejected, pair.chosen) if swap else (pair.chosen, pair.rejected)
    scores = (pair.rejected_score, pair.chosen_score) if swap else (pair.chosen_score, pair.rejected_score)
    return PreferencePair(
        prompt=goal_prompt(pair.prompt, score, cfg), chosen=chosen, rejected=rejected,
        chosen_score=scores[0], rejected_score=scores[1], category=pair.category,
        provenance={**pair.provenance, "augment": {
            "kind": kind, "goal_score": score, "source_id": pair.id, "goal": cfg.goal,
            "template_version": TEMPLATE_VERSION,
        }},
    )


def augment_pairs(pairs: Iterable[PreferencePair], cfg: AugmentConfig, counts: Counter | None = None) -> Iterator[PreferencePair]:
    """Yield the positive and negative goal copies of every scored pair.

    A pair whose chosen score is below its rejected score is a contradiction between label and
    scores; ``cfg.contradictions`` says what happens to it, never silently: refused
    (InputError naming the pair's row), dropped or re-ordered by score, and counted.
    """
    validate(cfg)
    counts = counts if counts is not None else Counter()
    for row, pair in enumerate(pairs):
        s_w, s_l = _scores(pair, cfg, row)
        counts["pairs_in"] += 1
        if s_w < s_l:
            if cfg.contradictions == "refuse":
                raise InputError(f"pair {pair.id}: chosen_score {s_w} < rejected_score {s_l}: the scores contradict "
                                 "the label; pass --contradictions drop or by-score, or fix the labels or the score "
                                 "columns", field="chosen_score", row=row)
            counts["contradictions"] += 1
            if cfg.contradictions == "drop":
                continue
            pair, (s_w, s_l) = _by_score(pair), (s_l, s_w)
        if s_w == s_l:
            counts["ties"] += 1
            if cfg.ties == "drop":
                continue
            yield _copy(pair, s_w, False, "positive", cfg)
            counts["positive"] += 1
            if cfg.ties == "both":
                yield _copy(pair, s_l, True, "negative", cfg)
                counts["negative"] += 1
            continue
        yield _copy(pair, s_w, False, "positive", cfg)
        yield _copy(pair, s_l, True, "negative", cfg)
        counts["positive"] += 1
        counts["negative"] += 1


_TEST_TOKENS = {"test", "testing", "heldout"}


def refuse_test_split(path: str | Path, split: str | None = None) -> None:
    """Test pairs are never augmented (docs/methods.md#reward-augmented-dpo-data): refuse a split named test or a file whose
    name says it is one (``hh_test.jsonl``, ``test/``), before any work is done."""
    if split is not None and split.lower() in _TEST_TOKENS:
        raise ConfigError(f"refusing to augment the {split!r} split: test pairs are never augmented")
    path = Path(str(path))
    name = path.name.lower().split(".")[0]
    tokens = set(re.split(r"[^a-z0-9]+", name)) | {path.parent.name.lower()}
    if tokens & _TEST_TOKENS:
        raise ConfigError(f"refusing to augment {path}: its name marks it as a test split; test pairs are "
                          "never augmented (rename it or pass --not-test if it really is training data)")
