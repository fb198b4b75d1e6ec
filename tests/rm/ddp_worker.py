"""Run by tests/rm/test_integration.py under ``accelerate launch`` (and alone): trains the tiny
encoder given on the command line and writes its validation accuracy and rewards."""

import json
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from conftest import make_pairs  # noqa: E402

from preflab.rm.config import TrainConfig  # noqa: E402
from preflab.rm.trainer import train_reward_model  # noqa: E402

model, out, grad_accum = sys.argv[1], sys.argv[2], int(sys.argv[3])
torch.set_num_threads(1)
cfg = TrainConfig(model=model, max_length=64, batch_size=4, grad_accum=grad_accum, lr=1e-3, epochs=2, progress=False,
                  warmup_ratio=0.0, keep_best=False)  # compare the final models, not a best-epoch pick
res = train_reward_model(make_pairs(32, seed=1), cfg, val_pairs=make_pairs(16, seed=2))
if not torch.distributed.is_initialized() or torch.distributed.get_rank() == 0:
    from preflab.rm.scorer import RewardModelScorer, score_pairs

    rewards = score_pairs(RewardModelScorer(res.backbone, res.renderer), make_pairs(16, seed=2))
    with open(out, "w") as fh:
        json.dump({"val_accuracy": res.history[-1]["accuracy"], "val_rewards": rewards}, fh)
