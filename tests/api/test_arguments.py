"""The Python functions keep the CLI's guarantees: bad arguments fail before any work with
what is allowed, the call cache and ``out=`` resume work, budgets stop cleanly, progress
bars can be turned off, and provenance comes back with the pairs."""

import json

import pytest

import preflab
from preflab.errors import ConfigError, InputError, PreflabError
from preflab.llm.usage import BudgetExceeded

from .conftest import toy_pairs


def test_unknown_method_lists_the_methods(llm, prompts):
    with pytest.raises(ConfigError, match=r"unknown method 'rmbost'; choose one of .*rmboost"):
        preflab.generate("rmbost", prompts, llm=llm)
    assert llm.backend.calls == []


def test_an_option_of_another_method_is_named_as_such(llm, prompts):
    with pytest.raises(ConfigError) as info:
        preflab.generate("rlcd", prompts, llm=llm, n=8, temperatur=0.5)
    message = str(info.value)
    assert "option 'n' belongs to" in message and "west-of-n" in message
    assert "unknown option 'temperatur'" in message and "allowed:" in message and "temperature" in message
    assert llm.backend.calls == []


def test_wrong_types_and_ranges_are_reported_together_before_any_call(llm, prompts, tmp_path):
    with pytest.raises(ConfigError) as info:
        preflab.generate("rlcd", prompts, llm=llm, limit="three", in_flight=0, temperature=9.0, out=tmp_path / "o.jsonl")
    message = str(info.value)
    assert "limit: 'three' is not a valid" in message
    with pytest.raises(ConfigError) as info:
        preflab.generate("rlcd", prompts, llm=llm, in_flight=0, temperature=9.0, out=tmp_path / "o.jsonl")
    message = str(info.value)
    assert "in_flight must be at least 1" in message and "temperature must lie in [0, 2]" in message and "--" not in message
    assert llm.backend.calls == [] and not (tmp_path / "o.jsonl").exists()
    with pytest.raises(ConfigError, match="batch_size: 'big' is not a valid"):
        preflab.score("no-model", toy_pairs(2), batch_size="big")
    with pytest.raises(ConfigError, match=r"unknown option 'flip'.*allowed: .*flip_fraction"):
        preflab.clean(toy_pairs(2), flip=0.1)


def test_train_rm_checks_recipe_options_before_training():
    with pytest.raises(ConfigError, match="embed-head"):
        preflab.train_rm(toy_pairs(4), cheap=True, lora_r=8)
    with pytest.raises(ConfigError, match="unknown option 'epoch'"):
        preflab.train_rm(toy_pairs(4), epoch=3)


def test_an_output_that_is_an_input_is_refused(tmp_path):
    path = tmp_path / "pairs.jsonl"
    from preflab import io

    io.write_pairs(toy_pairs(2), path)
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="is also an input"):
        preflab.clean(path, out=path, flip_below=0.0)
    assert path.read_bytes() == before


def test_generate_returns_provenance_usage_and_failures(llm, prompts, tmp_path):
    out = tmp_path / "pairs.jsonl"
    pairs = preflab.generate("rlcd", prompts, llm=llm, out=out, progress=False)
    assert len(pairs) == len(prompts) and pairs.failures == []
    assert all(p.provenance["method"] == "rlcd" for p in pairs)
    assert pairs.usage["total"]["calls"] == 2 * len(prompts)
    assert pairs.run["inputs"]["prompts"]["rows"] == len(prompts)  # in-memory prompts: counted and fingerprinted
    written = json.loads((tmp_path / "pairs.jsonl.run.json").read_text())
    assert written["counts"]["pairs"] == len(prompts) and pairs.info["path"] == str(out)
    assert list(preflab.read_pairs(out)) == list(pairs)


def test_the_call_cache_makes_a_second_call_free(prompts, tmp_path):
    from preflab.llm.fake import FakeBackend

    from .conftest import varied

    cache = tmp_path / "calls.sqlite3"
    first = preflab.generate("rlcd", prompts, llm=FakeBackend(default=varied), cache_path=cache, progress=False)
    again = FakeBackend(default=varied)
    second = preflab.generate("rlcd", prompts, llm=again, cache_path=cache, progress=False)
    assert list(second) == list(first) and again.calls == []
    assert second.usage["total"]["cached_calls"] == 2 * len(prompts)


def test_a_budget_stop_resumes_with_the_same_out(prompts, tmp_path):
    from preflab.llm.fake import FakeBackend

    from .conftest import varied

    reference = preflab.generate("rlcd", prompts, llm=FakeBackend(default=varied), cache=False, progress=False)
    out = tmp_path / "pairs.jsonl"
    with pytest.raises(BudgetExceeded, match="run it again with the same out and a larger budget"):
        preflab.generate("rlcd", prompts, llm=FakeBackend(default=varied), cache=False, max_tokens_budget=60,
                         in_flight=1, out=out, progress=False)
    assert (tmp_path / "pairs.jsonl.partial.jsonl").exists() and not out.exists()
    backend = FakeBackend(default=varied)
    done = preflab.generate("rlcd", prompts, llm=backend, cache=False, in_flight=1, out=out, progress=False)
    assert done.info["resumed"] > 0 and len(backend.calls) < 2 * len(prompts)
    assert list(done) == list(reference)


def test_progress_bars_show_and_turn_off(llm, prompts, capfd):
    preflab.generate("rlcd", prompts, llm=llm, cache=False, progress=False)
    assert "Generating" not in capfd.readouterr().err
    preflab.generate("rlcd", prompts, llm=llm, cache=False, progress=True)
    assert "Generating (rlcd)" in capfd.readouterr().err


def test_errors_are_preflab_errors_with_one_line():
    with pytest.raises(InputError) as info:
        preflab.clean([{"prompt": "q", "chosen": "a"}], flip_below=0.0)
    assert isinstance(info.value, PreflabError) and "\n" not in str(info.value)


class LengthScorer:
    """Any object with ``score(prompt, responses)`` is a scorer: here, longer is better."""

    def score(self, prompt, responses):
        return [float(len(r)) for r in responses]


def test_score_and_evaluate_take_a_scorer_object_and_rows_with_responses(tmp_path):
    pairs = toy_pairs(6)  # the chosen response is the longer one
    scored = preflab.score(LengthScorer(), pairs, out=tmp_path / "scored.jsonl", progress=False)
    assert all(p.chosen_score > p.rejected_score for p in scored)
    assert list(preflab.read_pairs(tmp_path / "scored.jsonl")) == list(scored)
    assert json.loads((tmp_path / "scored.jsonl.run.json").read_text())["inputs"]["input"]["rows"] == 6
    rows = preflab.score(LengthScorer(), [{"prompt": "Hi", "responses": ["a", "abc"]}], progress=False)
    assert rows == [{"prompt": "Hi", "responses": ["a", "abc"], "scores": [1.0, 3.0]}]
    result = preflab.evaluate(LengthScorer(), pairs, n_boot=50, out=tmp_path / "eval", progress=False)
    assert result["model"]["accuracy"] == 1.0 and result["model"]["by_category"]["odd"]["n"] == 3
    assert json.loads((tmp_path / "eval" / "eval.json").read_text())["model"]["accuracy"] == 1.0
    assert (tmp_path / "eval" / "run.json").exists() and "files" not in json.loads((tmp_path / "eval" / "eval.json").read_text())
