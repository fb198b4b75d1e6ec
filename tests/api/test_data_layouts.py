"""Pairs in from every container the API accepts, and out to a ``datasets.Dataset`` in TRL's
standard and conversational layouts and back, losslessly."""

import json

import pytest

import preflab
from preflab import PreferencePair, text_prompt
from preflab.errors import ConfigError, InputError
from preflab.records import Message

from .conftest import toy_pairs

TRL_STANDARD = {"prompt": ["2+2?", "Hi"], "chosen": ["4", "Hello!"], "rejected": ["5", "Go away."]}
TRL_CHAT = {"prompt": [[{"role": "user", "content": "2+2?"}], [{"role": "user", "content": "Hi"}]],
            "chosen": [[{"role": "assistant", "content": "4"}], [{"role": "assistant", "content": "Hello!"}]],
            "rejected": [[{"role": "assistant", "content": "5"}], [{"role": "assistant", "content": "Go away."}]]}


def rich_pairs() -> list[PreferencePair]:
    chat = [Message(role="system", content="Be brief."), Message(role="user", content="Hi"),
            Message(role="assistant", content="Hello."), Message(role="user", content="And now?")]
    return [PreferencePair(prompt=text_prompt("2+2?"), chosen="4", rejected="5", chosen_score=2.5, rejected_score=-1.0,
                           margin=0.5, flipped=True, category="math",
                           provenance={"method": "rmboost", "raw": ["a", {"b": 1}], "seed": 3}),
            PreferencePair(prompt=chat, chosen="Now this.", rejected="Nothing.", strength_mean=0.3, strength_std=0.1,
                           weight=2.0, smoothing=0.1)]


@pytest.mark.parametrize("layout", ["auto", "conversational"])
def test_dataset_round_trip_is_lossless(layout):
    pairs = rich_pairs()
    ds = preflab.to_dataset(pairs, layout=layout)
    assert isinstance(ds[1]["prompt"], list) and ds[1]["chosen"] == [{"role": "assistant", "content": "Now this."}]
    assert json.loads(ds[0]["provenance"]) == pairs[0].provenance
    assert list(preflab.read_pairs(ds)) == pairs


def test_standard_layout_keeps_text_and_refuses_multi_turn_prompts():
    pairs = toy_pairs(2)
    ds = preflab.to_dataset(pairs, layout="standard")
    assert ds[0]["prompt"] == pairs[0].prompt[0].content and ds[0]["chosen"] == pairs[0].chosen
    assert "margin" not in ds.column_names and "category" in ds.column_names  # unset columns are left out
    assert list(preflab.read_pairs(ds)) == pairs
    with pytest.raises(InputError, match="multi-turn prompt has no standard"):
        preflab.to_dataset(rich_pairs(), layout="standard")
    with pytest.raises(ConfigError, match="choose auto, standard or conversational"):
        preflab.to_dataset(pairs, layout="chat")


def test_every_input_container_gives_the_same_pairs(tmp_path):
    import datasets
    import pandas as pd

    expected = list(preflab.read_pairs(TRL_STANDARD))
    assert [p.chosen for p in expected] == ["4", "Hello!"]
    path = tmp_path / "pairs.jsonl"
    path.write_text("".join(json.dumps(dict(zip(TRL_STANDARD, row))) + "\n" for row in zip(*TRL_STANDARD.values())))
    rows = [dict(zip(TRL_STANDARD, row)) for row in zip(*TRL_STANDARD.values())]
    for source in (TRL_CHAT, rows, rows[0:1] + rows[1:], pd.DataFrame(TRL_STANDARD), datasets.Dataset.from_dict(TRL_CHAT),
                   str(path), path, expected, iter(rows)):
        assert list(preflab.read_pairs(source)) == expected, type(source)
    assert list(preflab.read_pairs(rows[0])) == expected[:1]  # one row as a dict


def test_dataframe_nan_scores_read_as_unset():
    import pandas as pd

    frame = pd.DataFrame({**TRL_STANDARD, "chosen_score": [1.0, None]})
    pairs = list(preflab.read_pairs(frame))
    assert pairs[0].chosen_score == 1.0 and pairs[1].chosen_score is None


def test_bad_in_memory_inputs_name_the_row_and_what_is_accepted():
    import datasets

    with pytest.raises(InputError, match=r"<in memory>.*row 1.*rejected"):
        list(preflab.read_pairs([{"prompt": "a", "chosen": "b", "rejected": "c"}, {"prompt": "a", "chosen": "b"}]))
    with pytest.raises(ConfigError, match="lists of one length"):
        preflab.read_pairs({"prompt": ["a", "b"], "chosen": ["x"], "rejected": ["y", "z"]})
    with pytest.raises(ConfigError, match="expected a path, a list of records"):
        preflab.read_pairs(42)
    with pytest.raises(ConfigError, match=r"pass one, e.g. data\['train'\]"):
        preflab.read_pairs(datasets.DatasetDict({"train": datasets.Dataset.from_dict(TRL_STANDARD)}))


def test_pairs_to_pandas_and_prompts_from_strings():
    frame = preflab.Pairs(toy_pairs(3)).to_pandas()
    assert list(frame["category"]) == ["even", "odd", "even"]
    prompts = preflab.read_prompts(["Why?", {"prompt": "How?"}])
    assert [p.prompt[0].content for p in prompts] == ["Why?", "How?"]
