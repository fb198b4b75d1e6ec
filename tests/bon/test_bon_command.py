"""``preflab bon`` / ``preflab.best_of_n`` end to end with a fake policy and embedding-head RMs:
the numbers, the reuse of finished steps, resuming after a crash, reproducible sampling, the
gold judge, and the refusals before any work."""

import json
import shutil

import pytest
from typer.testing import CliRunner

import preflab
from preflab.errors import ConfigError
from preflab.llm.base import BackendError
from preflab.llm.fake import fake_llm

from .conftest import PROMPTS, judge_answer, policy_answer

pytestmark = pytest.mark.slow


def run(rms, out, llm=None, **options):
    given = {"rm": [f"keen={rms['keen']}", f"contrary={rms['contrary']}"], "gold": rms["gold"], "n": 8,
             "cache": False, "progress": False, "n_boot": 200, **options}
    return preflab.best_of_n(PROMPTS, llm=llm or fake_llm(default=policy_answer), out=out, **given)


@pytest.fixture(scope="module")
def first(rms, tmp_path_factory):
    out = tmp_path_factory.mktemp("bon") / "run"
    return out, run(rms, out)


def test_a_good_rm_picks_better_than_random_and_a_contrary_one_worse(first):
    out, results = first
    curves = results["curves"]
    assert results["ns"] == [1, 2, 4, 8] and results["prompts"] == len(PROMPTS) and results["failed_prompts"] == 0
    for label in ("keen", "contrary"):  # best-of-1 is a random pick
        assert curves[label]["1"]["mean"] == results["random"]["1"]["mean"] == results["oracle"]["1"]["mean"]
    assert curves["keen"]["8"]["mean"] > results["random"]["8"]["mean"] > curves["contrary"]["8"]["mean"]
    assert curves["keen"]["8"]["vs_random"]["ci95"][0] > 0 > curves["contrary"]["8"]["vs_random"]["ci95"][1]
    assert all(results["oracle"][k]["mean"] >= curves["keen"][k]["mean"] for k in ("1", "2", "4", "8"))
    wins = results["wins"]["keen over contrary"]
    assert wins["1"]["win_rate"] == 0.5 and wins["1"]["ties"] == 1.0
    assert wins["8"]["win_rate"] > 0.5 and wins["8"]["ci95"][0] > 0.5
    assert {p.name for p in out.iterdir()} >= {"results.json", "results.md", "bon.png", "picks.jsonl", "run.json",
                                               "steps"}
    record = json.loads((out / "run.json").read_text())
    assert record["step"] == "bon" and record["config"]["n"] == 8 and "rm:keen" in record["inputs"]
    assert record["gold"]["kind"] == "rm" and record["generator"]["backend"] == "fake"
    line = json.loads((out / "picks.jsonl").read_text().splitlines()[0])
    assert len(line["responses"]) == 8 and len(line["gold"]) == 8 and len(line["picks"]["keen"]["4"]) == 4
    assert "| keen |" in (out / "results.md").read_text()


def test_a_rerun_reuses_every_step_and_gives_the_same_numbers(rms, first, tmp_path):
    out, results = first
    copy = tmp_path / "run"
    shutil.copytree(out, copy)
    strict = fake_llm(strict=True)  # no call may reach the policy
    again = run(rms, copy, llm=strict)
    assert again["steps"]["ran"] == [] and len(again["steps"]["reused"]) == 4 and strict.backend.calls == []
    assert again["curves"] == results["curves"] and again["wins"] == results["wins"]


def test_a_crash_in_sampling_resumes_where_it_stopped(rms, first, tmp_path):
    _, whole = first
    out = tmp_path / "run"
    broken = fake_llm([*(policy_answer for _ in range(20)), BackendError("server gone")], default=policy_answer,
                      max_concurrency=1)
    with pytest.raises(BackendError):
        run(rms, out, llm=broken, in_flight=1)
    partial = next(out.glob("steps/bon-samples-*.tmp/samples.partial.jsonl"))
    done = len(partial.read_text().splitlines())
    assert 0 < done < len(PROMPTS)
    with partial.open("a") as fh:  # a torn last line, as a kill mid-write leaves
        fh.write('{"index": 5, "resp')
    rest = fake_llm(default=policy_answer)
    resumed = run(rms, out, llm=rest)
    assert len(rest.backend.generate_calls) == (len(PROMPTS) - done) * 8
    assert resumed["sampling"]["resumed_prompts"] == done
    assert resumed["curves"] == whole["curves"]


def test_sampling_is_reproducible_by_seed(rms, tmp_path):
    def samples(folder):
        return [r["responses"] for r in map(json.loads, (folder / "picks.jsonl").read_text().splitlines())]

    seeded = fake_llm(default=lambda m, o, seed: f"sample {seed}")
    run(rms, tmp_path / "a", llm=seeded, seed=3)
    run(rms, tmp_path / "b", llm=fake_llm(default=lambda m, o, seed: f"sample {seed}"), seed=3)
    run(rms, tmp_path / "c", llm=fake_llm(default=lambda m, o, seed: f"sample {seed}"), seed=4)
    assert samples(tmp_path / "a") == samples(tmp_path / "b") != samples(tmp_path / "c")


