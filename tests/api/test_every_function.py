"""Every submodule of preflab imported first, then every public function called with tiny
inputs (fake LLM, the embedding-head RM): no module can shadow a function of the same name
(``import preflab.bench`` once replaced ``preflab.bench``)."""

import importlib
import inspect
import pkgutil

import pytest

import preflab
from preflab.api.generate import example_prompts

from .conftest import toy_pairs, varied

FUNCTIONS = ("generate", "judge", "train_rm", "score", "evaluate", "strength", "clean", "augment", "bench")


def _import_every_submodule() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(preflab.__path__, "preflab."):
        if info.name.endswith("__main__"):
            continue
        importlib.import_module(info.name)
        names.append(info.name)
    return names


@pytest.mark.slow
def test_every_public_function_survives_importing_every_submodule(tmp_path):
    from preflab.llm.fake import fake_llm

    assert len(_import_every_submodule()) > 50
    for name in preflab.__all__:
        value = getattr(preflab, name)
        assert not inspect.ismodule(value), f"preflab.{name} is a module"
    assert set(FUNCTIONS) <= set(preflab.__all__)
    for name in FUNCTIONS:
        assert inspect.isfunction(getattr(preflab, name)), name

    pairs = preflab.generate("random-label", example_prompts(), llm=fake_llm(default=varied), limit=6, progress=False)
    assert len(pairs) == 6 and pairs.usage["total"]["calls"] == 12
    verdicts = preflab.judge(pairs, llm=fake_llm(default="A"), progress=False)
    assert verdicts["summary"]["all"]["pairs"] == 6
    train = toy_pairs(8)
    rm = preflab.train_rm(train, cheap=True, epochs=20, cache_dir=str(tmp_path / "emb"), progress=False)
    scored = preflab.score(rm, pairs, progress=False)
    assert all(p.chosen_score is not None for p in scored)
    assert 0.0 <= preflab.evaluate(rm, train, n_boot=20, progress=False)["model"]["accuracy"] <= 1.0
    strong = preflab.strength(train, mode="heads", recipe="embed-head", members=2, head_epochs=5, progress=False)
    assert all(p.strength_std is not None for p in strong)
    assert len(preflab.clean(strong, flip_below=0.0)) == len(strong)
    rated = [p.model_copy(update={"chosen_score": 7.0, "rejected_score": 2.0}) for p in train]
    assert len(preflab.augment(rated)) == 2 * len(rated)
    config = {"name": "t", "llm": "fake", "prompts": {"path": str(example_prompts())}, "budget_prompts": 4,
              "methods": [{"name": "random-label"}], "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 5}},
              "eval": [{"name": "toy", "path": str(example_prompts().with_name("quickstart_eval.jsonl"))}]}
    results = preflab.bench(config, run_dir=tmp_path / "bench", progress=False)
    assert set(results["table"]) == {"random-label"}
