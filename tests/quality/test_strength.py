"""Preference strength: ensemble arithmetic, bootstrap out-of-bag scoring, real MiniLM heads."""

import json
import subprocess
import sys

import numpy as np
import pytest

import preflab
from preflab.errors import ConfigError
from preflab.io import read_pairs, write_pairs
from preflab.pipelines.strength import Trunk, compute_strength
from preflab.quality.strength import StrengthConfig
from preflab.quality.strength_stats import sigma_by_mu_bins
from preflab.records import PreferencePair, text_prompt


class OffsetScorer:
    """Reward = len(response) + a member-specific offset on the chosen side's first letter."""

    def __init__(self, bias):
        self.bias = bias

    def score(self, prompt, responses):
        return [len(r) + (self.bias if r.startswith("c") else 0.0) for r in responses]


def pairs(n=12):
    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen="c" * (i + 1), rejected="r" * 5) for i in range(n)]


def test_seeds_mode_mean_and_population_std():
    seen_seeds = []

    def trainer(train_pairs, seed):
        seen_seeds.append(seed)
        return OffsetScorer(float(seed))
    result = compute_strength(pairs(), StrengthConfig(mode="seeds", members=3, seed=10), trainer=trainer)
    assert seen_seeds == [10, 11, 12]
    first = result.pairs[0]  # len 1 vs 5: d = -4 + {10, 11, 12}
    assert first.strength_mean == pytest.approx(7.0)
    assert first.strength_std == pytest.approx(np.std([6.0, 7.0, 8.0]))  # population std
    assert first.provenance["strength"]["diffs"] == [6.0, 7.0, 8.0]
    assert result.info["mu_below_zero"] == 0


def test_bootstrap_scores_out_of_bag_where_possible():
    trained_on = []

    def trainer(train_pairs, seed):
        trained_on.append({p.id for p in train_pairs})
        return OffsetScorer(0.0)
    data = pairs(30)
    result = compute_strength(data, StrengthConfig(mode="bootstrap", members=8, min_oob=2), trainer=trainer)
    for i, pair in enumerate(data):
        diffs = result.pairs[i].provenance["strength"]["diffs"]
        out_of_bag = [m for m, seen in enumerate(trained_on) if pair.id not in seen]
        if len(out_of_bag) >= 2:
            assert [m for m, d in enumerate(diffs) if d is not None] == out_of_bag
        else:
            assert all(d is not None for d in diffs)
    assert result.info["out_of_bag_pairs"] > 0


def test_heads_mode_builds_the_trunk_once_and_trains_m_seeded_heads():
    import torch

    calls = []
    gen = torch.Generator().manual_seed(0)
    fc, fr = torch.randn(200, 6, generator=gen), torch.randn(200, 6, generator=gen)
    fc[:, 0] += 3.0  # the chosen side is higher on feature 0 for every pair ...
    fc[:5, 0] -= 6.0  # ... except the first five, which look mislabelled

    def features(train_pairs):
        calls.append(len(train_pairs))
        return Trunk(fc, fr)  # a frozen trunk: no RM of its own, nothing to calibrate to
    cfg = StrengthConfig(mode="heads", members=4, head_epochs=150, seed=3)
    result = compute_strength(pairs(200), cfg, features=features)
    assert calls == [200]  # one trunk, whatever M is
    diffs = np.array([p.provenance["strength"]["diffs"] for p in result.pairs])
    assert diffs.shape == (200, 4) and len({tuple(np.round(diffs[:, m], 6)) for m in range(4)}) == 4  # seeded heads differ
    mu = np.array([p.strength_mean for p in result.pairs])
    assert mu[:5].mean() < np.percentile(mu[5:], 5) and (mu[5:] > 0).mean() > 0.9  # the suspects stand out
    assert result.info["trunk_seconds"] >= 0 and len(result.info["member_seconds"]) == 4
    assert result.pairs[0].provenance["strength"]["recipe"] == "finetune"


def test_bad_config():
    with pytest.raises(ConfigError):
        compute_strength(pairs(), StrengthConfig(members=1))


def test_bad_member_recipe_options_are_reported_with_the_rest():
    with pytest.raises(ConfigError) as err:
        preflab.strength(pairs(), members=1, lr=-1.0, head_epochs=0, mode="heads")
    assert all(part in str(err.value) for part in ("members must be at least 2", "lr must be > 0", "epochs must be > 0"))


