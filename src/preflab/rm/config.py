"""The reward-model training configuration: one dataclass, the single source of truth for the
library call, the YAML config file and the ``preflab train-rm`` flags (same names, dashes
for underscores), built like every other command's config by :func:`preflab.config.resolve`
(defaults < ``--config file.yaml`` < flags).

>>> cfg = TrainConfig(model="minilm", lr=1e-4)
>>> cfg.validate() is cfg
True
>>> fingerprint_fields(cfg)["lr"]
0.0001
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from preflab.config import option
from preflab.errors import ConfigError

CHOICES = {
    "precision": ("fp32", "bf16"),
    "scheduler": ("linear", "cosine", "constant"),
    "template": ("auto", "chat", "plain"),
    "contrastive": ("none", "pair", "difference"),
}
#: fields that change speed or logging but not the trained model (left out of fingerprints)
RUNTIME_ONLY = {"output_dir", "progress", "threads", "log_every", "prefix_sharing", "group_overhead"}


@dataclass
class TrainConfig:
    """How to train a reward model; the help text of each field is its CLI help."""

    model: str = option("minilm", "Backbone: alias (minilm, smollm2) or a local HF model folder.")
    output_dir: str | None = option(None, "Where the trained model is saved (save_pretrained + preflab_rm.json).")
    max_length: int = option(512, "Tokens per prompt+response; the oldest prompt turns are cut first.")
    template: str = option("auto", "Rendering: auto (chat template if any), chat, plain.")
    batch_size: int = option(8, "Pairs per micro-batch.")
    grad_accum: int = option(1, "Micro-batches per optimizer step.")
    epochs: float = option(1.0, "Passes over the training pairs (fractions allowed).")
    max_steps: int | None = option(None, "Stop after this many optimizer steps (overrides epochs).")
    lr: float = option(5e-5, "Peak learning rate (AdamW).")
    weight_decay: float = option(0.0, "AdamW weight decay.")
    warmup_ratio: float = option(0.1, "Fraction of steps with linear warmup.")
    scheduler: str = option("linear", "Decay after warmup: linear, cosine, constant.")
    max_grad_norm: float = option(1.0, "Gradient clipping (0 = off).")
    seed: int = option(0, "Seed for init, batch order and dropout.")
    precision: str = option("fp32", "fp32 or bf16 (autocast; master weights stay fp32).")
    gradient_checkpointing: bool = option(False, "Recompute activations in backward: less memory, ~15% slower; turns prefix sharing off.")
    prefix_sharing: bool = option(True, "Decoders: compute the shared prompt once for chosen and rejected.")
    group_overhead: float = option(64.0, "Fixed cost of one extra forward, in tokens: a batch's sequences are split into length groups only when that saves more padding.")
    use_margin: bool = option(True, "Use each pair's margin column: loss -log σ(Δ - m).")
    clip_negative_margin: bool = option(True, "Clip negative margins at 0.")
    label_smoothing: float = option(0.0, "Global label smoothing α (a pair's smoothing column overrides it).")
    use_weights: bool = option(True, "Multiply each pair's loss by its weight column.")
    center_rewards: float = option(0.0, "Reward centering coefficient c: loss += c·mean(r²) (TRL suggests 0.01).")
    contrastive: str = option("none", "SimCSE auxiliary loss on: none, pair or difference representations.")
    contrastive_weight: float = option(1.0, "β: loss = L_rm + β·L_cl.")
    contrastive_temperature: float = option(0.05, "τ of the SimCSE loss.")
    contrastive_dropout: float = option(0.05, "Dropout that makes the two SimCSE views differ.")
    val_fraction: float = option(0.0, "Hold out this fraction of prompts for validation (0 = none unless val data given).")
    eval_every: int = option(0, "Evaluate every N optimizer steps (0 = every epoch).")
    keep_best: bool = option(True, "Keep the checkpoint with the best validation accuracy.")
    lora_r: int = option(0, "LoRA rank (0 = full fine-tuning); the score head is always trained and saved.")
    lora_alpha: int = option(16, "LoRA alpha.")
    lora_dropout: float = option(0.0, "LoRA dropout.")
    meta_set: str | None = option(None, "MetaRM: JSONL of prompts with k policy samples each (preflab meta-set); None = off.")
    meta_lr: float = option(1e-5, "MetaRM: step size η of the ascent on the difference loss J.")
    meta_batch: int = option(4, "MetaRM: meta prompts per optimizer step.")
    log_every: int = option(10, "Write training metrics every N steps.")
    threads: int | None = option(None, "torch CPU threads (default: torch's choice).")
    progress: bool = option(True, "Show a progress bar.")

    def validate(self) -> "TrainConfig":
        """Check every field; report all problems at once (ConfigError)."""
        errors = []
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                errors.append(f"{name} must be one of {', '.join(allowed)}, got {getattr(self, name)!r}")
        positive = ("max_length", "batch_size", "grad_accum", "log_every")
        errors += [f"{n} must be > 0, got {getattr(self, n)}" for n in positive if getattr(self, n) <= 0]
        if self.epochs <= 0 and not self.max_steps:
            errors.append(f"epochs must be > 0, got {self.epochs}")
        if self.lr <= 0:
            errors.append(f"lr must be > 0, got {self.lr}")
        if not 0 <= self.label_smoothing <= 0.5:
            errors.append(f"label_smoothing must lie in [0, 0.5], got {self.label_smoothing}")
        if not 0 <= self.warmup_ratio < 1:
            errors.append(f"warmup_ratio must lie in [0, 1), got {self.warmup_ratio}")
        if not 0 <= self.val_fraction < 1:
            errors.append(f"val_fraction must lie in [0, 1), got {self.val_fraction}")
        if self.contrastive_temperature <= 0:
            errors.append("contrastive_temperature must be > 0")
        if self.lora_r < 0:
            errors.append("lora_r must be >= 0")
        if self.meta_set is not None and (self.meta_lr <= 0 or self.meta_batch <= 0):
            errors.append("meta_lr and meta_batch must be > 0")
        if errors:
            raise ConfigError("invalid training config: " + "; ".join(errors))
        return self

    check = validate  # the name preflab.config.resolve calls


def fingerprint_fields(cfg: TrainConfig) -> dict[str, Any]:
    """The fields that change the trained model (runtime-only ones removed)."""
    return {k: v for k, v in asdict(cfg).items() if k not in RUNTIME_ONLY}
