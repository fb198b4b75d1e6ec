"""Spec strings, options, the SQLite call cache (schema, migrations, concurrent writers) and
usage/budget accounting."""

from __future__ import annotations

import doctest
import importlib
import multiprocessing
import sqlite3

import pytest
from pydantic import ValidationError

from preflab.errors import ConfigError
from preflab.llm import BudgetExceeded, CallCache, Options, PriceTable, Usage, parse_spec, sample_seed
from preflab.llm.cache import SCHEMA_VERSION, _m001_calls, request_key
from preflab.llm.spec import create_backend


@pytest.mark.parametrize("module", ["base", "cache", "usage", "spec", "fake", "loop", "ledger", "failures",
                                    "llamacpp.prefill", "ray_backend", "on_executor",
                                    "transformers_backend"])
def test_doctests(module):
    mod = importlib.import_module(f"preflab.llm.{module}")
    result = doctest.testmod(mod, optionflags=doctest.ELLIPSIS | doctest.IGNORE_EXCEPTION_DETAIL)
    assert result.attempted > 0 and result.failed == 0


@pytest.mark.parametrize("text, kind, target, params", [
    ("llamacpp", "llamacpp", None, {}),
    ("llamacpp:/m/x.gguf#n_ctx=8192", "llamacpp", "/m/x.gguf", {"n_ctx": "8192"}),
    ("openai:http://127.0.0.1:8080/v1#model=smol&key_env=K&concurrency=8", "openai", "http://127.0.0.1:8080/v1",
     {"model": "smol", "key_env": "K", "concurrency": "8"}),
    ("hf:/path/to/model", "hf", "/path/to/model", {}),
    ("OpenAI:gpt-4o-mini", "openai", "gpt-4o-mini", {}),
])
def test_parse_spec(text, kind, target, params):
    spec = parse_spec(text)
    assert (spec.kind, spec.target, spec.params) == (kind, target, params)
    assert parse_spec(str(spec)) == spec


def test_spec_errors_say_what_is_allowed():
    with pytest.raises(ConfigError, match="unknown LLM backend kind 'nope'.*llamacpp"):
        create_backend("nope")
    with pytest.raises(ConfigError, match=r"n_ctxx: unknown option \(allowed: n_ctx"):
        create_backend("llamacpp:/x.gguf#n_ctxx=1")
    with pytest.raises(ConfigError, match="given twice"):
        parse_spec("fake#model=a&model=b")
    with pytest.raises(ConfigError, match="concurrency"):
        create_backend("openai:http://h/v1#concurrency=zero")
    with pytest.raises(ConfigError, match="not an http"):
        create_backend("openai:ftp://h/v1#model=x")
    assert create_backend({"kind": "fake", "model": "m2"}).model_id == "m2"


def test_options_reject_unknown_and_bad_values():
    with pytest.raises(ValidationError, match="extra"):
        Options(temprature=0.5)
    with pytest.raises(ValidationError):
        Options(max_tokens=0)
    with pytest.raises(ValidationError):
        Options(temperature=-1)
    assert Options(stop="x").stop == ["x"]


def test_sample_seeds_distinct_and_stable():
    seeds = [sample_seed(7, i) for i in range(1000)]
    assert len(set(seeds)) == 1000
    assert seeds == [sample_seed(7, i) for i in range(1000)]
    assert sample_seed(7, 1) != sample_seed(8, 0) and sample_seed(None, 3) is None


def test_cache_roundtrip_stats_clear(cache_path):
    cache = CallCache(cache_path)
    assert cache.schema_version == SCHEMA_VERSION
    for i in range(5):
        cache.put(request_key({"i": i}), {"kind": "complete", "backend": "fake", "model": f"m{i % 2}"}, {"text": str(i)},
                  prompt_tokens=3, completion_tokens=2)
    assert cache.get(request_key({"i": 3})) == {"text": "3"}
    stats = cache.stats()
    assert stats["entries"] == 5 and {g["model"]: g["entries"] for g in stats["groups"]} == {"m0": 3, "m1": 2}
    assert sum(g["prompt_tokens"] for g in stats["groups"]) == 15
    assert cache.clear(model="m1") == 2 and cache.stats()["entries"] == 3
    assert cache.clear() == 3 and cache.get(request_key({"i": 0})) is None
    assert sqlite3.connect(cache_path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_cache_migrates_an_old_schema(cache_path):
    db = sqlite3.connect(cache_path, isolation_level=None)
    _m001_calls(db)
    db.execute("PRAGMA user_version = 1")
    db.execute("INSERT INTO calls VALUES ('k', 'complete', 'fake', 'm', '{}', '{\"text\": \"old\"}', 0)")
    db.close()
    cache = CallCache(cache_path)
    assert cache.schema_version == SCHEMA_VERSION and cache.get("k") == {"text": "old"}
    assert cache.stats()["groups"][0]["prompt_tokens"] == 0  # the column added by migration 2


def test_cache_from_newer_preflab_is_refused(cache_path):
    CallCache(cache_path).close()
    db = sqlite3.connect(cache_path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="newer than this preflab"):
        CallCache(cache_path)


def _writer(path: str, start: int) -> None:
    cache = CallCache(path)
    for i in range(start, start + 200):
        cache.put(request_key({"i": i}), {"kind": "complete", "backend": "fake", "model": "m"}, {"i": i})
    cache.close()


def test_cache_concurrent_writer_processes(cache_path):
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(cache_path), k * 200)) for k in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    cache = CallCache(cache_path)
    assert cache.stats()["entries"] == 600
    assert all(cache.get(request_key({"i": i})) == {"i": i} for i in range(0, 600, 37))


def test_usage_per_backend_method_cost_and_budget():
    usage = Usage(prices=PriceTable({"big-*": (10.0, 30.0)}), max_cost=0.001)
    usage.record("openai", "big-1", "rmboost", prompt_tokens=50, completion_tokens=10)
    usage.record("openai", "small", "rlaif", prompt_tokens=100, completion_tokens=100)
    usage.record("openai", "big-1", "rmboost", prompt_tokens=50, completion_tokens=10, cached=True)
    s = usage.summary()
    assert s["total"]["calls"] == 2 and s["total"]["cached_calls"] == 1 and s["total"]["tokens"] == 260
    assert s["by_method"]["rmboost"]["prompt_tokens"] == 50 and s["by_method"]["rmboost"]["cached_tokens"] == 60
    assert s["cost"] == pytest.approx((50 * 10 + 10 * 30) / 1e6) and s["unpriced_models"] == ["small"]
    usage.check_budget()
    usage.record("openai", "big-1", "rmboost", prompt_tokens=100, completion_tokens=100)
    with pytest.raises(BudgetExceeded, match="cost budget reached.*larger max_cost"):
        usage.check_budget()


def test_usage_config_errors(tmp_path):
    with pytest.raises(ConfigError, match="price table"):
        Usage(max_cost=1.0)
    bad = tmp_path / "p.yaml"
    bad.write_text("gpt-4o: {input: 1}\n")
    with pytest.raises(ConfigError, match="exactly 'input' and 'output'"):
        PriceTable.load(bad)
    good = tmp_path / "q.yaml"
    good.write_text("gpt-4o*: {input: 2.5, output: 10}\n")
    assert PriceTable.load(good).price("gpt-4o-mini") == (2.5, 10.0)
