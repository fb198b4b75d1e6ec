"""Lossless round trips JSONL ↔ Parquet ↔ datasets ↔ TRL conversational, on odd text."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from preflab.io import read_pairs, write_pairs
from preflab.records import Message, PreferencePair

# Any unicode except surrogates (not encodable as UTF-8); includes NUL, newlines, emoji, RTL.
text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
non_blank = text.filter(lambda s: s.strip() != "")


@st.composite
def prompts(draw):
    turns = []
    if draw(st.booleans()):
        turns.append(Message(role="system", content=draw(text)))  # may be an empty system prompt
    for _ in range(draw(st.integers(0, 2))):
        turns.append(Message(role="user", content=draw(text)))
        turns.append(Message(role="assistant", content=draw(text)))
    turns.append(Message(role="user", content=draw(non_blank)))
    return turns


@st.composite
def pairs(draw):
    chosen = draw(non_blank)
    rejected = draw(non_blank.filter(lambda s: s != chosen))
    optional = st.none() | st.floats(allow_nan=False, allow_infinity=False, width=64)
    return PreferencePair(
        prompt=draw(prompts()), chosen=chosen, rejected=rejected,
        chosen_score=draw(optional), rejected_score=draw(optional), margin=draw(optional),
        smoothing=draw(st.none() | st.floats(0, 0.5)), flipped=draw(st.booleans()),
        category=draw(st.none() | st.text(string.ascii_letters, max_size=8)),
        provenance=draw(st.dictionaries(st.text(string.ascii_lowercase, min_size=1, max_size=5),
                                        st.integers() | text | st.lists(st.integers(), max_size=3), max_size=3)),
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(pairs(), min_size=1, max_size=6))
def test_preflab_layout_round_trips_through_every_container(tmp_path_factory, batch):
    d = tmp_path_factory.mktemp("rt")
    write_pairs(batch, d / "a.jsonl")
    via_jsonl = list(read_pairs(d / "a.jsonl"))
    write_pairs(via_jsonl, d / "b.parquet")
    via_parquet = list(read_pairs(d / "b.parquet"))
    write_pairs(via_parquet, d / "c_ds")
    via_datasets = list(read_pairs(d / "c_ds"))
    write_pairs(via_datasets, d / "d.jsonl.gz")
    assert list(read_pairs(d / "d.jsonl.gz")) == via_datasets == via_parquet == via_jsonl == batch


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(pairs(), min_size=1, max_size=6))
def test_trl_conversational_round_trips_prompt_and_responses(tmp_path_factory, batch):
    d = tmp_path_factory.mktemp("trl")
    for name in ("t.jsonl", "t.parquet", "t_ds"):
        write_pairs(batch, d / name, fmt="trl-chat")
        back = list(read_pairs(d / name, fmt="trl"))
        assert [(p.prompt, p.chosen, p.rejected, p.id) for p in back] == [
            (p.prompt, p.chosen, p.rejected, p.id) for p in batch
        ]


def test_trl_standard_form_for_single_turn_prompts(tmp_path):
    batch = [PreferencePair(prompt=[Message(role="user", content="ça va? 🌍")], chosen="oui", rejected="non")]
    write_pairs(batch, tmp_path / "s.parquet", fmt="trl")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "s.parquet").to_pylist() == [{"prompt": "ça va? 🌍", "chosen": "oui", "rejected": "non"}]
    assert list(read_pairs(tmp_path / "s.parquet")) == batch
