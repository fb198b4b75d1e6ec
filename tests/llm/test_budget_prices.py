"""A cost budget stops a run only if it can count the cost: a price table with a NaN, infinite,
negative or non-numeric price, or with no pattern for the model, is refused before any work
(it once let ``--max-cost 0.001`` run all 300 of 300 prompts, the cost shown as nan or
negative), and a valid one stops the run."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import preflab
from preflab.errors import ConfigError
from preflab.llm import PriceTable, Usage, open_llm


def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "preflab", *map(str, args)], capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def prompts(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("".join(f"Question number {i}: why is that so?\n" for i in range(300)))
    return path


TABLES = {
    "nan.yaml": ('"*": {input: .nan, output: 1}\n', "--price-table: price table nan.yaml: entry '*': the input price "
                                                     "must be a finite number >= 0, got nan"),
    "inf.yaml": ('"*": {input: 1, output: .inf}\n', "--price-table: price table inf.yaml: entry '*': the output price "
                                                     "must be a finite number >= 0, got inf"),
    "neg.yaml": ('"*": {input: -100, output: 1}\n', "--price-table: price table neg.yaml: entry '*': the input price "
                                                     "must be a finite number >= 0, got -100"),
    "text.yaml": ('"*": {input: cheap, output: 1}\n', "--price-table: price table text.yaml: entry '*': the input "
                                                       "price must be a number (per 1M tokens), got 'cheap'"),
    "empty.yaml": ("{}\n", "--price-table: price table empty.yaml: no prices in it"),
    "other.yaml": ('"gpt-*": {input: 1, output: 1}\n', "--llm: no price for model 'fake-model#seeded=true' in price table "
                                                        "other.yaml (patterns: 'gpt-*'); --max-cost cannot be kept"),
}


@pytest.mark.parametrize("name", sorted(TABLES))
def test_a_price_table_a_budget_cannot_use_is_refused_before_any_work(tmp_path, prompts, name):
    text, expected = TABLES[name]
    (tmp_path / name).write_text(text)
    result = _run("generate", "rlaif", "--prompts", prompts, "--out", "o.jsonl", "--llm", "fake#seeded=true",
                  "--no-cache", "--max-cost", "0.001", "--price-table", name, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: " + expected) and len(result.stderr.strip().splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["p.txt", name])  # no output, no partial file


def test_max_cost_without_a_table_is_refused(tmp_path, prompts):
    result = _run("generate", "rlaif", "--prompts", prompts, "--out", "o.jsonl", "--llm", "fake", "--no-cache",
                  "--max-cost", "0.001", cwd=tmp_path)
    assert result.returncode == 2 and "error: --max-cost needs a price table (--price-table FILE)" in result.stderr


def test_a_valid_table_stops_the_run_at_the_budget(tmp_path, prompts):
    (tmp_path / "prices.yaml").write_text('"fake-*": {input: 1.0, output: 1.0}\n')
    result = _run("generate", "rlaif", "--prompts", prompts, "--out", "o.jsonl", "--llm", "fake#seeded=true",
                  "--no-cache", "--max-cost", "0.001", "--price-table", "prices.yaml", "--in-flight", "1", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "cost budget reached" in result.stderr and "o.jsonl.partial.jsonl" in result.stderr
    done = len((tmp_path / "o.jsonl.partial.jsonl").read_text().splitlines()) - 1  # the header
    assert 0 < done < 50


def test_the_judge_llm_needs_a_price_too(tmp_path):
    (tmp_path / "prices.yaml").write_text('"fake-*": {input: 1.0, output: 1.0}\n')
    with pytest.raises(ConfigError, match=r"judge_llm: no price for model 'judge' in price table .*prices.yaml"):
        preflab.generate("rlaif", ["Why?"], llm="fake", judge_llm="fake:judge", cache=False, max_cost=1.0,
                         price_table=tmp_path / "prices.yaml", progress=False)


def test_budgets_given_with_an_llm_the_caller_opened_are_refused(tmp_path):
    from preflab.llm.fake import fake_llm

    llm = fake_llm()
    with pytest.raises(ConfigError, match=r"llm is an LLM you opened.*max_tokens_budget would not apply"):
        preflab.generate("rlaif", ["Why?"], llm=llm, max_tokens_budget=10, progress=False)
    assert llm.backend.calls == []


def test_the_client_refuses_a_cost_budget_it_cannot_price():
    """The backstop below the checks: an LLM opened from Python with such a usage."""
    usage = Usage(prices=PriceTable({"gpt-*": (1.0, 1.0)}), max_cost=0.5)
    with pytest.raises(ConfigError, match=r"no price for model 'fake-model' in the price table"):
        open_llm("fake", cache=False, usage=usage)
    with pytest.raises(ConfigError, match=r"entry 'x': the output price must be a finite number >= 0, got -1"):
        PriceTable({"x": (0.0, -1)})
    with pytest.raises(ConfigError, match=r"max_cost must be a finite number > 0, got nan"):
        Usage(prices=PriceTable({"x": (0.0, 1)}), max_cost=float("nan"))


def test_a_priced_run_records_a_finite_cost(tmp_path):
    (tmp_path / "prices.yaml").write_text('"fake-*": {input: 1.0, output: 2.0}\n')
    pairs = preflab.generate("rlaif", ["Why?", "How?"], llm="fake#seeded=true", cache=False, max_cost=10.0,
                             price_table=tmp_path / "prices.yaml", out=tmp_path / "o.jsonl", progress=False)
    usage = json.loads((tmp_path / "o.jsonl.run.json").read_text())["usage"]
    total = pairs.usage["total"]
    assert usage["cost"] == pytest.approx((total["prompt_tokens"] * 1.0 + total["completion_tokens"] * 2.0) / 1e6)
    assert usage["cost"] > 0 and usage["unpriced_models"] == []
