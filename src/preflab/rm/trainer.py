"""Train a reward model on preference pairs: ``train_reward_model(pairs, config)``.

Why not TRL's RewardTrainer: on CPU the time goes to padded tokens and to the prompt being
computed twice. Here batches are length-grouped, each batch's sequences are split into
length groups (little padding), decoders compute the shared prompt once (prefix sharing),
and the per-pair loss columns (margin, smoothing, weight) from preflab's repairs are used.

Gradient accumulation is normalised over the whole optimizer step: every micro-batch divides
its summed loss by the step's total weight, so ``grad_accum=4, batch_size=2`` gives the same
update as ``batch_size=8``. Metrics use TRL's names (accuracy, margin, mean_reward).
Multi-process data parallel: run the same script under ``accelerate launch``; each process
takes its own micro-batches and gradients are summed across processes before each step.

>>> from preflab.rm import TrainConfig, train_reward_model      # doctest: +SKIP
>>> result = train_reward_model(pairs, TrainConfig(model="minilm", output_dir="rm"))  # doctest: +SKIP
>>> result.best_val_accuracy                                    # doctest: +SKIP
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import torch

from preflab.config import validate
from preflab.errors import ConfigError, InputError, TrainingDiverged
from preflab.progress import Bar
from preflab.records import PreferencePair
from preflab.rm import distributed
from preflab.rm.backbone import Backbone, disable_dropout, load_backbone, set_dropout
from preflab.rm.batching import length_grouped_batches
from preflab.rm.config import TrainConfig
from preflab.rm.forward import rewards
from preflab.rm.losses import LossColumns, centering_penalty, contrastive_items, loss_columns, pair_metrics, pairwise_losses, simcse_loss
from preflab.rm.metrics_log import MetricsLog
from preflab.rm.render import Encoded, Renderer

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    """What training produced. ``backbone`` holds the final (best, if kept) weights."""

    backbone: Backbone
    renderer: Renderer
    config: TrainConfig
    output_dir: str | None = None
    best_val_accuracy: float | None = None
    history: list[dict[str, Any]] = field(default_factory=list)
    reward_mean: float | None = None
    reward_std: float | None = None
    pairs_per_second: float = 0.0
    train_seconds: float = 0.0
    step_seconds: list[float] = field(default_factory=list)


def _schedule(cfg: TrainConfig, total_steps: int):
    warmup = int(cfg.warmup_ratio * total_steps)

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / (warmup + 1)
        if cfg.scheduler == "constant":
            return 1.0
        progress = (step - warmup) / max(1, total_steps - warmup)
        if cfg.scheduler == "cosine":
            return 0.5 * (1 + math.cos(math.pi * progress))
        return max(0.0, 1.0 - progress)

    return factor


def _seed_everything(seed: int) -> None:
    """Seed Python and torch. CPU kernels are deterministic for a fixed thread count (a test
    checks it); ``torch.use_deterministic_algorithms`` is not used: it fills every new tensor
    with NaN first, which costs memory bandwidth on a CPU run."""
    random.seed(seed)
    torch.manual_seed(seed)


def _batch_keys(items: list[Encoded], bb: Backbone, cfg: TrainConfig) -> list[int]:
    """What batches are grouped by: the prompt length when prompts are shared (so a batch's
    prompts pad little; responses are length-grouped inside the batch), else the full length."""
    if cfg.prefix_sharing and bb.is_decoder:
        return [len(e.prompt) for e in items]
    return [len(e.prompt) + max(map(len, e.responses)) for e in items]


def encode_pairs(renderer: Renderer, pairs: Sequence[PreferencePair]) -> list[Encoded]:
    """Render every pair (chosen, rejected) on a common prompt."""
    return [renderer.encode(p.prompt, (p.chosen, p.rejected)) for p in pairs]


@torch.no_grad()
def evaluate_encoded(bb: Backbone, items: list[Encoded], cfg: TrainConfig, batch_size: int | None = None) -> tuple[dict[str, float], torch.Tensor]:
    """TRL-named metrics on rendered pairs and the [N, 2] rewards (length-sorted batches)."""
    was_training = bb.model.training
    bb.model.eval()
    bs = batch_size or 2 * cfg.batch_size
    out = torch.zeros(len(items), 2)
    for batch in length_grouped_batches(_batch_keys(items, bb, cfg), bs, 0, shuffle=False):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
            r, _ = rewards(bb, [items[i] for i in batch], prefix_sharing=cfg.prefix_sharing, group_overhead=cfg.group_overhead)
        out[batch] = r.float()
    bb.model.train(was_training)
    return pair_metrics(out[:, 0], out[:, 1]), out


def _prepare_model(cfg: TrainConfig) -> Backbone:
    bb = load_backbone(cfg.model, new_head=True)
    if cfg.contrastive != "none":
        set_dropout(bb.model, cfg.contrastive_dropout)
    else:
        disable_dropout(bb.model)
    if cfg.lora_r:
        from preflab.rm.lora import add_lora

        add_lora(bb, cfg)
    if cfg.gradient_checkpointing:
        bb.model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
        if bb.is_decoder and cfg.prefix_sharing:
            log.warning("gradient checkpointing turns prefix sharing off (the prompt cache cannot be recomputed)")
            cfg.prefix_sharing = False
    bb.model.train()
    return bb


class _Step:
    """One micro-batch: forward, per-pair losses normalised by the step's total weight."""

    def __init__(self, bb: Backbone, cfg: TrainConfig, cols: LossColumns) -> None:
        self.bb, self.cfg, self.cols = bb, cfg, cols

    def __call__(self, items: list[Encoded], idx: list[int], denom: float, n_rewards: int, n_pairs: int):
        cfg = self.cfg
        want = cfg.contrastive != "none"
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=cfg.precision == "bf16"):
            r, reps = rewards(self.bb, items, prefix_sharing=cfg.prefix_sharing, group_overhead=cfg.group_overhead, want_reps=want)
            r = r.float()
            delta = r[:, 0] - r[:, 1]
            ix = torch.tensor(idx)
            m = self.cols.margin[ix] if self.cols.margin is not None else None
            s = self.cols.smoothing[ix] if self.cols.smoothing is not None else None
            loss = pairwise_losses(delta, m, s, self.cols.weight[ix]).sum() / denom
            if cfg.center_rewards:
                loss = loss + centering_penalty(r.flatten(), cfg.center_rewards) / n_rewards
            if want:
                _, reps2 = rewards(self.bb, items, prefix_sharing=cfg.prefix_sharing, group_overhead=cfg.group_overhead, want_reps=True)
                v1 = contrastive_items(reps[0::2], reps[1::2], cfg.contrastive)
                v2 = contrastive_items(reps2[0::2], reps2[1::2], cfg.contrastive)
                loss = loss + cfg.contrastive_weight * simcse_loss(v1, v2, cfg.contrastive_temperature) * len(items) / n_pairs
        loss.backward()
        return float(loss.detach()), r.detach()