def _trunk_data(n=300, seed=0):
    """Features where the label is only partly predictable, and a linear 'trunk RM' on them."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    fc, fr = torch.randn(n, 6, generator=gen), torch.randn(n, 6, generator=gen)
    fc[:, 0] += 1.0
    delta = 1.5 * (fc[:, 0] - fr[:, 0]).double().numpy()
    return fc, fr, delta


def test_heads_are_calibrated_to_the_trunk_rm():
    fc, fr, delta = _trunk_data()
    data = pairs(300)
    cfg = StrengthConfig(mode="heads", members=3, head_epochs=400, seed=1)
    calibrated = compute_strength(data, cfg, features=lambda p: Trunk(fc, fr, delta))
    raw = compute_strength(data, StrengthConfig(mode="heads", members=3, head_epochs=400, seed=1, calibrate=False),
                           features=lambda p: Trunk(fc, fr, delta))
    info = calibrated.info
    assert all(e < 400 for e in info["head_epochs"]) and raw.info["head_epochs"] == [400] * 3
    assert "calibration" in info and "calibration" not in raw.info
    rms = np.sqrt(np.mean(calibrated.diffs ** 2, axis=0))
    assert rms == pytest.approx([np.sqrt(np.mean(delta ** 2))] * 3)  # every head on the trunk's scale
    share = {name: (np.array([p.strength_mean for p in r.pairs]) < 0).mean() for name, r in (("cal", calibrated), ("raw", raw))}
    trunk_share = (delta < 0).mean()
    assert abs(share["cal"] - trunk_share) < abs(share["raw"] - trunk_share)


class ScaledScorer:
    """Reward = k · len(response): members that agree on every ranking, on different scales."""

    def __init__(self, k):
        self.k = k

    def score(self, prompt, responses):
        return [self.k * len(r) for r in responses]


def test_bootstrap_members_are_put_on_one_rms_scale():
    data = pairs(40)
    result = compute_strength(data, StrengthConfig(mode="bootstrap", members=5, seed=2),
                              trainer=lambda train, seed: ScaledScorer(float(seed + len({p.id for p in train}))))
    reference = np.array([42.0 * ((i + 1) - 5) for i in range(40)])  # seed 2 on all 40 pairs: k = 42
    mu = np.array([p.strength_mean for p in result.pairs])
    assert mu == pytest.approx(reference)
    assert max(p.strength_std for p in result.pairs) == pytest.approx(0.0, abs=1e-9)
    assert len(result.info["calibration"]["scale_factors"]) == 5 and result.info["reference_seconds"] >= 0


def test_sigma_bins_cover_all_pairs():
    mu, sigma = np.linspace(-1, 1, 100), np.abs(np.linspace(-1, 1, 100))
    bins = sigma_by_mu_bins(mu, sigma, 20)
    assert len(bins) == 20 and sum(b["pairs"] for b in bins) == 100
    assert bins[0]["sigma_mean"] > bins[10]["sigma_mean"] < bins[-1]["sigma_mean"]


@pytest.mark.integration
@pytest.mark.slow
def test_cli_heads_mode_on_real_pandalm_subset(shared_data, tmp_path):
    """Heads on a fine-tuned MiniLM trunk (the default recipe), end to end through the CLI."""
    src = tmp_path / "pandalm.jsonl"
    write_pairs(list(read_pairs(shared_data / "pandalm_testset_v1.json"))[:40], src)
    out = tmp_path / "strength.jsonl"
    result = subprocess.run([sys.executable, "-m", "preflab", "strength", str(src), str(out), "--mode", "heads",
                             "--members", "3", "--head-epochs", "50", "--max-length", "128"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    scored = list(read_pairs(out))
    assert len(scored) == 40 and all(p.strength_std is not None for p in scored)
    assert len({round(p.strength_mean, 6) for p in scored}) > 20  # real, pair-specific values
    run = json.loads((tmp_path / "strength.jsonl.run.json").read_text())
    assert len(run["sigma_by_mu"]) == 20 and run["counts"]["pairs"] == 40
    for png in run["plots"]:
        assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n"
