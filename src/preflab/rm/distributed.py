"""Data parallel across processes started by ``accelerate launch`` (or torchrun).

Why not DDP's wrapper: preflab's forward calls the backbone's sub-modules directly (prefix
sharing, own pooling), which DDP's forward hooks would not see. Each process computes
gradients on its own micro-batches with the loss already divided by the GLOBAL step weight,
then gradients are summed with one all-reduce per parameter: the same update as one process
running all the micro-batches.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import torch

log = logging.getLogger(__name__)


@dataclass
class Dist:
    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def all_sum(self, value: float) -> float:
        if self.world == 1:
            return value
        t = torch.tensor([value], dtype=torch.float64)
        torch.distributed.all_reduce(t)
        return float(t[0])

    def sum_gradients(self, params) -> None:
        if self.world == 1:
            return
        for p in params:
            if p.grad is None:
                p.grad = torch.zeros_like(p)
            torch.distributed.all_reduce(p.grad)

    def barrier(self) -> None:
        if self.world > 1:
            torch.distributed.barrier()


def setup() -> Dist:
    """Join the process group when launched with several processes (``WORLD_SIZE`` > 1)."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Dist()
    if not torch.distributed.is_initialized():
        from accelerate import PartialState

        PartialState()  # initialises the process group (gloo on CPU) from the launcher's env
    rank = torch.distributed.get_rank()
    log.info("data parallel: process %d of %d", rank, world)
    return Dist(rank=rank, world=world)
