import doctest

import pytest

import preflab.augmentation.reward_augmented
import preflab.config
import preflab.errors
import preflab.io.schemas
import preflab.io.sources
import preflab.quality.treatments
import preflab.records
import preflab.rm.metarm
from preflab.errors import InputError
from preflab.records import Message, PreferencePair, PromptRecord, build, from_trl, pair_id, text_prompt, to_trl


@pytest.mark.parametrize("module", [preflab.records, preflab.errors, preflab.io.schemas, preflab.io.sources,
                                    preflab.config, preflab.quality.treatments, preflab.augmentation.reward_augmented,
                                    preflab.rm.metarm])
def test_doctests(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0


def test_id_is_stable_and_survives_a_flip():
    p = text_prompt("Why is the sky blue?")
    a = PreferencePair(prompt=p, chosen="Rayleigh scattering.", rejected="Because.")
    b = PreferencePair(prompt=p, chosen="Because.", rejected="Rayleigh scattering.")
    assert a.id == b.id == pair_id(p, "Because.", "Rayleigh scattering.")
    assert len(a.id) == 16
    other = PreferencePair(prompt=text_prompt("Why is grass green?"), chosen="Rayleigh scattering.", rejected="Because.")
    assert other.id != a.id


def test_explicit_id_is_kept():
    pair = PreferencePair(id="src-7", prompt=text_prompt("q"), chosen="a", rejected="b")
    assert pair.id == "src-7"


@pytest.mark.parametrize(
    "data, field, reason",
    [
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": "a", "rejected": "a"}, None, "identical"),
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": "  ", "rejected": "a"}, "chosen", "empty"),
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": "a"}, "rejected", "missing"),
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": 3, "rejected": "a"}, "chosen", "string"),
        ({"prompt": [], "chosen": "a", "rejected": "b"}, "prompt", "no messages"),
        ({"prompt": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "x"}], "chosen": "a", "rejected": "b"}, "prompt", "user turn"),
        ({"prompt": [{"role": "robot", "content": "q"}], "chosen": "a", "rejected": "b"}, "prompt.0.role", "user"),
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": "a", "rejected": "b", "smoothing": 0.9}, "smoothing", "[0, 0.5]"),
        ({"prompt": [{"role": "user", "content": "q"}], "chosen": "a", "rejected": "b", "colour": 1}, "colour", "unknown field"),
    ],
)
def test_validation_names_the_field(data, field, reason):
    with pytest.raises(InputError) as info:
        build(PreferencePair, data, path="x.jsonl", line=4)
    err = info.value
    assert err.field == field
    assert reason in err.reason
    assert str(err).startswith("x.jsonl:4:")


def test_empty_response_allowed_only_when_a_source_says_so():
    data = {"prompt": [{"role": "user", "content": "q"}], "chosen": "", "rejected": "b"}
    assert build(PreferencePair, data, allow_empty=True).chosen == ""
    with pytest.raises(InputError):
        build(PreferencePair, data)


def test_trl_forms_round_trip():
    single = PreferencePair(prompt=text_prompt("hi"), chosen="hello", rejected="go away")
    assert from_trl(to_trl(single)) == single
    assert from_trl(to_trl(single, conversational=True)) == single
    multi = PreferencePair(
        prompt=[Message(role="system", content=""), Message(role="user", content="a"),
                Message(role="assistant", content="b"), Message(role="user", content="c")],
        chosen="yes", rejected="no",
    )
    assert to_trl(multi)["prompt"][0] == {"role": "system", "content": ""}
    assert from_trl(to_trl(multi)) == multi
    with pytest.raises(InputError, match="conversational"):
        to_trl(multi, conversational=False)


def test_trl_implicit_prompt_is_the_shared_prefix():
    turns = [{"role": "user", "content": "q1"}, {"role": "assistant", "content": "a1"}, {"role": "user", "content": "q2"}]
    row = {"chosen": turns + [{"role": "assistant", "content": "good"}],
           "rejected": turns + [{"role": "assistant", "content": "bad"}]}
    pair = from_trl(row)
    assert [m.content for m in pair.prompt] == ["q1", "a1", "q2"]
    assert (pair.chosen, pair.rejected) == ("good", "bad")


def test_response_must_be_an_assistant_turn():
    with pytest.raises(InputError) as info:
        from_trl({"prompt": "q", "chosen": [{"role": "user", "content": "x"}], "rejected": "y"})
    assert info.value.field == "chosen"


def test_prompt_record_id():
    a = PromptRecord(prompt=text_prompt("hello"))
    assert a.id == PromptRecord(prompt=text_prompt("hello")).id != PromptRecord(prompt=text_prompt("bye")).id
