"""Adapters for real preference sources whose layout is not a plain pair table.

HH-RLHF (Anthropic) stores each side as a whole transcript::

    "\\n\\nHuman: hi\\n\\nAssistant: hello\\n\\nHuman: joke?\\n\\nAssistant: <response>"

The prompt is the shared prefix up to the last "\\n\\nAssistant:", split into chat messages. In
a few pairs the two transcripts diverge before their last assistant turn (the harmless-base test
split has 5 of 2,312); those keep the longest shared prefix that ends at an assistant marker as
the prompt, are tagged ``provenance["hh_prefix"] = "mismatch"`` and are reported by id — never
dropped silently. HH-RLHF also has pairs whose preferred reply is empty (an annotator chose
saying nothing over a harmful answer): they are real labels, kept and reported as
``empty_response``.

PandaLM's test set has three human votes per pair (1 = response1, 2 = response2, 0 = tie). The
majority gives the label; ties and votes with no majority are not pairs and are counted instead.
Some models answered nothing; those empty responses are real (losing) data, kept and reported.
Six answers are stored as JSON ``true``; they are read back as the text "True" and counted.
``provenance["agreement"]`` is ``unanimous`` (3 of 3) or ``majority`` (2 of 3), a real
confidence level to compare preference-strength estimates against.
"""

from __future__ import annotations

import os
import random
import re
from collections import Counter
from typing import Any, Callable

from preflab.errors import InputError
from preflab.records import Message, PreferencePair, build

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"
_TURN = re.compile(r"\n\n(Human|Assistant):")
_ROLE = {"Human": "user", "Assistant": "assistant"}


