"""``preflab bench``/``report``: rows, baselines, caching, partial reruns, resume after a kill,
config validation; the report rendered in real headless Chromium."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from preflab.pipelines.bench.config import load_bench_config
from preflab.errors import ConfigError

HERE = Path(__file__).parent
REPO = HERE.parents[1]
DATA = REPO / "src" / "preflab" / "data"
pytestmark = [pytest.mark.integration, pytest.mark.slow]


def config(tmp_path, **changes):
    cfg = {
        "name": "t", "llm": "varied", "seed": 0,
        "prompts": {"path": str(DATA / "example_prompts.txt")}, "budget_prompts": 6, "in_flight": 3,
        "methods": [{"name": "random-label"}, {"name": "rlcd"}, {"name": "rmboost", "options": {"max_retries": 0}}],
        "rm": {"recipe": "embed-head", "seeds": [0, 1], "options": {"epochs": 40}},
        "eval": [{"name": "check", "path": str(DATA / "quickstart_eval.jsonl")}],
        **changes,
    }
    path = tmp_path / f"bench{len(list(tmp_path.glob('bench*.yaml')))}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def run(*args, **kw):
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    return subprocess.run([sys.executable, str(HERE / "launcher.py"), *map(str, args)], capture_output=True, text=True, env=env, **kw)


@pytest.fixture(scope="module")
def first_run(tmp_path_factory):
    """One bench run of ``config`` and its report, shared: a test that reruns it works on a copy."""
    root = tmp_path_factory.mktemp("bench")
    run_dir = root / "run"
    first = run("bench", config(root), "-o", run_dir)
    assert first.returncode == 0, first.stderr
    page = run("report", run_dir)
    assert page.returncode == 0, page.stderr
    return root, run_dir


def test_bench_runs_caches_and_reruns_only_what_changed(first_run, tmp_path):
    root, shared = first_run
    run_dir = tmp_path / "run"
    shutil.copytree(shared, run_dir)
    (run_dir / "report.html").unlink()  # this test renders its own, after the reruns
    results = json.loads((run_dir / "results.json").read_text())
    assert set(results["table"]) == {"random-label", "rlcd", "rmboost"}
    for row in results["table"].values():
        cell = row["check"]
        assert cell["n"] == 30 and cell["seeds"] == 2 and cell["ci95"][0] <= cell["accuracy"] <= cell["ci95"][1]
        assert cell["length"]["n"] == 30 and set(cell["length"]) >= {"length_controlled", "length_agreement", "matched"}
    assert "longer-response-wins" in results["baselines"]
    for m in results["methods"].values():
        assert m["length"]["n"] == m["pairs"] and 0 <= m["length"]["share_chosen_longer"] <= 1
    assert "Length: accuracy with length controlled" in (run_dir / "results.md").read_text()
    assert results["methods"]["rlcd"]["pairs"] == 6 and results["methods"]["rlcd"]["tokens_out"] > 0
    assert "| row |" in (run_dir / "results.md").read_text()
    assert (run_dir / "results.png").read_bytes()[:4] == b"\x89PNG"
    ran_first = set(results["steps"]["ran"])

    again = run("bench", config(root), "-o", run_dir)
    assert again.returncode == 0, again.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert results["steps"]["ran"] == [] and set(results["steps"]["reused"]) == ran_first

    changed = config(tmp_path, methods=[{"name": "random-label"}, {"name": "rlcd", "options": {"max_tokens": 5}},
                                        {"name": "rmboost", "options": {"max_retries": 0}}])
    third = run("bench", changed, "-o", run_dir)
    assert third.returncode == 0, third.stderr
    ran = json.loads((run_dir / "results.json").read_text())["steps"]["ran"]
    assert sorted(s.split("-")[0] + "-" + s.split("-")[1] if s.startswith("generate") else s.split("-")[0] for s in ran) == \
        ["generate-rlcd", "rm", "rm"]

    page = run("report", run_dir)
    assert page.returncode == 0, page.stderr
    text = (run_dir / "report.html").read_text()
    assert "data:image/png;base64," in text
    rows = json.loads(text.split('<script type="application/json" id="pb-data">')[1].split("</script>")[0])
    methods = json.loads((run_dir / "results.json").read_text())["methods"]
    assert {k: sum(r["m"] == k for r in rows) for k in methods} == \
        {k: m["pairs"] + sum(m["failures"].values()) for k, m in methods.items()}  # every pair and failure
    assert 'id="length"' in text and 'alt="accuracy against the length ratio"' in text
    assert (run_dir / "length.png").read_bytes()[:4] == b"\x89PNG"
    assert "http://" not in text and "https://" not in text  # self-contained


def test_killed_bench_resumes_without_redoing_finished_steps(tmp_path):
    run_dir = tmp_path / "run"
    cfg = config(tmp_path, llm="varied#delay=0.15")
    proc = subprocess.Popen([sys.executable, str(HERE / "launcher.py"), "bench", str(cfg), "-o", str(run_dir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    steps = run_dir / "steps"
    deadline = time.time() + 120
    while time.time() < deadline:  # wait until the first method is done and the second has started
        done = [p for p in steps.glob("generate-*") if not p.name.endswith(".tmp")] if steps.exists() else []
        partial = list(steps.glob("generate-*.tmp/pairs.jsonl.partial.jsonl")) if steps.exists() else []
        if done and partial and partial[0].read_text().count("\n") >= 4:  # the header and 3 finished prompts
            break
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished_before = {p.name for p in steps.iterdir() if not p.name.endswith(".tmp")}
    assert any(n.startswith("generate-random-label") for n in finished_before)
    assert not (run_dir / "results.json").exists()
    result = run("bench", cfg, "-o", run_dir)
    assert result.returncode == 0, result.stderr
    results = json.loads((run_dir / "results.json").read_text())
    assert finished_before <= set(results["steps"]["reused"])
    assert not set(results["steps"]["ran"]) & finished_before
    gen = [p for p in steps.iterdir() if p.name.startswith("generate-rlcd")][0]
    run_json = json.loads((gen / "pairs.jsonl.run.json").read_text())
    assert run_json["resumed_prompts"] >= 3  # the killed method picked up where it stopped


def test_config_errors_are_reported_together(tmp_path):
    bad = {"name": "x", "prompts": {"path": "nope.txt"}, "budget_prompts": 0,
           "methods": [{"name": "rmbost"}, {"name": "west-of-n", "options": {"n": "many"}}],
           "eval": [{"name": "e", "path": "missing.jsonl"}], "colour": 1,
           "rm": {"recipe": "embed-head", "options": {"epochz": 3}}}
    with pytest.raises(ConfigError) as info:
        load_bench_config(data=bad)
    msg = str(info.value)
    assert "colour" in msg and "budget_prompts" in msg
    assert "unknown method 'rmbost'" in msg and "epochz" in msg  # one round: the schema problems do not hide these
    ok_shape = {**bad, "budget_prompts": 2}
    ok_shape.pop("colour")
    with pytest.raises(ConfigError) as info:
        load_bench_config(data=ok_shape)
    msg = str(info.value)
    assert "unknown method 'rmbost'" in msg and "methods.1.options" in msg and "nope.txt does not exist" in msg
    assert "rm.options (embed-head recipe): epochz: unknown option of the embed-head recipe" in msg


def test_example_configs_validate():
    examples = sorted((REPO / "examples").glob("*.yaml"))
    assert {p.name for p in examples} >= {"hh_harmless_west_of_n.yaml", "openai_endpoint.yaml"}
    if not (REPO.parent / "shared" / "data").is_dir():
        pytest.skip("the examples read ../shared/data")
    for path in examples:
        cfg, _ = load_bench_config(path)
        assert cfg.methods and cfg.eval


@pytest.mark.skipif(shutil.which("chromium") is None, reason="Debian chromium is not installed (scripts/test.sh installs it)")
def test_report_renders_in_headless_chromium(first_run, tmp_path):
    run_dir = first_run[1]
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(["chromium", *flags, "--dump-dom", (run_dir / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    table = dom.stdout.split('<table id="results">')[1].split("</table>")[0]
    assert [row.split("</td>")[0] for row in table.split("<td>")[1:] if row.split("</td>")[0] in
            ("rlcd", "null: longer-response-wins")] == ["rlcd", "null: longer-response-wins"]
    browser = dom.stdout.split('<tbody id="pb-rows">')[1].split("</tbody>")[0]  # built by the page's script
    assert browser.count("<tr") == sum(m["pairs"] + sum(m["failures"].values()) for m in
                                       json.loads((run_dir / "results.json").read_text())["methods"].values()) > 0
    subprocess.run(["chromium", *flags, f"--screenshot={shot}", "--window-size=1200,1600", (run_dir / "report.html").as_uri()],
                   capture_output=True, timeout=120)
    data = shot.read_bytes()
    assert data[:4] == b"\x89PNG" and len(data) > 20_000


def test_quickstart_command_path(tmp_path):
    """The quickstart's own config and flow (a fast scripted LLM stands in for SmolLM2 and the
    human sets are cut to 20 pairs here; the real run is timed in benchmarks/README.md)."""
    result = run("quickstart", "--llm", "varied", "--budget", "3", "--eval-limit", "20", "--base-limit", "20",
                 "--out", tmp_path / "qs")
    assert result.returncode == 0, result.stderr
    results = json.loads((tmp_path / "qs" / "results.json").read_text())
    assert set(results["table"]) == {"base-only", "base+rmboost", "base+rlcd"}
    assert results["eval_sets"] == {"hh-harmless": 20, "preflab-check": 20}
    assert results["table"]["base-only"]["_train_pairs"] == 20
    assert {"delta", "ci95"} <= set(results["table"]["base+rlcd"]["hh-harmless"]["vs_base"])
    assert (tmp_path / "qs" / "report.html").exists()
    assert "report:" in result.stdout and "difference from base-only" in result.stdout


def test_cost_cell_shows_tokens_served_from_the_cache():
    from preflab.report.tables import tokens_cell

    assert tokens_cell({"tokens_in": 10, "tokens_out": 5}) == "10 / 5"  # run folders from before the field
    assert tokens_cell({"tokens_in": 0, "tokens_out": 0, "tokens_cached": 900}) == "0 / 0 (+900 from cache)"


def test_rows_are_compared_with_base_only_on_the_same_pairs():
    import numpy as np

    from preflab.pipelines.bench.run import summarise
    from preflab.report.tables import difference_rows, results_markdown
    from preflab.evaluation import paired_difference

    rng = np.random.default_rng(0)
    base = [rng.integers(0, 2, 400).astype(float) for _ in range(2)]
    better = [np.maximum(b, (rng.random(400) < 0.08).astype(float)) for b in base]  # base's answers, some fixed
    d = paired_difference(better, base)
    assert d["delta"] > 0 and d["ci95"][0] > 0  # paired: the gain is clear ...
    unpaired = summarise([{"eval": {"e": {"correct": list(r)}}} for r in better], "e")
    base_cell = summarise([{"eval": {"e": {"correct": list(r)}}} for r in base], "e")
    assert unpaired["ci95"][0] < base_cell["ci95"][1]  # ... though the two unpaired intervals overlap
    results = {"name": "t", "eval_sets": {"e": 400}, "baselines": {}, "methods": {},
               "table": {"base-only": {"e": base_cell, "_train_pairs": 10},
                         "base+m": {"e": {**unpaired, "vs_base": d}, "_train_pairs": 20}}}
    header, body = difference_rows(results)
    assert header == ["row", "Δ e"] and body[0][0] == "base+m" and body[0][1].endswith("*")
    assert "Difference from base-only" in results_markdown(results)
