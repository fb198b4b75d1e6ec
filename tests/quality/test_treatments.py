"""Label repair from preference strength."""

import json
import subprocess
import sys

import numpy as np
import pytest

from preflab.errors import ConfigError, InputError
from preflab.io import read_pairs, write_pairs
from preflab.quality.treatments import CleanConfig, clean_pairs, flip
from preflab.records import PreferencePair, text_prompt


def pairs_with(mus):
    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=f"c{i}", rejected=f"r{i}", chosen_score=1.0,
                           rejected_score=0.0, strength_mean=m, strength_std=0.5) for i, m in enumerate(mus)]


def test_flip_lowest_fraction_negates_mu_and_keeps_id():
    mus = [-3.0, -1.0, 0.2, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0]
    out, summary = clean_pairs(pairs_with(mus), CleanConfig(flip_fraction=0.2))
    flipped = [p for p in out if p.flipped]
    assert [p.chosen for p in flipped] == ["r0", "r1"]
    assert [p.strength_mean for p in flipped] == [3.0, 1.0]
    assert [(p.chosen_score, p.rejected_score) for p in flipped] == [(0.0, 1.0)] * 2
    assert summary["flipped"] == 2 and summary["flip_mu_cut"] == -1.0 and summary["mu_below_zero"] == 2
    assert [p.id for p in out] == [p.id for p in pairs_with(mus)]


def test_flip_twice_restores_the_pair():
    (p,) = pairs_with([-1.0])
    again = flip(flip(p))
    assert (again.chosen, again.rejected, again.strength_mean, again.flipped) == (p.chosen, p.rejected, -1.0, False)


def test_flip_below_threshold_then_margin_uses_minus_mu():
    out, _ = clean_pairs(pairs_with([-2.0, 0.5, 1.0]), CleanConfig(flip_below=0.0, margin=True))
    assert [p.margin for p in out] == [2.0, 0.5, 1.0]


def test_margin_clipping_and_scale():
    out, _ = clean_pairs(pairs_with([-2.0, 0.5]), CleanConfig(margin=True, margin_scale=2.0))
    assert [p.margin for p in out] == [0.0, 1.0]
    out, _ = clean_pairs(pairs_with([-2.0, 0.5]), CleanConfig(margin=True, margin_clip=False))
    assert [p.margin for p in out] == [-2.0, 0.5]


def test_drop_ambiguous_and_smooth_low_mu():
    out, summary = clean_pairs(pairs_with([-0.05, 0.02, -2.0, 1.0, 3.0]),
                               CleanConfig(drop_below=0.1, smooth_alpha=0.1, smooth_below=1.5))
    assert [p.chosen for p in out] == ["c2", "c3", "c4"]
    assert [p.smoothing for p in out] == [0.1, 0.1, None]
    assert summary["dropped"] == 2 and summary["smoothed"] == 2


def test_smoothing_everything_when_no_selection():
    out, _ = clean_pairs(pairs_with([1.0, 2.0]), CleanConfig(smooth_alpha=0.2))
    assert [p.smoothing for p in out] == [0.2, 0.2]


@pytest.mark.parametrize("cfg", [
    CleanConfig(flip_fraction=1.5), CleanConfig(flip_fraction=0.1, flip_below=0.0),
    CleanConfig(smooth_fraction=0.1), CleanConfig(smooth_alpha=0.9), CleanConfig(drop_below=-1.0),
    CleanConfig(), CleanConfig(balance_length="trim"),
])
def test_bad_configs_are_refused(cfg):
    with pytest.raises(ConfigError):
        clean_pairs(pairs_with([1.0]), cfg)


def test_missing_strength_is_a_clear_error():
    pair = PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b")
    with pytest.raises(InputError, match="preflab strength"):
        clean_pairs([pair], CleanConfig(margin=True))


def test_cli_clean_with_config_file_and_flag_precedence(tmp_path):
    src = tmp_path / "pairs.parquet"
    write_pairs(pairs_with(list(np.linspace(-2, 2, 10))), src)
    cfg = tmp_path / "clean.yaml"
    cfg.write_text("flip_fraction: 0.1\nmargin: true\nmargin_scale: 3\n")
    out = tmp_path / "clean.jsonl"
    result = subprocess.run([sys.executable, "-m", "preflab", "clean", str(src), str(out), "--config", str(cfg),
                             "--margin-scale", "1"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    cleaned = list(read_pairs(out))
    assert sum(p.flipped for p in cleaned) == 1
    assert max(p.margin for p in cleaned) == pytest.approx(2.0)  # the flag beat the file's scale 3
    run = json.loads((tmp_path / "clean.jsonl.run.json").read_text())
    assert run["config"]["margin_scale"] == 1.0 and run["counts"]["flipped"] == 1
    assert len(run["inputs"]["pairs"]["fingerprint"]) == 16
    cfg.write_text("flip_fraction: 0.1\nflip_typo: 3\nmargin_scale: many\n")
    bad = subprocess.run([sys.executable, "-m", "preflab", "clean", str(src), str(tmp_path / "x.jsonl"), "--config", str(cfg)],
                         capture_output=True, text=True)
    assert bad.returncode == 2
    assert "unknown option 'flip_typo'" in bad.stderr and "--margin-scale: 'many'" in bad.stderr  # every problem at once


@pytest.mark.integration
def test_cheap_recipe_uses_the_smoothing_column():
    """A smoothed pair pulls the head towards Δ = 0 instead of pushing Δ up without bound."""
    from preflab.rm.embed_head import EmbedHeadConfig, train_embed_head
    from preflab.rm.scorer import score_pairs

    data = pairs_with([1.0] * 6)
    sharp = train_embed_head(data, EmbedHeadConfig(epochs=150, seed=0))
    smooth = train_embed_head([p.model_copy(update={"smoothing": 0.5}) for p in data], EmbedHeadConfig(epochs=150, seed=0))
    gap = lambda s: float(np.mean([c - r for c, r in score_pairs(s, data)]))  # noqa: E731
    assert gap(sharp) > 2.0 and abs(gap(smooth)) < 0.5


def test_cli_clean_balance_length_needs_no_strength(tmp_path):
    src = tmp_path / "pairs.jsonl"
    lengths = [(3, 1)] * 6 + [(1, 3)] * 2 + [(2, 2)]
    write_pairs([PreferencePair(prompt=text_prompt(f"q{i}"), chosen=" ".join(["a"] * c), rejected=" ".join(["b"] * r))
                 for i, (c, r) in enumerate(lengths)], src)
    out = tmp_path / "balanced.jsonl"
    result = subprocess.run([sys.executable, "-m", "preflab", "clean", str(src), str(out), "--balance-length", "drop",
                             "--seed", "1"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    kept = list(read_pairs(out))
    assert len(kept) == 5 and sum(len(p.chosen) > len(p.rejected) for p in kept) == 2
    counts = json.loads((tmp_path / "balanced.jsonl.run.json").read_text())["counts"]
    assert counts["dropped"] == 4 and counts["length_balance"]["share_chosen_longer_before"] == 0.75
    assert counts["length_balance"]["share_chosen_longer_after"] == 0.5