class Notes:
    """What an adapter saw besides records: counts by kind and the ids involved."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.ids: dict[str, list[str]] = {}

    def add(self, kind: str, record_id: str | None = None) -> None:
        self.counts[kind] += 1
        if record_id is not None:
            self.ids.setdefault(kind, []).append(record_id)


def _strip_marker_space(text: str) -> str:
    return text[1:] if text.startswith(" ") else text


def _mark_empty(pair: PreferencePair, notes: Notes) -> PreferencePair:
    """Record on the pair itself that its empty response is real data, so the pair can be
    written and read back (readers otherwise refuse empty responses)."""
    notes.add("empty_response", pair.id)
    return pair.model_copy(update={"provenance": {**pair.provenance, "empty_response": True}})


def parse_transcript(text: str) -> list[Message]:
    """HH-style transcript → chat messages.

    >>> [(m.role, m.content) for m in parse_transcript("\\n\\nHuman: hi\\n\\nAssistant: yo")]
    [('user', 'hi'), ('assistant', 'yo')]
    """
    parts = _TURN.split(text)
    if parts[0].strip():
        raise InputError("transcript must start with '\\n\\nHuman:'", field="chosen")
    return [
        Message(role=_ROLE[speaker], content=_strip_marker_space(content))
        for speaker, content in zip(parts[1::2], parts[2::2])
    ]


def hh_rlhf_pair(row: dict[str, Any], notes: Notes) -> PreferencePair:
    for key in ("chosen", "rejected"):
        if not isinstance(row.get(key), str):
            raise InputError("missing required field" if key not in row else "expected a string", field=key)
    chosen, rejected = row["chosen"], row["rejected"]
    shared = os.path.commonprefix([chosen, rejected])
    cut = shared.rfind(ASSISTANT)
    if cut < 0:
        raise InputError("the two transcripts share no prefix ending in '\\n\\nAssistant:'", field="chosen")
    prompt_text = shared[:cut]
    chosen_reply = _strip_marker_space(chosen[cut + len(ASSISTANT):])
    rejected_reply = _strip_marker_space(rejected[cut + len(ASSISTANT):])
    mismatch = any(marker in reply for reply in (chosen_reply, rejected_reply) for marker in (HUMAN, ASSISTANT))
    provenance = {"source": "hh-rlhf"}
    if mismatch:
        provenance["hh_prefix"] = "mismatch"
    pair = build(PreferencePair, {
        "prompt": parse_transcript(prompt_text),
        "chosen": chosen_reply,
        "rejected": rejected_reply,
        "provenance": provenance,
    }, allow_empty=True)
    if mismatch:
        notes.add("hh_prefix_mismatch", pair.id)
    if not pair.chosen.strip() or not pair.rejected.strip():
        pair = _mark_empty(pair, notes)
    return pair


def _votes(row: dict[str, Any]) -> list[int]:
    votes = []
    for key in ("annotator1", "annotator2", "annotator3"):
        value = row.get(key)
        if key not in row:
            raise InputError("missing required field", field=key)
        if value not in (0, 1, 2):
            raise InputError(f"expected 0, 1 or 2, got {value!r}", field=key)
        votes.append(int(value))
    return votes


def _response_text(row: dict[str, Any], key: str, notes: Notes) -> str:
    """PandaLM's JSON stores a few one-word answers as JSON booleans (``true`` for "True"):
    turned back into their text and counted as ``coerced_response``."""
    value = row[key]
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        notes.add("coerced_response")
        return str(value)
    raise InputError(f"expected a string, got {type(value).__name__}", field=key)


def pandalm_pair(row: dict[str, Any], notes: Notes) -> PreferencePair | None:
    votes = _votes(row)
    label, count = Counter(votes).most_common(1)[0]
    if count < 2:
        notes.add("pandalm_no_majority")
        return None
    if label == 0:
        notes.add("pandalm_tie")
        return None
    for key in ("instruction", "response1", "response2"):
        if key not in row:
            raise InputError("missing required field", field=key)
    if not isinstance(row["instruction"], str):
        raise InputError("expected a string", field="instruction")
    instruction, extra_input = row["instruction"], row.get("input") or ""
    text = f"{instruction}\n\n{extra_input}" if extra_input.strip() else instruction
    responses = {i: _response_text(row, f"response{i}", notes) for i in (1, 2)}
    pair = build(PreferencePair, {
        "prompt": [{"role": "user", "content": text}],
        "chosen": responses[label],
        "rejected": responses[3 - label],
        "category": row.get("motivation_app"),
        "provenance": {
            "source": "pandalm",
            "source_index": row.get("idx"),
            "cmp_key": row.get("cmp_key"),
            "votes": votes,
            "agreement": "unanimous" if count == 3 else "majority",
            "chosen_position": label,
        },
    }, allow_empty=True)
    if not pair.rejected.strip() or not pair.chosen.strip():
        pair = _mark_empty(pair, notes)
    return pair


def ultrafeedback_pair(row: dict[str, Any], notes: Notes, seed: int = 0) -> PreferencePair | None:
    """UltraFeedback's raw layout (``instruction`` + ``completions`` with ``overall_score``):
    chosen = the top overall score, rejected = a seeded random other completion, as the
    reward-augmented paper and the binarized UltraFeedback recipe do. The draw depends on the
    seed and the instruction only, so it does not change when rows are reordered."""
    instruction = row.get("instruction")
    if not isinstance(instruction, str):
        raise InputError("missing required field" if "instruction" not in row else "expected a string", field="instruction")
    completions = row.get("completions")
    if not isinstance(completions, list):
        raise InputError("missing required field" if "completions" not in row else "expected a list", field="completions")
    usable = []
    for index, item in enumerate(completions):
        where = f"completions.{index}"
        if not isinstance(item, dict) or not isinstance(item.get("response"), str):
            raise InputError("expected an object with a string response", field=f"{where}.response")
        score = item.get("overall_score")
        if not isinstance(score, (int, float)) or isinstance(score, bool):
            raise InputError(f"expected a number, got {score!r}", field=f"{where}.overall_score")
        if item["response"].strip():
            usable.append(item)
    rng = random.Random(f"{seed}:{instruction}")
    top = max(item["overall_score"] for item in usable) if usable else None
    best = [item for item in usable if item["overall_score"] == top]
    if not best:
        notes.add("ultrafeedback_too_few_completions")
        return None
    chosen = rng.choice(best)
    others = [item for item in usable if item["response"] != chosen["response"]]
    if not others:
        notes.add("ultrafeedback_too_few_completions")
        return None
    rejected = rng.choice(others)
    return build(PreferencePair, {
        "prompt": [{"role": "user", "content": instruction}],
        "chosen": chosen["response"], "rejected": rejected["response"],
        "chosen_score": float(chosen["overall_score"]), "rejected_score": float(rejected["overall_score"]),
        "category": row.get("source"),
        "provenance": {"source": "ultrafeedback", "chosen_model": chosen.get("model"),
                       "rejected_model": rejected.get("model"), "seed": seed,
                       "n_completions": len(completions)},
    })


Adapter = Callable[..., "PreferencePair | None"]
PAIR_SOURCES: dict[str, Adapter] = {"hh-rlhf": hh_rlhf_pair, "pandalm": pandalm_pair, "ultrafeedback": ultrafeedback_pair}
SEEDED_SOURCES = {"ultrafeedback"}


def sniff_pair_format(row: dict[str, Any]) -> str:
    """Guess the layout of a pair file from its first row."""
    if "response1" in row and "annotator1" in row:
        return "pandalm"
    if "completions" in row and "instruction" in row:
        return "ultrafeedback"
    chosen = row.get("chosen")
    if "prompt" not in row and isinstance(chosen, str) and chosen.startswith(HUMAN):
        return "hh-rlhf"
    return "pairs"
