"""The client's logic with the fake backend: samples, seeds, cache, usage, budgets, errors,
async use, and the prompts actually sent."""

from __future__ import annotations

import asyncio
import threading

import pytest

from preflab.llm import BackendError, BudgetExceeded, Completion, LLM, Options, Request, Usage, open_llm, sample_seed
from preflab.llm.fake import FakeBackend, fake_llm
from preflab.records import Message


def test_n_samples_are_seeded_per_index_and_prompts_are_recorded():
    llm = fake_llm(default=lambda messages, options, seed: f"s{seed}")
    outs = llm.complete([{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}], n=3, seed=11)
    assert [o.sample_index for o in outs] == [0, 1, 2]
    assert [o.seed for o in outs] == [sample_seed(11, i) for i in range(3)]
    assert [o.text for o in outs] == [f"s{sample_seed(11, i)}" for i in range(3)]
    calls = llm.backend.generate_calls
    assert len(calls) == 3 and calls[0].messages[0] == Message(role="system", content="be brief")
    assert {c.options.temperature for c in calls} == {0.7} and all(c.options.n == 3 for c in calls)


def test_cache_makes_reruns_free_and_keeps_samples(cache_path):
    first = open_llm(FakeBackend(default=lambda m, o, s: f"a{s}"), cache=cache_path)
    a = first.complete("q", n=4, temperature=1.0)
    first.close()
    backend = FakeBackend(strict=True)  # any call to the backend would now fail
    again = open_llm(backend, cache=cache_path)
    b = again.complete("q", n=4, temperature=1.0)
    assert [x.text for x in b] == [x.text for x in a] and all(x.cached for x in b) and backend.calls == []
    assert again.usage.summary()["total"]["cached_calls"] == 4 and again.usage.summary()["total"]["calls"] == 0
    # a larger n re-uses the first four and only asks for the new ones
    backend.push("fifth")
    c = again.complete("q", n=5, temperature=1.0)
    assert [x.text for x in c[:4]] == [x.text for x in a] and c[4].text == "fifth" and len(backend.calls) == 1
    # anything that changes the output is part of the key
    backend.push("greedy")
    assert again.complete("q", temperature=0.0)[0].text == "greedy"


def test_no_cache_from_failed_calls(cache_path):
    backend = FakeBackend([BackendError("boom"), "fine"])
    llm = open_llm(backend, cache=cache_path)
    with pytest.raises(BackendError, match="boom"):
        llm.complete("q")
    assert llm.cache.stats()["entries"] == 0
    assert llm.complete("q")[0].text == "fine" and llm.cache.stats()["entries"] == 1


def test_complete_many_keeps_finished_work_when_one_fails(cache_path):
    backend = FakeBackend(default=lambda m, o, s: "ok " + m[-1].content)
    backend.push(lambda m, o, s: "ok " + m[-1].content, RuntimeError("server fell over"))
    llm = open_llm(backend, cache=cache_path)
    out = llm.complete_many([Request(f"p{i}") for i in range(5)], return_exceptions=True)
    assert isinstance(out[1], RuntimeError) and [o[0].text for i, o in enumerate(out) if i != 1] == ["ok p0", "ok p2", "ok p3", "ok p4"]
    assert llm.cache.stats()["entries"] == 4


def test_complete_many_budget_stop_says_how_far_it_got(cache_path):
    llm = open_llm(FakeBackend(max_concurrency=1), cache=cache_path, usage=Usage(max_tokens=30))
    with pytest.raises(BudgetExceeded, match=r"larger max_tokens_budget.*\[(\d+) of 10 prompts of this batch finished\]") as info:
        llm.complete_many([Request(f"prompt number {i}") for i in range(10)])
    finished = int(info.value.args[0].split("[")[1].split(" ")[0])
    assert 1 <= finished < 10 and llm.cache.stats()["entries"] == finished


def test_budget_stops_before_the_next_paid_call_and_cached_work_is_free(cache_path):
    usage = Usage(max_tokens=40)
    backend = FakeBackend(default="one two three four five", max_concurrency=1)
    llm = open_llm(backend, cache=cache_path, usage=usage)
    done = []
    with pytest.raises(BudgetExceeded, match="token budget reached"):
        for i in range(10):
            done.append(llm.complete(f"prompt {i}")[0])
    assert 1 <= len(done) < 10 and len(backend.calls) == len(done)
    # a rerun with a larger budget re-uses the finished calls for free
    rerun = open_llm(FakeBackend(default="one two three four five"), cache=cache_path, usage=Usage(max_tokens=10_000))
    outs = [rerun.complete(f"prompt {i}")[0] for i in range(10)]
    assert sum(o.cached for o in outs) == len(done) and len(rerun.backend.calls) == 10 - len(done)


def test_usage_per_method_and_with_method_view():
    llm = fake_llm()
    llm.complete("a", method="rmboost")
    llm.with_method("west-of-n").complete("b", n=2)
    by_method = llm.usage.summary()["by_method"]
    assert by_method["rmboost"]["calls"] == 1 and by_method["west-of-n"]["calls"] == 2
    assert list(llm.usage.summary()["by_backend"]) == ["fake:fake-model"]


def test_unknown_option_fails_before_any_call():
    llm = fake_llm(strict=True)
    with pytest.raises(Exception, match="extra"):
        llm.complete("q", temprature=0)
    assert llm.backend.calls == []


