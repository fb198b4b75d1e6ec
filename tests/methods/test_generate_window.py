"""The window of prompts in flight slides: a slow prompt does not hold back the ones after it."""

import asyncio

from preflab.llm.fake import fake_llm
from preflab.methods import Context, stream_outcomes
from preflab.methods.base import Method
from preflab.records import PromptRecord, text_prompt

PROMPTS = [PromptRecord(prompt=text_prompt(f"prompt {i}"), id=f"p{i}") for i in range(6)]


def _method(make) -> Method:
    return Method(name="window-probe", config=dict, make=make)


def test_a_new_prompt_starts_while_an_earlier_one_is_still_running():
    started: list[str] = []
    third_started = asyncio.Event()

    async def make(prompt, cfg, ctx):
        started.append(prompt.id)
        if prompt.id == "p2":
            third_started.set()
        if prompt.id == "p0":  # with fixed windows of two, p2 could only start after p0 ends
            await asyncio.wait_for(third_started.wait(), timeout=5)
        return prompt.id.upper()

    out = list(stream_outcomes(PROMPTS, _method(make), {}, Context(llm=fake_llm()), in_flight=2))
    assert [(p.id, o) for p, o in out] == [(p.id, p.id.upper()) for p in PROMPTS]  # still in prompt order
    assert started.index("p2") < len(PROMPTS)


def test_at_most_in_flight_prompts_run_at_once():
    running, peak = [0], [0]

    async def make(prompt, cfg, ctx):
        running[0] += 1
        peak[0] = max(peak[0], running[0])
        await asyncio.sleep(0.001 * (len(prompt.id) + int(prompt.id[1:]) % 3))
        running[0] -= 1
        return prompt.id

    assert [o for _, o in stream_outcomes(PROMPTS, _method(make), {}, Context(llm=fake_llm()), in_flight=3)] == [p.id for p in PROMPTS]
    assert peak[0] == 3


def test_a_reader_that_stops_early_starts_nothing_more():
    started: list[str] = []

    async def make(prompt, cfg, ctx):
        started.append(prompt.id)
        await asyncio.sleep(0.01 if prompt.id != "p0" else 0)
        return prompt.id

    outcomes = stream_outcomes(PROMPTS, _method(make), {}, Context(llm=fake_llm()), in_flight=2)
    assert next(outcomes)[1] == "p0"
    outcomes.close()  # e.g. a budget stop in the caller
    assert len(started) <= 3 and "p5" not in started
