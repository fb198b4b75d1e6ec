"""The Ray executor against the local one, on a real single-node Ray (``ray_cluster``): the same
bytes for ``generate`` (fake and llama.cpp), the same scores and strengths, a killed actor, and
settings that cannot work refused before any work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from preflab.executor import ClusterResourcesError, ClusterUnreachableError, Executor
from preflab.llm.on_executor import open_llm_on

sys.path.insert(0, str(Path(__file__).parents[1]))
from servers import RunInThread, free_port  # noqa: E402

runner = CliRunner()
FAKE = "fake#seeded=true&delay=0.01&concurrency=2"


def _app():
    from preflab.cli.main import app

    return app


def _prompts(tmp_path: Path, n: int, extra: str = "") -> Path:
    path = tmp_path / "prompts.txt"
    path.write_text("".join(f"Name a colour and a fruit, number {i}.\n" for i in range(n)) + extra)
    return path


def _generate(prompts: Path, out: Path, llm: str, executor: str, *extra: str):
    result = runner.invoke(_app(), ["generate", "rlcd", "--prompts", str(prompts), "--out", str(out), "--llm", llm,
                                    "--no-cache", "--executor", executor, "--ray-actors", "2", *extra])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == 0, result.output
    return out


def _same_outputs(a: Path, b: Path) -> None:
    for suffix in ("", ".failures.jsonl"):
        assert Path(f"{a}{suffix}").read_bytes() == Path(f"{b}{suffix}").read_bytes(), suffix


# -- settings that cannot work: refused before any work ------------------------------------------
@pytest.mark.slow
def test_unreachable_address_is_one_line_naming_it(tmp_path):
    port = free_port()  # nothing listens there
    out = tmp_path / "pairs.jsonl"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "preflab", "generate", "rlcd", "--prompts", str(_prompts(tmp_path, 2)),
                             "--out", str(out), "--llm", FAKE, "--no-cache", "--executor", "ray",
                             "--ray-address", f"127.0.0.1:{port}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines[-1].startswith("error: cannot reach a Ray cluster at 127.0.0.1:") and f":{port}" in lines[-1]
    assert "Traceback" not in result.stderr and time.monotonic() - started < 60
    assert not out.exists() and not Path(f"{out}.partial.jsonl").exists()


def test_zero_actors_is_refused_before_ray_starts(tmp_path):
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(_app(), ["generate", "rlcd", "--prompts", str(_prompts(tmp_path, 2)), "--out", str(out),
                                    "--llm", FAKE, "--executor", "ray", "--ray-actors", "0"])
    from preflab.cli.adapter import render

    assert "--ray-actors must be at least 1, got 0" in render(result.exception)
    assert not out.exists() and not Path(f"{out}.partial.jsonl").exists()


def test_more_gpus_than_the_cluster_has(ray_cluster, tmp_path):
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(_app(), ["generate", "rlcd", "--prompts", str(_prompts(tmp_path, 2)), "--out", str(out),
                                    "--llm", FAKE, "--executor", "ray", "--ray-gpus-per-actor", "1"])
    assert isinstance(result.exception, ClusterResourcesError)
    assert "--ray-gpus-per-actor 1 is more than any node" in str(result.exception)
    assert "\n" not in str(result.exception)
    assert not out.exists() and not Path(f"{out}.partial.jsonl").exists()
    with pytest.raises(ClusterResourcesError, match="needs 3 CPUs"):
        open_llm_on(Executor("ray", actors=3), FAKE, cache=False)


def test_unreachable_address_with_ray_running(ray_cluster):
    with pytest.raises(ClusterUnreachableError, match=r"cannot reach a Ray cluster at 127\.0\.0\.1:"):
        open_llm_on(Executor("ray", address=f"127.0.0.1:{free_port()}"), FAKE, cache=False)


# -- same outputs as local -------------------------------------------------------------------------
def test_generate_fake_is_byte_identical_to_local(ray_cluster, tmp_path):
    prompts = tmp_path / "prompts.txt"  # answers grow with the prompt: the longer ones are cut (failures)
    prompts.write_text("".join(f"Name a colour{' please' * i}.\n" for i in range(10)))
    local = _generate(prompts, tmp_path / "local.jsonl", FAKE, "local", "--max-tokens", "14")
    ray = _generate(prompts, tmp_path / "ray.jsonl", FAKE, "ray", "--max-tokens", "14")
    _same_outputs(local, ray)
    failures = Path(f"{local}.failures.jsonl").read_text().splitlines()
    assert len(local.read_text().splitlines()) + len(failures) == 10 and len(failures) >= 3
    run = json.loads(Path(f"{ray}.run.json").read_text())
    assert run["executor"]["kind"] == "ray" and run["generator"]["batching"]["actors"] == 2


@pytest.mark.slow
def test_generate_llamacpp_is_byte_identical_to_local(ray_cluster, smollm2_gguf, tmp_path):
    prompts = _prompts(tmp_path, 3)
    opts = ("--max-tokens", "8", "--temperature", "0.9", "--keep-truncated")
    llm = "llamacpp#n_ctx=512&batch=4"
    local = _generate(prompts, tmp_path / "local.jsonl", llm, "local", *opts)
    ray = _generate(prompts, tmp_path / "ray.jsonl", llm, "ray", *opts)
    _same_outputs(local, ray)
    assert len(local.read_text().splitlines()) == 3


# -- faults ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_killed_actor_is_restarted_and_the_run_completes(ray_cluster, tmp_path):
    from preflab.pipelines.generation import run_generation
    from preflab.llm.cache import CallCache
    from preflab.methods import methods

    method = methods()["rlcd"]
    cfg = method.config()
    prompts = _prompts(tmp_path, 16)
    spec = "fake#seeded=true&delay=0.15&concurrency=2"
    reference = tmp_path / "local.jsonl"
    with open_llm_on(Executor(), spec, cache=False) as llm:
        run_generation(prompts, reference, method, cfg, llm, in_flight=4)
    out = tmp_path / "ray.jsonl"
    cache = CallCache(tmp_path / "calls.sqlite3")
    with open_llm_on(Executor("ray", actors=2), spec, cache=cache) as llm:
        victim = llm.backend.pool.pids()[0]
        # actors run at the driver's priority (Ray's default, niceness 15, starved them under load)
        assert os.getpriority(os.PRIO_PROCESS, victim) == os.getpriority(os.PRIO_PROCESS, 0)
        run = RunInThread(out, prompts, method=method, cfg=cfg, llm=llm, in_flight=4)
        run.wait_for(3)
        os.kill(victim, signal.SIGKILL)
        r = run.join()
        pids = llm.backend.pool.pids()
        usage = llm.usage.summary()["total"]
        entries = cache.stats()["entries"]
    assert victim not in pids  # restarted: a new process
    assert r.counts["prompts"] == 16 and r.counts["pairs"] == 16 and "duplicate_dropped" not in r.counts
    _same_outputs(reference, out)
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert len(set(ids)) == 16
    # every sample was paid once: 2 calls per prompt reached the driver, each cached once
    assert usage["calls"] == 32 and usage["cached_calls"] == 0
    assert entries == 32


# -- scoring and strength --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def embed_head_model(tmp_path_factory):
    pytest.importorskip("torch")
    from preflab.rm.recipes import train_scorer

    sys.path.insert(0, str(Path(__file__).parents[1] / "rm"))
    from conftest import make_pairs  # noqa: E402  (tests/rm/conftest.py)

    folder = tmp_path_factory.mktemp("rm") / "head"
    train_scorer(make_pairs(40, seed=1), {"recipe": "embed-head", "epochs": 5, "max_length": 64}, 0, output_dir=folder)
    return folder, make_pairs


@pytest.mark.slow
def test_score_200_pairs_matches_local(ray_cluster, embed_head_model, tmp_path):
    from preflab import io

    folder, make_pairs = embed_head_model
    pairs_file = tmp_path / "pairs.jsonl"
    io.write_pairs(make_pairs(200, seed=7), pairs_file)
    scores = {}
    for executor in ("local", "ray"):
        out = tmp_path / f"{executor}.jsonl"
        result = runner.invoke(_app(), ["score", str(folder), str(pairs_file), "-o", str(out), "--executor", executor,
                                        "--ray-actors", "2"])
        assert result.exit_code == 0, result.output
        scores[executor] = np.array([[p.chosen_score, p.rejected_score] for p in io.read_pairs(out)])
    assert scores["ray"].shape == (200, 2)
    np.testing.assert_allclose(scores["ray"], scores["local"], atol=1e-5, rtol=0)


@pytest.mark.slow
def test_strength_members_in_parallel_match_local(ray_cluster, embed_head_model):
    from preflab.pipelines.strength import compute_strength
    from preflab.quality.strength import StrengthConfig

    _, make_pairs = embed_head_model
    pairs = make_pairs(30, seed=3)
    cfg = StrengthConfig(mode="bootstrap", recipe="embed-head", members=2, head_epochs=20, max_length=64, min_oob=1)
    local = compute_strength(pairs, cfg)
    ray = compute_strength(pairs, cfg, executor=Executor("ray", actors=2))
    np.testing.assert_allclose(ray.diffs, local.diffs, atol=1e-5, rtol=0, equal_nan=True)
    assert [p.model_dump() for p in ray.pairs][0]["provenance"]["strength"]["members"] == 2