def test_a_gold_judge_scores_against_a_reference_and_judges_the_picks(rms, tmp_path):
    judge = fake_llm(default=judge_answer)
    results = run(rms, tmp_path / "run", gold=None, gold_judge=judge, ns=[1, 8])
    assert results["gold"]["kind"] == "judge"
    curves = results["curves"]
    assert curves["keen"]["8"]["mean"] > results["random"]["8"]["mean"] > curves["contrary"]["8"]["mean"]
    assert results["wins"]["keen over contrary"]["8"]["win_rate"] > 0.5
    asked = [c.messages[-1].content for c in judge.backend.generate_calls]
    first_question = asked[0]
    a = first_question.split("Response A: ")[1].split("\nResponse B:")[0]
    b = first_question.split("Response B: ")[1].split("\nWhich")[0]
    assert any(f"Response A: {b}\nResponse B: {a}\n" in q for q in asked)  # both orders
    line = json.loads((tmp_path / "run" / "picks.jsonl").read_text().splitlines()[0])
    assert "reference" in line and line["reference"] not in line["responses"]


def _refused(call, *texts):
    with pytest.raises(ConfigError) as info:
        call()
    message = str(info.value)
    for text in texts:
        assert text in message, message
    return message


def test_bad_input_is_refused_before_any_work(rms, tmp_path):
    strict = fake_llm(strict=True)
    out = tmp_path / "run"

    def call(**options):
        return lambda: run(rms, out, llm=strict, **options)

    _refused(call(ns=[1, 16]), "ns: 16 above the samples drawn per prompt (n = 8)")
    _refused(call(n=0, ns=[]), "n must be at least 1, got 0")
    _refused(call(gold=rms["keen"]), "gold is the reward model under test 'keen'")
    copy = tmp_path / "keen-copy"
    shutil.copytree(rms["keen"], copy)
    _refused(call(gold=str(copy)), "gold is the reward model under test 'keen'")
    _refused(call(rm=[str(tmp_path / "missing")]), f"rm: {tmp_path / 'missing'} does not exist")
    (tmp_path / "empty").mkdir()
    _refused(call(rm=[str(tmp_path / "empty")]), "is not a reward model folder")
    _refused(call(gold=None), "give one gold scorer: gold (a reward model folder) or gold_judge")
    _refused(call(gold_judge="fake"), "not both")
    _refused(call(rm=[rms["keen"], f"x/{rms['keen']}".replace("x/", "")]), "share the label 'keen'")
    assert strict.backend.calls == [] and not out.exists()


def test_the_shell_names_flags(rms, tmp_path):
    from preflab.cli.adapter import render
    from preflab.cli.main import app

    prompts = tmp_path / "p.txt"
    prompts.write_text("\n".join(PROMPTS))
    common = ["bon", "--prompts", str(prompts), "--rm", rms["keen"], "--llm", "fake", "-o", str(tmp_path / "run")]
    for flags, text in ((["--gold", rms["gold"], "--n", "4", "--ns", "8"], "--ns: 8 above the samples drawn per prompt "
                                                                         "(--n = 4); draw more with --n"),
                        (["--gold", rms["keen"]], "--gold is the reward model under test 'keen'")):
        result = CliRunner().invoke(app, common + flags)
        assert isinstance(result.exception, ConfigError) and result.exception.exit_code == 2
        assert text in render(result.exception)
    assert not (tmp_path / "run").exists()
    ok = CliRunner().invoke(app, ["bon", "--prompts", str(prompts), "--rm", rms["keen"], "--gold", rms["gold"],
                                  "--n", "2", "--llm", "fake#seeded=true", "--no-cache", "-o", str(tmp_path / "ok")])
    assert ok.exit_code == 0, ok.output
    assert "gold score of the pick" in ok.output and (tmp_path / "ok" / "results.json").exists()


def test_a_budget_stop_keeps_the_finished_prompts_and_says_how_to_go_on(rms, tmp_path):
    from preflab.llm.usage import BudgetExceeded

    out, spec = tmp_path / "run", "fake#seeded=true"  # a spec: the budget applies to what it opens
    with pytest.raises(BudgetExceeded) as info:
        run(rms, out, llm=spec, cache=True, cache_path=tmp_path / "calls.sqlite", max_tokens_budget=300, in_flight=1)
    assert "run it again with the same out and a larger budget to continue" in str(info.value)
    kept = len(next(out.glob("steps/bon-samples-*.tmp/samples.partial.jsonl")).read_text().splitlines())
    assert 0 < kept < len(PROMPTS)
    finished = run(rms, out, llm=spec, cache=True, cache_path=tmp_path / "calls.sqlite")
    assert finished["prompts"] == len(PROMPTS) and finished["sampling"]["resumed_prompts"] == kept
