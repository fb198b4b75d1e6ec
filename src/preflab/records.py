"""The two records everything in preflab passes around: a preference pair and a prompt.

A prompt is always stored as chat messages; a plain-text prompt is one user message. This
keeps one schema for every file format (Arrow needs one type per column) and makes the plain
and conversational TRL forms convert losslessly (see ``huggingface/trl``
``docs/source/dataset_formats.md``):

>>> pair = PreferencePair(prompt=text_prompt("2+2?"), chosen="4", rejected="5")
>>> to_trl(pair)
{'prompt': '2+2?', 'chosen': '4', 'rejected': '5'}
>>> to_trl(pair, conversational=True)["chosen"]
[{'role': 'assistant', 'content': '4'}]
>>> from_trl(to_trl(pair, conversational=True)) == pair
True

The id hashes the prompt and the two responses as an unordered set, so flipping a pair's
label keeps its id and the same comparison read twice is recognised as a duplicate.
"""

from __future__ import annotations

import hashlib
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from preflab.errors import InputError

Role = Literal["system", "user", "assistant"]

#: Columns of a preference pair in preflab's own files, in order.
PAIR_FIELDS = (
    "id", "prompt", "chosen", "rejected", "chosen_score", "rejected_score", "margin",
    "smoothing", "weight", "strength_mean", "strength_std", "flipped", "category", "provenance",
)


class Message(BaseModel):
    """One chat turn."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    role: Role
    content: str


def _digest(kind: str, parts: list[str]) -> str:
    """sha256 over length-prefixed strings: unambiguous (no separator can be forged by the
    text) and several times cheaper than hashing a canonical JSON dump."""
    text = "".join(f"{len(part)}:{part}" for part in [kind, *parts])
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def _prompt_parts(prompt: list[Message]) -> list[str]:
    return [piece for m in prompt for piece in (m.role, m.content)]


def pair_id(prompt: list[Message], chosen: str, rejected: str) -> str:
    """Stable id of a comparison: the prompt plus the two responses, order-free.

    >>> p = text_prompt("hi")
    >>> pair_id(p, "a", "b") == pair_id(p, "b", "a")
    True
    """
    return _digest("pair", _prompt_parts(prompt) + sorted([chosen, rejected]))


def prompt_id(prompt: list[Message]) -> str:
    """Stable id of a prompt."""
    return _digest("prompt", _prompt_parts(prompt))


def _check_prompt(messages: list[Message]) -> list[Message]:
    if not messages:
        raise ValueError("prompt has no messages")
    if messages[-1].role != "user":
        raise ValueError(f"prompt must end with a user turn, not {messages[-1].role!r}")
    if not messages[-1].content.strip():
        raise ValueError("the last user turn of the prompt is empty")
    return messages


#: A prompt: at least one message, ending with a non-empty user turn.
Prompt = Annotated[list[Message], AfterValidator(_check_prompt)]


class PromptRecord(BaseModel):
    """An unlabelled prompt (generation input)."""

    model_config = ConfigDict(extra="forbid")
    id: str = ""
    prompt: Prompt
    category: str | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _fill_id(self) -> "PromptRecord":
        if not self.id:
            self.id = prompt_id(self.prompt)
        return self


class PreferencePair(BaseModel):
    """One preference: ``chosen`` is preferred over ``rejected`` as a reply to ``prompt``.

    Optional columns feed the reward-model trainer directly: per-pair ``margin`` (loss
    ``-log σ(Δ - margin)``), ``smoothing`` (label-smoothing α), ``weight``; ``strength_mean`` /
    ``strength_std`` come from an RM ensemble; ``flipped`` records a label repair.
    ``provenance`` holds how the pair was made (method, generator, judge, seed, template
    version, raw outputs) and anything a source file carried beyond these columns.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)  # a NaN weight would train a NaN model
    id: str = ""
    prompt: Prompt
    chosen: str
    rejected: str
    chosen_score: float | None = None
    rejected_score: float | None = None
    margin: float | None = None
    smoothing: float | None = None
    weight: float | None = None
    strength_mean: float | None = None
    strength_std: float | None = None
    flipped: bool = False
    category: str | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)

    @field_validator("chosen", "rejected")
    @classmethod
    def _non_empty(cls, v: str, info: ValidationInfo) -> str:
        # An empty response is an error unless a source adapter says it is real data
        # (HH-RLHF has annotators preferring an empty reply); it passes context allow_empty.
        if not v.strip() and not (info.context or {}).get("allow_empty"):
            raise ValueError("response is empty")
        return v

    @field_validator("smoothing")
    @classmethod
    def _alpha_range(cls, v: float | None) -> float | None:
        if v is not None and not 0.0 <= v <= 0.5:
            raise ValueError(f"label smoothing must lie in [0, 0.5], got {v}")
        return v

    @model_validator(mode="after")
    def _distinct_and_id(self) -> "PreferencePair":
        if self.chosen == self.rejected:
            raise ValueError("chosen and rejected are identical")
        if not self.id:
            self.id = pair_id(self.prompt, self.chosen, self.rejected)
        return self


