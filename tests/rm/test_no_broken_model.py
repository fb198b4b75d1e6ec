"""Issue 24 §1: a training loss (or gradient, or the weights) that becomes NaN stops the run with
a clear error, and nothing is saved as if it were good; a full disk while saving a fine-tuned
model is one line naming the folder."""

from __future__ import annotations

import subprocess

import pytest
import torch

from preflab.errors import PreflabError
from preflab.rm.config import EmbedHeadConfig, TrainConfig


def _diverged():
    from preflab.errors import TrainingDiverged

    return TrainingDiverged


@pytest.mark.parametrize("clip", [1.0, 0.0])
def test_finetune_with_a_loss_that_becomes_nan_stops_and_saves_nothing(tiny_encoder, pairs, tmp_path, clip):
    from preflab.rm.trainer import train_reward_model

    out = tmp_path / "rm"
    cfg = TrainConfig(model=tiny_encoder, max_length=48, batch_size=4, lr=1e12, max_steps=6, max_grad_norm=clip,
                      warmup_ratio=0.0, output_dir=str(out), progress=False)
    with pytest.raises(_diverged()) as info:
        train_reward_model(pairs, cfg)
    assert "nothing was saved" in str(info.value) and "lower lr (now 1e+12)" in str(info.value)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_a_last_step_that_overflows_the_weights_is_caught_too(tiny_encoder, pairs, tmp_path):
    from preflab.rm.trainer import train_reward_model

    out = tmp_path / "rm"
    cfg = TrainConfig(model=tiny_encoder, max_length=48, batch_size=4, lr=1e38, max_steps=1, warmup_ratio=0.0,
                      max_grad_norm=0.0, output_dir=str(out), progress=False)
    with pytest.raises(_diverged(), match="after 1 steps"):
        train_reward_model(pairs, cfg)
    assert not out.exists()


def test_a_good_run_is_untouched_by_the_checks(tiny_encoder, pairs, tmp_path):
    from preflab.rm.trainer import train_reward_model

    cfg = TrainConfig(model=tiny_encoder, max_length=48, batch_size=4, lr=1e-3, max_steps=3,
                      output_dir=str(tmp_path / "rm"), progress=False)
    result = train_reward_model(pairs, cfg)
    assert (tmp_path / "rm" / "preflab_rm.json").exists() and result.output_dir == str(tmp_path / "rm")


def test_the_embedding_head_stops_on_a_nan_loss(pairs):
    from preflab.rm.embed_head import fit_head

    torch.manual_seed(0)
    fc, fr = torch.randn(len(pairs), 16), torch.randn(len(pairs), 16)
    with pytest.raises(_diverged(), match="training loss of the head became nan"):
        fit_head(fc, fr, pairs, EmbedHeadConfig(lr=1e30, epochs=50, hidden=8))
    head, epochs = fit_head(fc, fr, pairs, EmbedHeadConfig(epochs=5, hidden=8))
    assert epochs == 5


def test_train_rm_cheap_with_a_diverging_head_is_one_line_and_no_folder(tmp_path, monkeypatch):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1] / "io"))
    from safety_helpers import cli, write_pairs_file

    monkeypatch.chdir(tmp_path)
    write_pairs_file(tmp_path / "p.jsonl")
    result = cli("train-rm", "p.jsonl", "--cheap", "--lr", "1e30", "--epochs", "50", "--output-dir", "rm")
    assert result.code == 1 and result.output.strip().splitlines()[-1].startswith(
        "error: the training loss of the head became nan"), result.output
    assert not (tmp_path / "rm").exists()


def test_saving_a_finetuned_model_on_a_full_disk_is_one_line(tiny_encoder, pairs, tmp_path):
    """safetensors reports a full disk as its own error, not OSError."""
    from preflab.rm.trainer import train_reward_model

    full = tmp_path / "full"
    full.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(full)], capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        cfg = TrainConfig(model=tiny_encoder, max_length=48, batch_size=4, max_steps=1, output_dir=str(full / "rm"),
                          progress=False)
        with pytest.raises(PreflabError) as info:
            train_reward_model(pairs, cfg)
        assert str(info.value) == f"{full / 'rm'}: cannot write it: no space left on device; nothing was written there"
        assert list(full.iterdir()) == []
    finally:
        if subprocess.run(["umount", str(full)], capture_output=True).returncode:
            subprocess.run(["umount", "-l", str(full)], check=True)
