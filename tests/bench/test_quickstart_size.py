"""Issue 27 §5: the quickstart's size is one place (the defaults of its options), and a committed
measurement of its own generation (``benchmarks/prompt_yield.py --quickstart``, same options,
same prompts, the same embedded model) backs what that size promises: every method keeps at
least 80% of its prompts, and at least one synthetic pair for every two human ones."""

import dataclasses
import json
from pathlib import Path

import pytest

import preflab
from preflab import io
from preflab.api.bench import QuickstartOptions
from preflab.config import parse
from preflab.methods import get_method
from preflab.pipelines.bench.config import load_bench_config
from preflab.pipelines.bench.quickstart import quickstart_config

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "src" / "preflab" / "data"
MEASURED = REPO / "benchmarks" / "results" / "prompt_yield_quickstart.json"
DEFAULTS = {f.name: f.default for f in dataclasses.fields(QuickstartOptions)}


def default_config() -> dict:
    return quickstart_config(None, DEFAULTS["llm"], None, DEFAULTS["eval_format"], DEFAULTS["budget"],
                             DEFAULTS["max_tokens"], DEFAULTS["eval_limit"], DEFAULTS["base_limit"])


def resolved(name: str, options: dict) -> dict:
    method = get_method(name)
    return dataclasses.asdict(parse(options, method.config, defaults=method.defaults)[method.config])


class Built(Exception):
    pass


def test_the_command_builds_its_bench_from_the_options_defaults(monkeypatch, tmp_path):
    import preflab.pipelines.bench.quickstart as module

    seen = {}

    def capture(*args):
        seen["args"] = args
        raise Built()
    monkeypatch.setattr(module, "quickstart_config", capture)
    with pytest.raises(Built):
        preflab.quickstart(llm="fake", out=tmp_path / "qs", progress=False)
    prompts, llm, eval_path, eval_format, budget, max_tokens, eval_limit, base_limit = seen["args"]
    assert (budget, max_tokens, eval_limit, base_limit) == (DEFAULTS["budget"], DEFAULTS["max_tokens"], None,
                                                            DEFAULTS["base_limit"])


def test_the_default_size_fits_the_shipped_data():
    cfg, _ = load_bench_config(data=default_config())
    assert cfg.budget_prompts == DEFAULTS["budget"] <= len(list(io.read_prompts(DATA / "hh_harmless_prompts.jsonl")))
    assert cfg.base.limit == DEFAULTS["base_limit"] <= len(list(io.read_pairs(DATA / "hh_harmless_base.jsonl.gz", "hh-rlhf")))
    assert all(resolved(m.name, m.options)["truncated_retries"] >= 1 for m in cfg.methods)


def test_a_measurement_of_the_quickstarts_own_generation_backs_its_size():
    """Changing the size, a method option or the prompts without measuring again fails here."""
    measured = json.loads(MEASURED.read_text())
    config = default_config()
    assert measured["llm"] == config["llm"] and measured["seed"] == 0
    budget, base = config["budget_prompts"], config["base"]["limit"]
    shipped = [p.id for p in io.read_prompts(DATA / "hh_harmless_prompts.jsonl")]
    for method in config["methods"]:
        want = resolved(method["name"], method["options"])
        rows = [r for r in measured["rows"] if r["method"] == method["name"] and resolved(r["method"], r["options"]) == want]
        assert rows, f"no measurement of {method['name']} with the quickstart's options {want}"
        row = rows[0]
        assert row["prompts"] >= budget and measured["prompt_ids"][:budget] == shipped[:budget]
        kept = row["kept_among_first"][str(budget)]
        assert kept >= 0.8 * budget, (method["name"], kept)
        assert 2 * kept >= base, f"{method['name']}: {kept} synthetic pairs beside {base} human ones"
