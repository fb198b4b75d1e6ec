"""Every submodule of preflab imported first, then every public function called with tiny
inputs (fake LLM, the embedding-head RM): no module can shadow a function of the same name
(``import preflab.bench`` once replaced ``preflab.bench``). One test per function, so one
failure hides no other; the inputs they share are module fixtures."""

import importlib
import inspect
import pkgutil

import pytest

import preflab
from preflab.api.generate import example_prompts

from .conftest import toy_pairs, varied

FUNCTIONS = ("generate", "judge", "train_rm", "score", "evaluate", "best_of_n", "strength", "clean", "augment", "bench",
             "meta_set", "report_page", "inspect_pairs", "validate_pairs", "convert_pairs", "split_pairs",
             "check_llm", "llm_cache_stats", "clear_llm_cache")

pytestmark = pytest.mark.slow


def _import_every_submodule() -> tuple[list[str], dict[str, str]]:
    """(the submodules imported, those that failed to import: name → error)."""
    names, failed = [], {}
    for info in pkgutil.walk_packages(preflab.__path__, "preflab.", onerror=lambda name: failed.setdefault(name, "")):
        if info.name.endswith("__main__"):
            continue
        try:
            importlib.import_module(info.name)
        except Exception as exc:  # reported by the first test; the functions are still called after the rest
            failed[info.name] = repr(exc)
            continue
        names.append(info.name)
    return names, failed


@pytest.fixture(scope="module", autouse=True)
def every_submodule() -> tuple[list[str], dict[str, str]]:
    """Imported before any function is called: the calls below run after every import."""
    return _import_every_submodule()


@pytest.fixture(scope="module")
def generated():
    from preflab.llm.fake import fake_llm

    return preflab.generate("random-label", example_prompts(), llm=fake_llm(default=varied), limit=6, progress=False)


@pytest.fixture(scope="module")
def train():
    return toy_pairs(8)


@pytest.fixture(scope="module")
def rm(train, tmp_path_factory):
    return preflab.train_rm(train, cheap=True, epochs=20, cache_dir=str(tmp_path_factory.mktemp("emb")), progress=False)


@pytest.fixture(scope="module")
def strong(train):
    return preflab.strength(train, mode="heads", recipe="embed-head", members=2, head_epochs=5, progress=False)


def test_every_submodule_imports_and_no_public_name_is_a_module(every_submodule):
    imported, failed = every_submodule
    assert not failed, failed
    assert len(imported) > 50
    for name in preflab.__all__:
        value = getattr(preflab, name)
        assert not inspect.ismodule(value), f"preflab.{name} is a module"
    assert set(FUNCTIONS) <= set(preflab.__all__)
    for name in FUNCTIONS:
        assert inspect.isfunction(getattr(preflab, name)), name


def test_generate(generated):
    assert len(generated) == 6 and generated.usage["total"]["calls"] == 12


def test_judge(generated):
    from preflab.llm.fake import fake_llm

    verdicts = preflab.judge(generated, llm=fake_llm(default="A"), progress=False)
    assert verdicts["summary"]["all"]["pairs"] == 6


def test_train_rm(rm, train):
    assert rm.info["pairs"] == len(train)


def test_score(rm, generated):
    scored = preflab.score(rm, generated, progress=False)
    assert all(p.chosen_score is not None for p in scored)


def test_evaluate(rm, train):
    assert 0.0 <= preflab.evaluate(rm, train, n_boot=20, progress=False)["model"]["accuracy"] <= 1.0


def test_best_of_n(rm, train, tmp_path):
    from preflab.llm.fake import fake_llm

    gold = preflab.train_rm(train, cheap=True, epochs=5, seed=1, cache_dir=str(tmp_path / "emb"), progress=False)
    results = preflab.best_of_n(["Why?", "How?"], rm={"rm": rm}, gold=gold, llm=fake_llm(default=varied), n=2,
                                out=tmp_path / "bon", progress=False)
    assert results["ns"] == [1, 2] and results["prompts"] == 2 and (tmp_path / "bon" / "results.json").exists()


def test_strength(strong):
    assert all(p.strength_std is not None for p in strong)


def test_clean(strong):
    assert len(preflab.clean(strong, flip_below=0.0)) == len(strong)


def test_augment(train):
    rated = [p.model_copy(update={"chosen_score": 7.0, "rejected_score": 2.0}) for p in train]
    assert len(preflab.augment(rated)) == 2 * len(rated)


def test_bench(tmp_path):
    config = {"name": "t", "llm": "fake", "prompts": {"path": str(example_prompts())}, "budget_prompts": 4,
              "methods": [{"name": "random-label"}], "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 5}},
              "eval": [{"name": "toy", "path": str(example_prompts().with_name("quickstart_eval.jsonl"))}]}
    results = preflab.bench(config, run_dir=tmp_path / "bench", progress=False)
    assert set(results["table"]) == {"random-label"}


def test_meta_set(tmp_path):
    from preflab.llm.fake import fake_llm

    sampled = preflab.meta_set(example_prompts(), llm=fake_llm(default=varied), k=2, limit=3, out=tmp_path / "m.jsonl")
    assert sampled["run"]["counts"] == {"prompts": 3, "rows": 3} and (tmp_path / "m.jsonl.run.json").exists()


def test_report_page(generated, tmp_path):
    from preflab import io

    io.write_pairs(generated, tmp_path / "pairs.jsonl")
    assert preflab.report_page(tmp_path / "pairs.jsonl") == tmp_path / "pairs.jsonl.report.html"


def test_data_functions(train, tmp_path):
    assert preflab.inspect_pairs(train).stats.records == 8
    assert preflab.validate_pairs(train).ok
    assert preflab.convert_pairs(train, tmp_path / "trl.parquet", to="trl").written == 8
    halves = preflab.split_pairs(train, test_fraction=0.25, out_dir=tmp_path / "split")
    assert (len(halves.first), len(halves.second)) == (6, 2) and sorted(halves.paths) == ["test", "train"]


def test_llm_functions(tmp_path):
    cache = tmp_path / "calls.sqlite3"
    assert preflab.check_llm(llm="fake:m#answer=ok", cache=True, cache_path=cache).reply.text == "ok"
    assert preflab.llm_cache_stats(cache_path=cache)["entries"] == 1
    assert preflab.clear_llm_cache(cache_path=cache).deleted == 1