def text_prompt(text: str, system: str | None = None) -> list[Message]:
    """A plain-text prompt as messages (an optional system turn first)."""
    head = [Message(role="system", content=system)] if system is not None else []
    return head + [Message(role="user", content=text)]


def prompt_as_text(prompt: list[Message]) -> str | None:
    """The plain-text form of a single user turn, or ``None`` if the prompt has more turns."""
    if len(prompt) == 1 and prompt[0].role == "user":
        return prompt[0].content
    return None


def build(model: type[BaseModel], data: dict[str, Any], *, allow_empty: bool = False, **where: Any):
    """Validate ``data`` into ``model``, turning pydantic's error into an :class:`InputError`
    that names the first failing field (``where`` carries path/line/row)."""
    try:
        return model.model_validate(data, context={"allow_empty": allow_empty})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"]) or None
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "missing required field"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "finite_number":
            shown = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}.get(repr(err.get("input")), repr(err.get("input")))
            msg = f"{shown} is not a finite number (JSON has no NaN or Infinity; write null for a missing value)"
        raise InputError(msg, field=loc, **where) from None


def to_row(record: PreferencePair | PromptRecord) -> dict[str, Any]:
    """The record as plain JSON-ready data (preflab's own file layout)."""
    return record.model_dump()


def to_trl(pair: PreferencePair, conversational: bool | None = None) -> dict[str, Any]:
    """TRL's preference format with an explicit prompt.

    ``conversational=None`` picks the standard (text) form when the prompt is a single user
    turn and the conversational form otherwise. Scores and provenance are not part of TRL's
    format; use :func:`to_row` to keep them.
    """
    text = prompt_as_text(pair.prompt)
    if conversational is None:
        conversational = text is None
    if not conversational:
        if text is None:
            raise InputError(
                "a multi-turn prompt has no standard (plain text) TRL form; write the "
                "conversational form instead", field="prompt"
            )
        return {"prompt": text, "chosen": pair.chosen, "rejected": pair.rejected}
    return {
        "prompt": [m.model_dump() for m in pair.prompt],
        "chosen": [{"role": "assistant", "content": pair.chosen}],
        "rejected": [{"role": "assistant", "content": pair.rejected}],
    }


def _response_text(value: Any, field: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], dict):
        if value[0].get("role") != "assistant":
            raise InputError(f"the response turn must have role 'assistant', not {value[0].get('role')!r}", field=field)
        content = value[0].get("content")
        if isinstance(content, str):
            return content
    raise InputError(
        "expected a string or a single assistant message [{'role': 'assistant', 'content': ...}]",
        field=field,
    )


def _prompt_messages(value: Any) -> Any:
    return text_prompt(value) if isinstance(value, str) else value


def _split_implicit(chosen: list[dict], rejected: list[dict]) -> tuple[list, Any, Any]:
    """TRL's implicit-prompt form: the shared leading turns are the prompt."""
    k = 0
    while k < min(len(chosen), len(rejected)) - 1 and chosen[k] == rejected[k]:
        k += 1
    return chosen[:k], chosen[k:], rejected[k:]


def from_trl(row: dict[str, Any], **extra: Any) -> PreferencePair:
    """A :class:`PreferencePair` from a TRL preference row (standard, conversational, or
    implicit prompt). ``extra`` fields (scores, provenance, ...) are passed through. A pair
    whose provenance says ``empty_response`` (set by a source adapter) may keep an empty
    response."""
    for key in ("chosen", "rejected"):
        if key not in row or row[key] is None:
            raise InputError("missing required field", field=key)
    chosen, rejected = row["chosen"], row["rejected"]
    if "prompt" in row and row["prompt"] is not None:
        prompt = row["prompt"]
    elif isinstance(chosen, list) and isinstance(rejected, list):
        prompt, chosen, rejected = _split_implicit(chosen, rejected)
    else:
        raise InputError("missing required field", field="prompt")
    return build(
        PreferencePair,
        {
            "prompt": _prompt_messages(prompt),
            "chosen": _response_text(chosen, "chosen"),
            "rejected": _response_text(rejected, "rejected"),
            **extra,
        },
        allow_empty=bool((extra.get("provenance") or {}).get("empty_response")),
    )