def test_concurrency_is_bounded_and_async_callers_work():
    class Counting(FakeBackend):
        def __init__(self):
            super().__init__(max_concurrency=3, delay_s=0.02)
            self.now = self.peak = 0

        async def generate(self, messages, options, seed):
            self.now += 1
            self.peak = max(self.peak, self.now)
            try:
                return await super().generate(messages, options, seed)
            finally:
                self.now -= 1

    backend = Counting()
    llm = LLM(backend)

    async def job():
        return await asyncio.gather(*(llm.acomplete(f"p{i}") for i in range(12)))

    results = asyncio.run(job())
    assert len(results) == 12 and backend.peak == 3
    # and from several threads at once (shared loop, shared bound)
    threads = [threading.Thread(target=llm.complete, args=(f"t{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(backend.calls) == 18 and backend.peak == 3


def test_loglikelihoods_cached_and_batched(cache_path):
    llm = open_llm(FakeBackend(), cache=cache_path)
    first = llm.loglikelihoods("q", ["a b", "c d e", ""])
    assert first[1].n_tokens == 3 and first[2].n_tokens == 0
    assert len([c for c in llm.backend.calls if c.kind == "loglikelihood"]) == 1
    again = llm.loglikelihoods("q", ["c d e", "f"])
    assert again[0] == first[1]
    assert llm.backend.calls[-1].responses == ["f"]  # only the new one was scored


def test_loglikelihood_cache_hits_are_counted_like_sample_hits(cache_path):
    """A repeated log-likelihood is answered from the cache and counted as a cached call (of its
    tokens) in every counter, as a cached sample is; the scored one counts as a paid call."""
    llm = open_llm(FakeBackend(), cache=cache_path).with_method("judge")
    first = llm.loglikelihood("q", "a b c")
    again = llm.loglikelihood("q", "a b c")
    assert again == first and len([c for c in llm.backend.calls if c.kind == "loglikelihood"]) == 1
    usage = llm.usage.summary()
    expected = {"calls": 1, "cached_calls": 1, "prompt_tokens": 3, "completion_tokens": 0, "cached_tokens": 3}
    for counter in (usage["total"], usage["by_method"]["judge"], usage["by_backend"]["fake:fake-model"]):
        assert {k: counter[k] for k in expected} == expected
    llm.close()


def test_loglikelihood_cache_key_keeps_its_format(cache_path):
    """Caches made before the client was split stay valid: the stored request and its key are
    those of ``{kind, backend, model, messages, response}``."""
    from preflab.llm.cache import request_key

    llm = open_llm(FakeBackend(), cache=cache_path)
    llm.loglikelihood([{"role": "system", "content": "s"}, {"role": "user", "content": "q"}], "a b")
    request = {"kind": "loglikelihood", "backend": "fake", "model": "fake-model",
               "messages": [["system", "s"], ["user", "q"]], "response": "a b"}
    key = request_key(request)
    assert key == "26595642858d9df5a4a22b3eae71f47b8e30761095d3ed9d80e98f13d0872783"
    assert llm.cache.get(key) is not None and llm.cache.stats()["entries"] == 1
    llm.close()


def test_completion_objects_from_the_queue_and_stop_strings():
    llm = fake_llm([Completion("x", "length", 1, 1, model=""), "alpha STOP beta"])
    assert llm.complete("a")[0].finish_reason == "length"
    assert llm.complete("b", stop="STOP")[0].text == "alpha "


def test_fake_is_a_registered_backend():
    llm = open_llm("fake:my-model#answer=hello&strict=false", cache=False)
    out = llm.complete("x", options=Options(n=2))
    assert [o.text for o in out] == ["hello", "hello"] and llm.model_id == "my-model#answer=hello"
    assert out[0].model == "my-model"
    llm.close()
    assert llm.backend.closed


def test_repeat_penalty_keeps_the_cache_keys_of_requests_that_leave_it_off(cache_path):
    """Caches and run folders made before the option existed stay valid: at 1.0 the request
    (hence its key, computed here before the option was added) is unchanged; any other value is
    recorded, keyed apart and handed to the backend."""
    from preflab.llm.base import Options, as_messages
    from preflab.llm.cache import request_key

    llm = open_llm(FakeBackend(default=lambda m, o, s: f"rp{o.repeat_penalty}"), cache=cache_path)
    opts = dict(temperature=0.7, max_tokens=64, seed=5, stop=["###"])
    request = llm._ledger().sample_request(as_messages("Why is the sky blue?"), Options(**opts), 1)
    assert request_key(request) == "c93ef174f1ebeb89eda38b02cbb949c1ecffd6ef150bde5d07790889bf5e02d5"
    assert request == llm._ledger().sample_request(as_messages("Why is the sky blue?"), Options(**opts, repeat_penalty=1.0), 1)
    penalised = llm._ledger().sample_request(as_messages("Why is the sky blue?"), Options(**opts, repeat_penalty=1.2), 1)
    assert penalised["options"]["repeat_penalty"] == 1.2 and request_key(penalised) != request_key(request)
    assert [c.text for c in (llm.complete("q", **opts)[0], llm.complete("q", **opts, repeat_penalty=1.2)[0])] == ["rp1.0", "rp1.2"]
    llm.close()
    with pytest.raises(Exception, match="repeat_penalty"):
        Options(repeat_penalty=0.9)  # below 1 would reward repetition: refused
