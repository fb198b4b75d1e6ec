"""The RM trainer, the RM scorer and chunked scoring draw preflab's one bar
(:class:`preflab.progress.Bar`, on stderr) when asked to, and nothing when not."""

from __future__ import annotations

import pytest

from preflab.records import text_prompt


class LengthScorer:
    def score(self, prompt, responses):
        return [float(len(r)) for r in responses]


@pytest.mark.parametrize("enabled", [True, False])
def test_chunked_scoring_counts_responses_on_stderr(capsys, enabled):
    from preflab.rm.scoring import score_with_progress

    items = [(text_prompt("q"), "x" * i) for i in range(5)]
    rewards = score_with_progress(LengthScorer(), items, "Scoring test items", chunk=2, enabled=enabled)
    assert rewards == [0.0, 1.0, 2.0, 3.0, 4.0]
    err = capsys.readouterr().err
    assert ("Scoring test items" in err and "5/5" in err) if enabled else err == ""


@pytest.mark.parametrize("enabled", [True, False])
def test_trainer_and_scorer_bars_follow_progress(capsys, tiny_encoder, pairs, enabled):
    from preflab.rm.config import TrainConfig
    from preflab.rm.scorer import RewardModelScorer, score_pairs
    from preflab.rm.trainer import train_reward_model

    res = train_reward_model(pairs, TrainConfig(model=tiny_encoder, max_length=64, batch_size=4, max_steps=3,
                                                val_fraction=0.0, progress=enabled))
    score_pairs(RewardModelScorer(res.backbone, res.renderer, batch_size=16, progress=enabled), pairs)
    err = capsys.readouterr().err
    if enabled:
        assert "Training RM (" in err and "3/3" in err
        assert "Scoring with reward model" in err and "3/3" in err.split("Scoring with reward model", 1)[1]
    else:
        assert "Training RM" not in err and "Scoring with reward model" not in err
