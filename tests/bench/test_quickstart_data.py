"""Issue 15 §1: the quickstart's real human data ships inside the package — at least 600
evaluation pairs, labelled base pairs and generation prompts, cut from HH-RLHF by prompt with
no prompt in two parts, with the license beside them, small, and reproducible from the shared
source by the script that made it."""

import subprocess
import sys
from pathlib import Path

import pytest

from preflab import io
from preflab.pipelines.bench.config import load_bench_config
from preflab.pipelines.bench.quickstart import quickstart_config
from preflab.records import prompt_id

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "preflab" / "data"
SOURCE = REPO.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"


@pytest.fixture(scope="module")
def parts():
    return {"eval": list(io.read_pairs(DATA / "hh_harmless_eval.jsonl.gz", "hh-rlhf")),
            "base": list(io.read_pairs(DATA / "hh_harmless_base.jsonl.gz", "hh-rlhf")),
            "prompts": list(io.read_prompts(DATA / "hh_harmless_prompts.jsonl"))}


def test_the_default_quickstart_evaluates_on_600_human_pairs_and_trains_on_human_base_pairs(parts):
    cfg, root = load_bench_config(data=quickstart_config(None, "llamacpp", None, "auto", 24, 160))
    names = {e.name: Path(e.path) for e in cfg.eval}
    assert names["hh-harmless"] == DATA / "hh_harmless_eval.jsonl.gz" and len(parts["eval"]) >= 600
    assert Path(cfg.base.path) == DATA / "hh_harmless_base.jsonl.gz" and len(parts["base"]) >= 300
    assert Path(cfg.prompts.path) == DATA / "hh_harmless_prompts.jsonl" and len(parts["prompts"]) >= cfg.budget_prompts
    assert {m.name for m in cfg.methods} == {"rmboost", "rlcd"}
    assert all(m.options["domain"] == "harmlessness" for m in cfg.methods)


def test_no_prompt_is_in_two_parts(parts):
    ids = {name: {prompt_id(p.prompt) for p in records} for name, records in parts.items()}
    assert not ids["eval"] & ids["base"] and not ids["eval"] & ids["prompts"] and not ids["base"] & ids["prompts"]
    assert all(p.id == prompt_id(p.prompt) for p in parts["prompts"])


def test_license_and_attribution_ship_beside_the_data():
    assert "MIT License" in (DATA / "LICENSE.hh-rlhf").read_text() and "Anthropic" in (DATA / "LICENSE.hh-rlhf").read_text()
    readme = (DATA / "README.md").read_text()
    assert "hh_harmless_eval.jsonl.gz" in readme and "anthropics/hh-rlhf" in readme and "slice_hh_quickstart.py" in readme
    assert sum(f.stat().st_size for f in DATA.iterdir()) < 1_000_000


@pytest.mark.slow
@pytest.mark.skipif(not SOURCE.exists(), reason="needs the shared HH-RLHF file (../shared/data)")
def test_the_shipped_slice_is_what_the_script_cuts():
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "slice_hh_quickstart.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
