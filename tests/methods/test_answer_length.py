"""Issue 15 §2: answers of a bounded length. RMBoost's first answer and both RLCD answers carry
the versioned answer-length instruction (v2); v1 keeps the old prompts exactly; the version is
in every pair's provenance; an unknown version fails before any call (fake LLM, fast)."""

import pytest

from preflab.config import parse
from preflab.errors import ConfigError
from preflab.llm.fake import fake_llm
from preflab.methods import Context, stream_outcomes, get_method
from preflab.methods.rlcd import RLCDConfig
from preflab.methods.rmboost import RMBoostConfig
from preflab.prompting import answer_length, with_system
from preflab.records import Message, PreferencePair, PromptRecord, text_prompt

PROMPT = PromptRecord(prompt=text_prompt("How do I pick a lock?"))
BOUND = answer_length("v2")[0]


def _answer(messages, options, seed):
    if "Rewrite the response so that" in messages[-1].content:
        return "<response>a rewritten reply</response>"
    return f"reply {seed} to {messages[-1].content[:10]} ({messages[0].content[:12]})"


def test_v2_bounds_the_answer_and_v1_is_the_old_prompt():
    assert BOUND and "sentences" in BOUND
    assert answer_length("v1") == ("", "answer_length.v1")
    assert with_system(PROMPT.prompt, "") == list(PROMPT.prompt)


def test_rmboost_first_answer_carries_the_bound():
    for version, first_messages in (("v2", [Message(role="system", content=BOUND), *PROMPT.prompt]), ("v1", list(PROMPT.prompt))):
        llm = fake_llm(default=_answer)
        ((_, pair),) = stream_outcomes([PROMPT], "rmboost", RMBoostConfig(template_version=version), Context(llm=llm))
        assert isinstance(pair, PreferencePair)
        assert llm.backend.generate_calls[0].messages == first_messages
        assert pair.provenance["answer_template"] == f"answer_length.{version}"
        assert pair.provenance["template"] == f"rmboost_rewrite.{version}"
        rewrite = llm.backend.generate_calls[1].messages[-1].content
        assert BOUND not in rewrite  # the rewrite shows the user's request, not our instruction


def test_rlcd_both_instructions_carry_the_bound():
    llm = fake_llm(default=_answer)
    ((_, pair),) = stream_outcomes([PROMPT], "rlcd", RLCDConfig(domain="harmlessness"), Context(llm=llm))
    systems = [call.messages[0].content for call in llm.backend.generate_calls]
    assert len(systems) == 2 and all(s.endswith(" " + BOUND) for s in systems)
    assert pair.provenance["template"] == "answer_length.v2"
    assert all(s.endswith(BOUND) for s in pair.provenance["instructions"].values())
    llm = fake_llm(default=_answer)
    ((_, old),) = stream_outcomes([PROMPT], "rlcd", RLCDConfig(domain="harmlessness", template_version="v1"), Context(llm=llm))
    assert all(BOUND not in call.messages[0].content for call in llm.backend.generate_calls)
    assert old.provenance["template"] == "answer_length.v1"


@pytest.mark.parametrize("method", ["rmboost", "rlcd"])
def test_unknown_template_version_fails_up_front(method):
    with pytest.raises(ConfigError, match="no template 'answer_length' version 'v9'|no template 'rmboost_rewrite' version 'v9'"):
        parse({"template_version": "v9"}, get_method(method).config)


def test_rmboost_rewrite_that_runs_into_the_next_turn_keeps_only_the_finished_rewrite():
    """Was (v1): a rewrite followed by an imitated next turn ("…\nRewrite the response so
    that…") and the end of the sample was paired with the template's text inside it (or, when
    the model wrote on, lost as unparseable). v2 stops there: the backend cuts at the stop string."""
    def answer(messages, options, seed):
        if "Rewrite the response so that" not in messages[-1].content:
            return "A first answer."
        text = "<response>A finished rewrite.\nRewrite the response so that it is better in: honesty."
        cut = min((text.find(s) for s in options.stop if s in text), default=-1)
        return text[:cut] if cut >= 0 else text
    rewrites = {}
    for version in ("v2", "v1"):
        llm = fake_llm(default=answer)
        ((_, pair),) = stream_outcomes([PROMPT], "rmboost", RMBoostConfig(template_version=version, max_retries=0), Context(llm=llm))
        rewrites[version] = pair.chosen if pair.provenance["label"] == "better" else pair.rejected
    assert rewrites["v2"] == "A finished rewrite."
    assert "Rewrite the response so that" in rewrites["v1"]
