"""The client's grouped path (backends whose samples depend on their batch companions, like
``hf``): groups are planned from the whole call, a group with any sample missing from the cache
is decoded whole, one bad sample fails only its request, and resuming equals not stopping."""

from __future__ import annotations

import pytest

from preflab.llm import Options, Request, open_llm
from preflab.llm.base import BackendError, Completion, GenItem, GroupBackend
from preflab.llm.fake import FakeBackend
from preflab.llm.transformers_backend import plan_groups


class GroupFake(FakeBackend):
    """A fake whose answer for a sample names its whole group (as padding would change the
    arithmetic): a sample is only reproduced when its companions are the same."""

    def __init__(self, size: int = 3, **kw):
        super().__init__(max_concurrency=1, **kw)
        self.size, self.groups = size, []

    async def plan(self, items: list[GenItem]) -> list[list[int]]:
        return plan_groups([str(i.options.max_tokens) for i in items], [len(i.messages[-1].content) for i in items], self.size)

    async def generate_group(self, items: list[GenItem]) -> list[Completion | BaseException]:
        self.groups.append([(i.messages[-1].content, i.seed) for i in items])
        tag = "|".join(f"{i.messages[-1].content}:{i.seed}" for i in items)
        out = []
        for i in items:
            if "BAD" in i.messages[-1].content:
                out.append(BackendError("bad prompt"))
            else:
                out.append(Completion(text=f"{i.messages[-1].content}/{i.seed} in [{tag}]", finish_reason="stop",
                                      prompt_tokens=3, completion_tokens=4, model=self.model_id))
        return out


def requests(n_prompts: int, n: int = 2) -> list[Request]:
    return [Request("p" * (k + 1), {"n": n, "seed": 1, "max_tokens": 5}) for k in range(n_prompts)]


def test_the_fake_is_a_group_backend_and_the_plain_fake_is_not():
    assert isinstance(GroupFake(), GroupBackend) and not isinstance(FakeBackend(), GroupBackend)


def test_groups_are_planned_over_the_whole_call():
    backend = GroupFake(size=3)
    llm = open_llm(backend, cache=False)
    out = llm.complete_many(requests(3))
    assert [len(g) for g in backend.groups] == [3, 3]  # 6 samples of 3 prompts, by length
    assert [[p for p, _ in g] for g in backend.groups] == [["p", "p", "pp"], ["pp", "ppp", "ppp"]]
    assert all(len(r) == 2 for r in out) and out[2][1].sample_index == 1
    assert llm.usage.summary()["total"]["calls"] == 6


def test_resume_decodes_a_partly_cached_group_whole_and_equals_an_uninterrupted_run(tmp_path):
    whole = open_llm(GroupFake(size=4), cache=tmp_path / "a.sqlite3").complete_many(requests(4))
    cache = tmp_path / "b.sqlite3"
    first = open_llm(GroupFake(size=4), cache=cache)
    first.complete_many(requests(1))  # a run killed after the first prompt: its own group of 2
    backend = GroupFake(size=4)
    resumed = open_llm(backend, cache=cache).complete_many(requests(4))
    texts = lambda rs: [[c.text for c in r] for r in rs]  # noqa: E731
    # the first prompt was cached from a different grouping: the cache answers per request
    assert texts(resumed)[1:] == texts(whole)[1:]
    assert all(c.cached for c in resumed[0]) and not any(c.cached for c in resumed[3])
    # its group was still decoded whole, so the second prompt saw the same companions
    assert [len(g) for g in backend.groups] == [4, 4]


def test_a_fully_cached_group_is_not_decoded_again(tmp_path):
    cache = tmp_path / "c.sqlite3"
    open_llm(GroupFake(size=2), cache=cache).complete_many(requests(2))
    backend = GroupFake(size=2)
    llm = open_llm(backend, cache=cache)
    llm.complete_many(requests(3))
    assert [[p for p, _ in g] for g in backend.groups] == [["ppp", "ppp"]]
    assert llm.usage.summary()["total"]["cached_calls"] == 4


def test_one_bad_sample_fails_only_its_request():
    backend = GroupFake(size=8)
    llm = open_llm(backend, cache=False)
    reqs = [Request("fine", {"n": 2}), Request("BAD one", {"n": 2}), Request("also fine", {"n": 1})]
    out = llm.complete_many(reqs, return_exceptions=True)
    assert isinstance(out[1], BackendError) and len(out[0]) == 2 and len(out[2]) == 1
    with pytest.raises(BackendError):
        llm.complete_many(reqs)


def test_complete_with_n_is_one_planned_call():
    backend = GroupFake(size=8)
    llm = open_llm(backend, cache=False)
    outs = llm.complete("hello", n=5, seed=2)
    assert len(backend.groups) == 1 and len(backend.groups[0]) == 5
    assert [c.sample_index for c in outs] == list(range(5)) and len({c.seed for c in outs}) == 5


def test_options_split_groups():
    backend = GroupFake(size=8)
    llm = open_llm(backend, cache=False)
    llm.complete_many([Request("a", Options(max_tokens=3)), Request("b", Options(max_tokens=4)), Request("c", Options(max_tokens=3))])
    assert sorted(len(g) for g in backend.groups) == [1, 2]
