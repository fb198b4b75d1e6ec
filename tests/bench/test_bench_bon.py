"""A bench with ``bon:``: every row judged by best-of-N against a gold RM, in results.json,
results.md, bon.png and the report; its steps reused on a rerun; its config checked first."""

import json

import pytest

import preflab
from preflab.api.generate import example_prompts
from preflab.errors import ConfigError
from preflab.pipelines.bench.config import load_bench_config

DATA = example_prompts().parent
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def gold(tmp_path_factory):
    from preflab import io

    folder = tmp_path_factory.mktemp("gold") / "gold"
    pairs = list(io.read_pairs(DATA / "quickstart_eval.jsonl"))
    preflab.train_rm(pairs, cheap=True, epochs=30, seed=5, output_dir=folder, progress=False)
    return str(folder)


def config(gold, **bon):
    return {"name": "t", "llm": "fake#seeded=true", "prompts": {"path": str(example_prompts())}, "budget_prompts": 4,
            "base": {"path": str(DATA / "quickstart_eval.jsonl"), "limit": 12},
            "methods": [{"name": "random-label"}], "rm": {"recipe": "embed-head", "seeds": [0, 1], "options": {"epochs": 5}},
            "eval": [{"name": "check", "path": str(DATA / "quickstart_eval.jsonl")}],
            "bon": {"eval": "check", "limit": 5, "n": 4, "max_tokens": 16, "gold": gold, **bon}}


def test_every_row_is_judged_downstream_and_reported(gold, tmp_path):
    run_dir = tmp_path / "run"
    results = preflab.bench(config(gold), run_dir=run_dir, progress=False)
    bon = results["bon"]
    assert set(bon["curves"]) == {"base-only", "base+random-label"} and bon["ns"] == [1, 2, 4] and bon["prompts"] == 5
    for row in bon["curves"].values():
        assert row["1"]["mean"] == pytest.approx(bon["random"]["1"]["mean"]) and row["4"]["seeds"] == 2
    assert set(bon["wins"]) == {"base+random-label over base-only"}
    assert bon["wins"]["base+random-label over base-only"]["1"]["win_rate"] == 0.5
    assert bon["gold"] == {"kind": "rm", "label": "gold", "path": gold, "fingerprint": bon["gold"]["fingerprint"]}
    assert all(len(results["table"][row]["_models"]) == 2 for row in ("base-only", "base+random-label"))
    assert json.loads((run_dir / "results.json").read_text())["bon"]["ns"] == [1, 2, 4]
    assert "Best-of-N" in (run_dir / "results.md").read_text() and (run_dir / "bon.png").exists()
    page = (run_dir / "report.html").read_text()
    assert 'id="bon"' in page and 'id="bon-wins"' in page and "gold score of the pick against N" in page
    again = preflab.bench(config(gold), run_dir=run_dir, progress=False)
    assert again["steps"]["ran"] == [] and again["bon"]["curves"] == bon["curves"]
    more = preflab.bench(config(gold, subsets=2), run_dir=run_dir, progress=False)
    assert more["steps"]["ran"] == [] and more["bon"]["subsets"] == 2  # picks are recomputed, not resampled


def test_the_bon_block_is_checked_with_the_rest_of_the_file(gold, tmp_path):
    bad = config(gold, ns=[1, 8], eval="nosuch")
    with pytest.raises(ConfigError) as info:
        load_bench_config(data=bad)
    assert "ns [8] above the samples drawn per prompt (n = 4)" in str(info.value)
    bad = config(str(tmp_path / "missing"), gold_judge="nosuchkind")
    with pytest.raises(ConfigError) as info:
        load_bench_config(data=bad)
    message = str(info.value)
    assert "give one gold scorer" in message and "bon.gold_judge: unknown LLM backend kind 'nosuchkind'" in message
    assert f"bon.gold: {tmp_path / 'missing'} does not exist" in message
    with pytest.raises(ConfigError, match="bon.eval: no evaluation set named 'nosuch'"):
        load_bench_config(data=config(gold, eval="nosuch"))
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("what", ["gold", "llm"])
def test_a_bench_never_writes_into_the_folder_of_its_bon_inputs(what, tmp_path):
    """The gold RM folder and the policy's GGUF file of ``bon:`` are inputs of the output guard:
    a run folder holding one is refused before any work, nothing written."""
    models = tmp_path / "models"
    models.mkdir()
    gold = models / "gold"
    gold.mkdir()
    (gold / "preflab_embed_head.json").write_text("{}")
    policy = models / "policy.gguf"
    policy.write_bytes(b"GGUF" + bytes(60))
    bon = {"gold": str(gold)} if what == "gold" else {"gold": str(tmp_path / "elsewhere"), "llm": f"llamacpp:{policy}"}
    if what == "llm":
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "preflab_embed_head.json").write_text("{}")
    before = sorted(p.name for p in models.iterdir())
    with pytest.raises(ConfigError, match="holds the input") as info:
        preflab.bench(config(**bon), run_dir=models, progress=False)
    assert (gold.name if what == "gold" else policy.name) in str(info.value)
    assert sorted(p.name for p in models.iterdir()) == before
