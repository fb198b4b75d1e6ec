"""Every public function takes any iterable where it takes a list (a generator gives what the
list gives, provenance included), and a wrong kind of argument is one ConfigError line, never a
raw AttributeError or TypeError.

Before: ``preflab.generate("rlcd", (p for p in prompts))`` recorded 0 prompt rows and the
fingerprint of nothing (so a resumed run could not tell two prompt sets apart),
``preflab.score(rm, generator)`` refused, ``report_page`` took no generator, and
``evaluate(None, f)``, ``score(3, pairs)``, ``bench(None)``, ``report_page(None)`` and
``convert_pairs(pairs, None)`` raised AttributeError or TypeError."""

from __future__ import annotations


import pytest

import preflab
from preflab.errors import ConfigError
from preflab.llm.fake import fake_llm

from .conftest import toy_pairs, varied

pytestmark = pytest.mark.slow

PROMPTS = [f"Question number {i}: why is that?" for i in range(4)]


def gen(items):
    return (x for x in items)


@pytest.fixture(scope="module")
def train():
    return toy_pairs(8)


@pytest.fixture(scope="module")
def rm(train, tmp_path_factory):
    return preflab.train_rm(train, cheap=True, epochs=5, cache_dir=str(tmp_path_factory.mktemp("emb")), progress=False)


def _same(a, b):
    return [p.model_dump() for p in a] == [p.model_dump() for p in b]


def test_generate_with_a_generator(tmp_path):
    listed = preflab.generate("rlcd", PROMPTS, llm=fake_llm(default=varied), progress=False)
    generated = preflab.generate("rlcd", gen(PROMPTS), llm=fake_llm(default=varied), progress=False)
    assert len(listed) == 4 and _same(listed, generated)
    assert generated.run["inputs"]["prompts"]["rows"] == 4
    assert generated.run["inputs"]["prompts"]["fingerprint"] == listed.run["inputs"]["prompts"]["fingerprint"]
    keyword = preflab.generate("rlcd", prompts=gen(PROMPTS), llm=fake_llm(default=varied), progress=False)
    assert _same(listed, keyword)


def test_judge_and_meta_set_with_generators(train, tmp_path):
    listed = preflab.judge(train, llm=fake_llm(default="A"), progress=False)
    generated = preflab.judge(gen(train), llm=fake_llm(default="A"), progress=False)
    assert generated["rows"] == listed["rows"] and generated["run"]["inputs"] == listed["run"]["inputs"]
    rows = preflab.meta_set(gen(PROMPTS), llm=fake_llm(default=varied), k=2)
    assert rows["run"]["counts"] == {"prompts": 4, "rows": 4} and rows["run"]["inputs"]["prompts"]["rows"] == 4


def test_train_score_and_evaluate_with_generators(train, rm):
    trained = preflab.train_rm(gen(train), val=gen(train[:4]), cheap=True, epochs=5, progress=False)
    assert trained.info["pairs"] == 8 and trained.val_accuracy is not None
    assert _same(preflab.score(rm, gen(train), progress=False), preflab.score(rm, train, progress=False))
    scored = preflab.score(rm, gen(train), progress=False)
    assert scored.run["inputs"]["input"]["rows"] == 8
    rows = [{"prompt": "Name a colour.", "responses": ["Teal.", "No."]}]
    assert preflab.score(rm, gen(rows), progress=False)[0]["scores"] == preflab.score(rm, rows, progress=False)[0]["scores"]
    listed = preflab.evaluate(rm, train, n_boot=20, progress=False)
    assert preflab.evaluate(rm, gen(train), n_boot=20, progress=False)["model"] == listed["model"]


def test_strength_clean_and_augment_with_generators(train):
    strong = preflab.strength(gen(train), mode="heads", recipe="embed-head", members=2, head_epochs=3, progress=False)
    assert len(strong) == 8 and strong.run["inputs"]["pairs"]["rows"] == 8
    assert _same(preflab.clean(gen(strong), flip_below=0.0), preflab.clean(strong, flip_below=0.0))
    rated = [p.model_copy(update={"chosen_score": 7.0, "rejected_score": 2.0}) for p in train]
    augmented = preflab.augment(gen(rated))
    assert _same(augmented, preflab.augment(rated)) and augmented.run["inputs"]["pairs"]["rows"] == 8


def test_data_functions_and_to_dataset_with_generators(train, tmp_path):
    assert preflab.inspect_pairs(gen(train)).stats.records == 8
    assert preflab.validate_pairs(gen(train)).ok
    assert preflab.convert_pairs(gen(train), tmp_path / "o.jsonl").written == 8
    halves = preflab.split_pairs(gen(train), test_fraction=0.25)
    assert len(halves.first) + len(halves.second) == 8
    assert preflab.to_dataset(gen(train)).num_rows == 8
    assert preflab.to_dataset([p.model_dump() for p in train]).num_rows == 8  # dicts too
    assert len(preflab.read_pairs(gen(train))) == 8 and len(preflab.read_prompts(gen(PROMPTS))) == 4


WRONG = [
    ("evaluate model None", lambda rm, f: preflab.evaluate(None, f), r"^model must be a reward model: .* got None$"),
    ("score model 3", lambda rm, f: preflab.score(3, f), r"^model must be a reward model: .* got int$"),
    ("generate scorer object", lambda rm, f: preflab.generate("west-of-n", PROMPTS, llm="fake", scorer=object()),
     r"^scorer must be a reward model: .* got object$"),
    ("bench None", lambda rm, f: preflab.bench(None), r"^config must be a bench YAML file or a dict of its keys, got None$"),
    ("bench 3", lambda rm, f: preflab.bench(3), r"got int$"),
    ("report_page None", lambda rm, f: preflab.report_page(None), r"^source must be a bench run folder or a pairs file"),
    ("report_page generator", lambda rm, f: preflab.report_page(gen([f])), r"^source must be .* got list$"),
    ("convert_pairs out None", lambda rm, f: preflab.convert_pairs(f, None), r"^dst must be the output's path"),
    ("generate llm 3", lambda rm, f: preflab.generate("rlcd", PROMPTS, llm=3), r"^llm: 3 is not a valid str$"),
    ("generate llm object", lambda rm, f: preflab.generate("rlcd", PROMPTS, llm=object()),
     r"^llm must be an LLM spec .* got object$"),
    ("judge llm object", lambda rm, f: preflab.judge(f, llm=object()), r"^llm must be an LLM spec .* got object$"),
    ("generate out 5", lambda rm, f: preflab.generate("rlcd", PROMPTS, llm="fake", out=5), r"^out: 5 is not a valid Path"),
    ("to_dataset None", lambda rm, f: preflab.to_dataset(None), r"^expected a path, a list of records"),
    ("train_rm val 3", lambda rm, f: preflab.train_rm(f, cheap=True, val=3), r"val: 3 is not a valid"),
]


@pytest.mark.parametrize("name, call, message", WRONG, ids=[w[0] for w in WRONG])
def test_a_wrong_kind_of_argument_is_one_config_error(rm, tmp_path, name, call, message):
    from preflab import io

    pairs_file = tmp_path / "pairs.jsonl"
    io.write_pairs(toy_pairs(4), pairs_file)
    with pytest.raises(ConfigError) as info:
        call(rm, pairs_file)
    import re

    assert re.search(message, str(info.value)), str(info.value)
    assert "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pairs.jsonl"]
