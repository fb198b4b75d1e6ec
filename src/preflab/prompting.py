"""Prompt templates shipped with preflab, and the text helpers every template user needs.

Templates are versioned text files in ``preflab/templates/NAME.VERSION.txt``; the version goes
into every output's provenance, so a template change never mixes silently with old data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources import files

from preflab.errors import ConfigError
from preflab.records import Message


_TURN = re.compile(r"^<<(system|user|assistant)>>$", re.MULTILINE)


@dataclass(frozen=True)
class Template:
    """A prompt template: plain text (one user message) or turns marked by lines
    ``<<system>>``, ``<<user>>``, ``<<assistant>>`` (few-shot demonstrations: small models follow
    an output format they have seen far more reliably than one they are told about)."""

    name: str
    version: str
    text: str

    @property
    def ref(self) -> str:
        return f"{self.name}.{self.version}"

    def messages(self, **values: str) -> list[Message]:
        parts = _TURN.split(self.text)
        if len(parts) == 1:
            return [Message(role="user", content=self.text.strip().format(**values))]
        turns = zip(parts[1::2], parts[2::2])
        out = [Message(role=role, content=body.strip("\n")) for role, body in turns]
        last = out[-1]
        # only the final turn is filled in: the demonstrations are fixed text
        return out[:-1] + [Message(role=last.role, content=last.content.format(**values))]


def load_template(name: str, version: str = "v1") -> Template:
    """A prompt template shipped in ``preflab/templates/NAME.VERSION.txt``; the version goes
    into every pair's provenance, so a template change never mixes silently with old data."""
    path = files("preflab") / "templates" / f"{name}.{version}.txt"
    if not path.is_file():
        raise ConfigError(f"no template {name!r} version {version!r} in preflab/templates")
    return Template(name, version, path.read_text(encoding="utf-8"))


def parse_delimited(text: str, finish_reason: str, open_tag: str, close_tag: str) -> tuple[str | None, str]:
    """The text between ``open_tag`` and ``close_tag`` and ``"ok"``, or ``None`` and why not.

    The close tag is also the stop sequence of the request, so a well-formed answer ends with
    ``finish_reason == "stop"`` and may not contain it. Strict: the open tag must be there
    exactly once, and output cut off at max_tokens is ``truncated``, never used.
    """
    if text.count(open_tag) != 1:
        return None, "unparseable"
    body = text.split(open_tag, 1)[1]
    if close_tag in body:
        body = body.split(close_tag, 1)[0]
    elif finish_reason == "length":
        return None, "truncated"
    body = body.strip()
    if not body:
        return None, "empty"
    return body, "ok"


def with_system(prompt: list[Message], instruction: str) -> list[Message]:
    """``prompt`` with ``instruction`` as its system message (merged in front of an existing
    one); an empty instruction leaves the prompt as it is."""
    if not instruction:
        return list(prompt)
    if prompt and prompt[0].role == "system":
        merged = f"{instruction}\n\n{prompt[0].content}" if prompt[0].content else instruction
        return [Message(role="system", content=merged)] + list(prompt[1:])
    return [Message(role="system", content=instruction)] + list(prompt)


def answer_length(version: str) -> tuple[str, str]:
    """The instruction that bounds a sampled answer's length (``answer_length.VERSION.txt``,
    empty in v1: no bound) and its template reference for provenance. Methods that sample
    answers from the bare prompt add it as a system instruction, so a small model ends its
    answer itself instead of being cut at ``max_tokens``."""
    template = load_template("answer_length", version)
    return template.text.strip(), template.ref


def render_conversation(messages: list[Message]) -> str:
    """A prompt as text inside another prompt (a template): a single user turn as is, a
    conversation as labelled turns."""
    if len(messages) == 1 and messages[0].role == "user":
        return messages[0].content
    names = {"system": "System", "user": "User", "assistant": "Assistant"}
    return "\n\n".join(f"{names[m.role]}: {m.content}" for m in messages)
