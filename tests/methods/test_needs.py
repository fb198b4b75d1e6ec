"""Methods declare what they need and their post-filters; one helper builds the context."""

import pytest

from preflab.errors import ConfigError
from preflab.llm.fake import fake_llm
from preflab.methods import get_method, methods
from preflab.methods.base import register
from preflab.methods.context import Lazy, method_context
from preflab.methods.rlaif import RLAIFConfig
from preflab.methods.rlcd import RLCDConfig
from preflab.methods.west_of_n import WestOfNConfig
from preflab.records import PreferencePair, text_prompt


def _tracked():
    made = []
    return made, Lazy(lambda: made.append("scorer") or "S"), Lazy(lambda: made.append("judge") or "J")


@pytest.mark.parametrize("name, cfg, scorer, judge", [
    ("rlcd", RLCDConfig(), None, None),
    ("rlaif", RLAIFConfig(), None, "J"),
    ("west-of-n", WestOfNConfig(), "S", None),
    ("west-of-n", WestOfNConfig(mode="pairwise"), None, "J"),
    ("random-pair", get_method("random-pair").config(), "S", None),
])
def test_the_context_holds_what_the_method_needs_and_only_that(name, cfg, scorer, judge):
    made, lazy_scorer, lazy_judge = _tracked()
    ctx = method_context(get_method(name), cfg, fake_llm(), seed=4, scorer=lazy_scorer, judge=lazy_judge)
    assert (ctx.scorer, ctx.judge, ctx.seed) == (scorer, judge, 4)
    assert made == [x for x in ("scorer", "judge") if {"scorer": scorer, "judge": judge}[x]]  # nothing else loaded


def test_every_unmet_need_is_reported_at_once_before_anything_loads():
    llm = fake_llm()
    llm.backend.supports_loglikelihood = False  # like an OpenAI-compatible server
    made, _, lazy_judge = _tracked()
    with pytest.raises(ConfigError) as info:
        method_context(get_method("west-of-n"), WestOfNConfig(min_mean_logprob=-3.0), llm, judge=lazy_judge)
    message = str(info.value)
    assert "needs a scorer" in message and "--scorer" in message and "a loglikelihood" in message
    assert made == []


def test_needs_and_post_filters_are_declared_by_the_method():
    won = get_method("west-of-n")
    assert won.needs_for(WestOfNConfig()) == ("scorer",)
    assert won.needs_for(WestOfNConfig(mode="pairwise", min_mean_logprob=-2.0)) == ("judge", "loglikelihood")
    assert get_method("rlaif").needs_for(RLAIFConfig()) == ("judge",)
    pairs = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen="a", rejected="b", provenance={"confidence": c})
             for i, c in enumerate([0.5, 0.6, 0.9, 0.99])]
    assert won.post_filter(pairs, WestOfNConfig()) == (pairs, {})
    kept, info = get_method("self-training").post_filter(pairs, WestOfNConfig(confidence_quantile=0.5))
    assert [p.provenance["confidence"] for p in kept] == [0.9, 0.99]
    assert info == {"confidence_quantile": 0.5, "confidence_cut": pytest.approx(0.75)}
    assert "judge (mode pairwise)" in won.describe_needs() and get_method("rlcd").describe_needs() == "—"


def test_a_misspelt_need_fails_at_registration():
    with pytest.raises(ConfigError, match="unknown needs \\['jduge'\\]"):
        register("typo-method", RLCDConfig, get_method("rlcd").make, needs=("jduge",))
    assert "typo-method" not in methods()


@pytest.mark.parametrize("module", ["preflab.methods.context", "preflab.evaluation.metrics"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0


def test_generate_refuses_an_unmet_need_before_writing_anything(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "won.jsonl"
    result = subprocess.run([sys.executable, "-m", "preflab", "generate", "west-of-n", "--llm", "fake", "--no-cache",
                             "--out", str(out)], capture_output=True, text=True)
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        "error: method west-of-n needs a scorer: a reward model that scores responses "
        "(preflab generate: --scorer DIR; bench: scorer)"]
    assert list(tmp_path.iterdir()) == []