def _plan(lengths: list[int], cfg: TrainConfig, world: int, rank: int) -> list[list[list[int]]]:
    """Optimizer steps, each a list of this process's micro-batches (pair indices). Batches
    are re-drawn every epoch (seed + epoch); with several processes an incomplete last step
    is dropped so that every process has work."""
    per_step = cfg.grad_accum * world
    n_epochs = math.ceil(cfg.epochs) if cfg.max_steps is None else 10**6
    steps: list[list[list[int]]] = []
    for epoch in range(n_epochs):
        batches = length_grouped_batches(lengths, cfg.batch_size, cfg.seed + epoch)
        if cfg.max_steps is None and epoch + 1 > cfg.epochs:  # a fractional last epoch
            batches = batches[: max(1, int(len(batches) * (cfg.epochs - epoch)))]
        for i in range(0, len(batches), per_step):
            group = batches[i:i + per_step]
            if len(group) < per_step and world > 1:
                break
            steps.append(group[rank::world])
            if cfg.max_steps and len(steps) >= cfg.max_steps:
                return steps
    return steps


def _diverged(what: str, cfg: TrainConfig) -> TrainingDiverged:
    """Why a run stopped with a loss that is no number; nothing was saved, so no broken model
    is ever mistaken for a trained one."""
    fixes = [f"lower lr (now {cfg.lr:g})", "clip gradients with max_grad_norm (now off)" if not cfg.max_grad_norm else "",
             f"train in fp32 (now {cfg.precision})" if cfg.precision != "fp32" else ""]
    return TrainingDiverged(f"{what}; training stopped and nothing was saved: " + ", or ".join(f for f in fixes if f))


def _check_finite(bb: Backbone, renderer: Renderer, cfg: TrainConfig, n_steps: int) -> None:
    """The trained weights, and the rewards of the probe texts saved with the model, are
    numbers: a last step can overflow the weights without its loss showing it."""
    from preflab.rm.save import probe_rewards

    if not all(bool(torch.isfinite(p).all()) for p in bb.model.parameters()):
        raise _diverged(f"the weights hold NaN or Infinity after {n_steps} steps", cfg)
    if not all(math.isfinite(r) for r in probe_rewards(bb, renderer)):
        raise _diverged(f"the model gives NaN or infinite rewards after {n_steps} steps", cfg)


