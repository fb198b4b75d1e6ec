"""The bench's generation step runs a method the way ``preflab generate`` does, and opens and
closes its judges the way it opens and closes its generator (fast, fake LLMs)."""

import json
from pathlib import Path

import pytest

import preflab
from preflab.io import read_pairs
from preflab.llm.fake import FakeBackend
from preflab.llm.spec import register_backend

DATA = Path(__file__).resolve().parents[2] / "src" / "preflab" / "data"


class LengthScorer:
    id = "length-scorer"

    def score(self, prompt, responses):
        return [len(r) / 20 for r in responses]  # gaps of a few words: confidences spread below 1


def _answer(messages, options, seed):
    text = messages[-1].content
    return "word " * (1 + ((seed or 0) + sum(map(ord, text))) % 9) + text[:12]  # lengths vary by prompt and sample


def _by_instruction(messages, options, seed):
    return f"{messages[0].content[:30]} {seed}"  # the answer names the method's template


register_backend("lengths", lambda target, params: FakeBackend(default=_answer))
register_backend("by-instruction", lambda target, params: FakeBackend(default=_by_instruction))


def _config(name, llm, methods, budget, **more):
    return {"name": name, "llm": llm, "prompts": {"path": str(DATA / "example_prompts.txt")}, "budget_prompts": budget,
            "methods": methods, "rm": {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 2}},
            "eval": [{"name": "check", "path": str(DATA / "quickstart_eval.jsonl"), "limit": 4}], **more}


def _generated(results, key):
    """The step folder of method ``key``'s pairs, its pairs and the run record beside them."""
    pairs_file = Path(results["run_dir"]) / results["methods"][key]["pairs_file"]
    return (pairs_file.parent, list(read_pairs(pairs_file)),
            json.loads(pairs_file.with_name(pairs_file.name + ".run.json").read_text()))


@pytest.mark.parametrize("quantile", [None, 0.5])
def test_bench_applies_west_of_n_confidence_quantile(tmp_path, monkeypatch, quantile):
    """Was: bench generated West-of-N pairs and never applied ``confidence_quantile``."""
    import preflab.rm.loading

    scorer_dir = tmp_path / "a-reward-model-folder"
    scorer_dir.mkdir()
    real = preflab.rm.loading.load_scorer
    monkeypatch.setattr(preflab.rm.loading, "load_scorer",  # the bench's scorer; its own RMs load for real
                        lambda path, *a, **kw: LengthScorer() if Path(path) == scorer_dir else real(path, *a, **kw))
    options = {"n": 4, "max_tokens": 16, **({"confidence_quantile": quantile} if quantile else {})}
    results = preflab.bench(_config("q", "lengths", [{"name": "west-of-n", "options": options}], 8,
                                    scorer=str(scorer_dir)), run_dir=tmp_path / "run", progress=False)
    gen = results["methods"]["west-of-n"]
    _, pairs, run = _generated(results, "west-of-n")
    confidences = sorted(p.provenance["confidence"] for p in pairs)
    if quantile is None:
        assert gen["pairs"] == gen["prompts"] == 8 and run["post_filter"] == {}
    else:
        cut = run["post_filter"]["confidence_cut"]
        assert run["post_filter"]["confidence_quantile"] == 0.5
        assert 0 < gen["pairs"] < 8 and all(c > cut for c in confidences)
        assert gen["failures"]["filtered_after_run"] == 8 - gen["pairs"]


def test_generate_step_follows_a_changed_method_default(tmp_path, monkeypatch):
    """Was: the step was keyed on the options written in the bench file, so a run folder kept
    pairs made under an old default (a template version) after preflab changed it."""
    from preflab.methods import get_method

    config = _config("d", "by-instruction", [{"name": "rlcd", "options": {"max_tokens": 16}}], 2)

    def templates():
        results = preflab.bench(config, run_dir=tmp_path / "run", progress=False)
        folder, pairs, _ = _generated(results, "rlcd")
        return (folder, {p.provenance["template"] for p in pairs}), results["steps"]

    (first, _), (again, steps) = templates(), templates()
    assert first == again and first[1] == {"answer_length.v2"}  # unchanged config: the step is reused
    assert first[0].name in steps["reused"] and steps["ran"] == []
    monkeypatch.setitem(get_method("rlcd").defaults, "template_version", "v1")
    changed, steps = templates()
    assert changed[0] != first[0] and changed[1] == {"answer_length.v1"}
    assert changed[0].name in steps["ran"]


def test_bench_opens_its_judges_on_the_generators_executor_and_closes_them(tmp_path, monkeypatch):
    """Was: the bench opened ``judge_llm`` with plain ``open_llm`` (never on the bench's
    executor, so never on Ray) once per method, and never closed it."""
    import preflab.llm.on_executor

    opened = []
    real = preflab.llm.on_executor.open_llm_on

    def recording(executor, spec, **kwargs):
        llm = real(executor, spec, **kwargs)
        opened.append((executor, spec, llm))
        return llm

    monkeypatch.setattr(preflab.llm.on_executor, "open_llm_on", recording)
    methods = [{"name": "rlaif", "options": {"inconsistent": "keep"}},
               {"name": "rlaif", "label": "rlaif-again", "options": {"max_tokens": 200, "inconsistent": "keep"}}]
    judge, gold = "fake:judge-model#answer=[[A]]", "fake:gold-model#answer=[[B]]"
    config = _config("j", "fake#seeded=true", methods, 3, judge_llm=judge, gold_judge_llm=gold)
    results = preflab.bench(config, run_dir=tmp_path / "run", progress=False)
    assert set(results["gold_agreement"]) == {"rlaif", "rlaif-again"}
    by_spec = {spec: (executor, llm) for executor, spec, llm in opened}
    assert [spec for _, spec, _ in opened] == ["fake#seeded=true", judge, gold]  # once each
    generator = by_spec["fake#seeded=true"][0]
    for spec in (judge, gold):
        executor, llm = by_spec[spec]
        assert executor == generator and llm.backend.calls  # on the generator's executor, and asked
        assert llm.backend.closed, f"{spec} left open"
    _, pairs, run = _generated(results, "rlaif")
    assert run["judge"]["model"] == "judge-model#answer=[[A]]" and len(pairs) == 3  # the judge labelled every pair
