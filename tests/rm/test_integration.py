"""Real MiniLM on a few dozen short real pairs, the cheap embedding head on real data, and a
2-process data-parallel run under ``accelerate launch``."""

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from preflab.io import read_pairs, split_pairs
from preflab.rm import EmbedHeadConfig, TrainConfig, load_scorer, score_pairs, train_embed_head, train_reward_model

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def hh_short(shared_data):
    pairs = read_pairs(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf")
    short = (p for p in pairs if sum(len(m.content) for m in p.prompt) + len(p.chosen) + len(p.rejected) < 600)
    return list(itertools.islice(short, 48))


def test_minilm_trains_saves_and_reloads(hh_short, tmp_path):
    before = None
    out = tmp_path / "rm"
    cfg = TrainConfig(model="minilm", max_length=128, batch_size=8, lr=1e-4, epochs=1, progress=False,
                      output_dir=str(out), log_every=1)
    res = train_reward_model(hh_short[:32], cfg, val_pairs=hh_short[32:], metrics_path=tmp_path / "m.jsonl")
    from preflab.rm.backbone import load_backbone

    torch.manual_seed(0)
    before = load_backbone("minilm").model.state_dict()
    after = res.backbone.model.state_dict()
    assert not torch.equal(before["bert.encoder.layer.0.attention.self.query.weight"],
                           after["bert.encoder.layer.0.attention.self.query.weight"])
    rows = [json.loads(line) for line in (tmp_path / "m.jsonl").read_text().splitlines()]
    assert all(math.isfinite(r["loss"]) for r in rows if "loss" in r)
    reloaded = score_pairs(load_scorer(str(out)), hh_short[32:])
    from preflab.rm import RewardModelScorer

    original = score_pairs(RewardModelScorer(res.backbone, res.renderer), hh_short[32:])
    assert torch.allclose(torch.tensor(original), torch.tensor(reloaded), atol=1e-5)


def test_cheap_head_trains_in_seconds_and_caches(shared_data, tmp_path):
    pairs = list(itertools.islice(read_pairs(shared_data / "hh_rlhf_harmless_base_test.jsonl.gz", "hh-rlhf"), 240))
    train, test = split_pairs(pairs, 0.25, 0)
    cfg = EmbedHeadConfig(model="minilm", cache_dir=str(tmp_path / "cache"), epochs=100)
    scorer = train_embed_head(train, cfg)
    assert scorer.cache.misses > 0
    import time

    start = time.perf_counter()
    again = train_embed_head(train, cfg, cache=scorer.cache)
    assert time.perf_counter() - start < 60  # head only: embeddings come from the cache
    assert again.cache.misses == scorer.cache.misses  # nothing re-embedded
    rewards = score_pairs(again, test)
    assert all(math.isfinite(c) and math.isfinite(r) for c, r in rewards)
    again.save(tmp_path / "head")
    reloaded = score_pairs(load_scorer(str(tmp_path / "head")), test[:5])
    assert torch.allclose(torch.tensor(reloaded), torch.tensor(rewards[:5]), atol=1e-5)


def test_two_process_data_parallel_matches_one_process(tiny_encoder, tmp_path):
    worker = str(Path(__file__).with_name("ddp_worker.py"))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    one = tmp_path / "one.json"
    subprocess.run([sys.executable, worker, tiny_encoder, str(one), "2"], check=True, env=env, timeout=300)
    two = tmp_path / "two.json"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2", "--num_machines", "1",
               "--mixed_precision", "no", "--dynamo_backend", "no", worker, tiny_encoder, str(two), "1"]
    proc = subprocess.run(launch, env=env, timeout=300, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    a, b = json.loads(one.read_text()), json.loads(two.read_text())
    # 2 processes × 1 micro-batch = 1 process × 2 accumulated micro-batches: the same updates up
    # to float summation order (which Adam amplifies for near-zero gradients), so the two
    # models must agree on validation accuracy within one pair and score almost identically
    assert abs(a["val_accuracy"] - b["val_accuracy"]) <= 1 / 16
    ra, rb = torch.tensor(a["val_rewards"]).flatten(), torch.tensor(b["val_rewards"]).flatten()
    assert torch.corrcoef(torch.stack([ra, rb]))[0, 1] > 0.98