def train_reward_model(
    pairs: Sequence[PreferencePair],
    config: TrainConfig | None = None,
    *,
    val_pairs: Sequence[PreferencePair] | None = None,
    metrics_path: str | Path | None = None,
    data_fingerprint: str | None = None,
    provenance: dict[str, Any] | None = None,
) -> TrainResult:
    """Train a reward model; save it to ``config.output_dir`` if set (with ``provenance`` as
    its run.json). Returns a :class:`TrainResult` whose ``backbone`` can be wrapped in a scorer
    directly. Callers that pick a recipe use :func:`preflab.rm.recipes.train_scorer`."""
    cfg = validate(copy.deepcopy(config or TrainConfig()))
    pairs = list(pairs)
    if len(pairs) < 2:
        raise InputError(f"need at least 2 training pairs, got {len(pairs)}")
    if val_pairs is None and cfg.val_fraction:
        from preflab.io import split_pairs

        pairs, val_pairs = split_pairs(pairs, cfg.val_fraction, cfg.seed)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    dist = distributed.setup()
    _seed_everything(cfg.seed)
    bb = _prepare_model(cfg)
    renderer = Renderer(bb.tokenizer, cfg.max_length, cfg.template, bb.is_decoder)
    items = encode_pairs(renderer, pairs)
    val_items = encode_pairs(renderer, val_pairs) if val_pairs else []
    n_cut = sum(e.truncated for e in items)
    if n_cut:
        log.info("%d of %d training pairs were truncated to %d tokens", n_cut, len(items), cfg.max_length)
    cols = loss_columns(pairs, cfg)
    steps = _plan(_batch_keys(items, bb, cfg), cfg, dist.world, dist.rank)
    if not steps:
        raise ConfigError("no optimizer step fits: fewer pairs than batch_size × grad_accum × processes")
    params = [p for p in bb.model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, _schedule(cfg, len(steps)))
    step_fn = _Step(bb, cfg, cols)
    meta = None
    if cfg.meta_set:
        from preflab.rm.metarm import build_meta_step

        meta = build_meta_step(bb, renderer, cfg.meta_set, lr=cfg.meta_lr, batch=cfg.meta_batch, seed=cfg.seed,
                               prefix_sharing=cfg.prefix_sharing, precision=cfg.precision)
    mlog = MetricsLog(metrics_path if dist.is_main else None)
    result = TrainResult(backbone=bb, renderer=renderer, config=cfg)
    best_state, best_acc = None, -1.0
    steps_per_epoch = max(1, math.ceil(len(items) / (cfg.batch_size * cfg.grad_accum * dist.world)))
    eval_every = cfg.eval_every or steps_per_epoch
    start, seen, window, losses = time.perf_counter(), 0, [], []
    with Bar(f"Training RM ({Path(bb.path).name})", cfg.progress and dist.is_main) as bar:
        bar(0, len(steps))
        for step, micro in enumerate(steps, 1):
            denom = dist.all_sum(float(sum(cols.weight[i].sum() for i in micro))) or 1.0
            n_pairs = dist.all_sum(float(sum(len(b) for b in micro)))
            step_loss, t_step = 0.0, time.perf_counter()
            saved = meta.ascend(params) if meta is not None else None  # MetaRM: move to θ′ = θ + η∇J
            for idx in micro:
                loss, r = step_fn([items[i] for i in idx], idx, denom, int(2 * n_pairs), int(n_pairs))
                step_loss += loss
                window.append(r)
                seen += len(idx) * dist.world
            if not math.isfinite(dist.all_sum(step_loss)):  # every process stops together
                raise _diverged(f"the training loss became {step_loss} at step {step} of {len(steps)}", cfg)
            losses.append(step_loss)
            if saved is not None:
                meta.restore(params, saved)  # back to θ, keeping the BT gradient taken at θ′ (first order)
            dist.sum_gradients(params)
            if cfg.max_grad_norm:
                norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm))
                if not math.isfinite(norm):
                    raise _diverged(f"the gradient norm became {norm} at step {step} of {len(steps)}", cfg)
            opt.step()
            sched.step()
            opt.zero_grad(set_to_none=True)
            result.step_seconds.append(time.perf_counter() - t_step)
            bar(step, len(steps))
            if step % cfg.log_every == 0 or step == len(steps):
                rs = torch.cat(window)
                mlog.write({"step": step, "epoch": round(step / steps_per_epoch, 3), "loss": sum(losses) / len(losses),
                            **pair_metrics(rs[:, 0], rs[:, 1]), "learning_rate": sched.get_last_lr()[0],
                            "pairs_per_second": seen / (time.perf_counter() - start),
                            **({"meta_objective": meta.last_objective} if meta is not None else {})})
                window, losses = [], []
            if val_items and (step % eval_every == 0 or step == len(steps)):
                metrics, val_r = evaluate_encoded(bb, val_items, cfg)
                mlog.write({"step": step, "epoch": round(step / steps_per_epoch, 3), **{f"eval_{k}": v for k, v in metrics.items()}})
                result.history.append({"step": step, **metrics})
                if metrics["accuracy"] > best_acc:
                    best_acc = metrics["accuracy"]
                    result.reward_mean, result.reward_std = float(val_r.mean()), float(val_r.std())
                    if cfg.keep_best:
                        best_state = {k: v.detach().clone() for k, v in bb.model.state_dict().items()}
    result.train_seconds = time.perf_counter() - start
    result.pairs_per_second = seen / result.train_seconds
    if best_state is not None:
        bb.model.load_state_dict(best_state)
    result.best_val_accuracy = best_acc if val_items else None
    disable_dropout(bb.model)
    bb.model.eval()
    if cfg.lora_r:
        from preflab.rm.lora import merge_lora

        merge_lora(bb)
    _check_finite(bb, renderer, cfg, len(steps))
    if cfg.output_dir and dist.is_main:
        from preflab.rm.save import save_reward_model

        result.output_dir = save_reward_model(result, data_fingerprint=data_fingerprint, n_train=len(pairs), provenance=provenance)
    dist.barrier()
    return result

