"""Shared inputs of the API tests: a fake LLM whose answers differ by sample seed (so every
method can form pairs), tiny prompt and pair sets."""

from __future__ import annotations

import pytest

from preflab.records import PreferencePair, text_prompt


def varied(messages, options, seed):
    """An answer that depends on the instruction, the prompt and the sample seed."""
    head = messages[0].content[:12] if messages[0].role == "system" else ""
    return f"reply {seed} {head} to {messages[-1].content[:30]}"


@pytest.fixture
def llm():
    from preflab.llm.fake import fake_llm

    return fake_llm(default=varied)


@pytest.fixture
def prompts() -> list[str]:
    return [f"Question number {i}: why is that?" for i in range(6)]


def toy_pairs(n: int = 8) -> list[PreferencePair]:
    """Pairs a model can learn: the chosen response is long and polite, the rejected one curt."""
    return [PreferencePair(prompt=text_prompt(f"Question {i}: tell me about topic {i}."),
                           chosen=f"Here is a careful and helpful answer about topic {i}.", rejected=f"No {i}.",
                           category="even" if i % 2 == 0 else "odd")
            for i in range(n)]
