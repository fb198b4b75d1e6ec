"""The reward-model recipe configurations (no torch import: a bench validates them before it
generates anything).

- :class:`TrainConfig`: fine-tuning a backbone; the single source of truth for the library
  call, the YAML config file and the ``preflab train-rm`` flags (same names, dashes for
  underscores; defaults < ``--config file.yaml`` < flags).
- :class:`EmbedHeadConfig`: the frozen-encoder head (``train-rm --cheap``); it shares the loss
  options :data:`LOSS_OPTIONS` with :class:`TrainConfig`, field for field.
- :class:`RecipeConfig`: one recipe, ``finetune`` or ``embed-head``, with its options; what
  :func:`preflab.rm.recipes.train_scorer` trains. ``RecipeConfig.from_dict`` reports every
  problem of a plain dictionary at once (:func:`recipe_problems` returns them as a list).

>>> from preflab.config import validate
>>> cfg = TrainConfig(model="minilm", lr=1e-4)
>>> validate(cfg) is cfg
True
>>> fingerprint_fields(cfg)["lr"]
0.0001
"""

from __future__ import annotations

import typing
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any, Literal, Mapping

from preflab.config import option, problems_of, range_problem, type_problem
from preflab.errors import ConfigError, Problem, about

CHOICES = {
    "precision": ("fp32", "bf16"),
    "scheduler": ("linear", "cosine", "constant"),
    "template": ("auto", "chat", "plain"),
    "contrastive": ("none", "pair", "difference"),
}
#: the ``length_debias`` treatments (:mod:`preflab.rm.length_debias`)
LENGTH_DEBIAS_CHOICES = ("none", "balance", "poe")
#: fields that change speed or logging but not the trained model (left out of fingerprints)
RUNTIME_ONLY = {"output_dir", "progress", "threads", "log_every", "prefix_sharing", "group_overhead"}


@dataclass
class TrainConfig:
    """How to train a reward model; the help text of each field is its CLI help."""

    model: str = option("minilm", "Backbone: alias (minilm, smollm2) or a local HF model folder.", reads=True)
    output_dir: str | None = option(None, "Where the trained model is saved (save_pretrained + preflab_rm.json).")
    max_length: int = option(512, "Tokens per prompt+response; the oldest prompt turns are cut first.")
    template: str = option("auto", "Rendering: auto (chat template if any), chat, plain.")
    batch_size: int = option(8, "Pairs per micro-batch.")
    grad_accum: int = option(1, "Micro-batches per optimizer step.")
    epochs: float = option(1.0, "Passes over the training pairs (fractions allowed; ignored with max_steps).", unbounded=True)
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
    length_debias: str = option("none", "Train response length out: none; balance (weight the pairs so that chosen is longer in half of the loss); poe (product of experts with a length-only expert fitted on the pairs, Shen et al. 2023).")
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
    meta_set: str | None = option(None, "MetaRM: JSONL of prompts with k policy samples each (preflab meta-set); None = off.",
                                  reads=True)
    meta_lr: float = option(1e-5, "MetaRM: step size η of the ascent on the difference loss J.")
    meta_batch: int = option(4, "MetaRM: meta prompts per optimizer step.")
    log_every: int = option(10, "Write training metrics every N steps.")
    threads: int | None = option(None, "torch CPU threads (default: torch's choice).")
    progress: bool = option(True, "Show a progress bar.")

    def problems(self) -> list[Problem]:
        """This recipe's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        errors = [] if self.max_steps else [p for p in [range_problem("epochs", self.epochs, (0, None, True))] if p]
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                errors.append(about(name, f"must be one of {', '.join(allowed)}, got {getattr(self, name)!r}"))
        errors += [about(n, f"must be below 1, got {getattr(self, n)}") for n in ("warmup_ratio", "val_fraction")
                   if getattr(self, n) == 1]
        return errors + loss_problems(self)


def loss_problems(cfg: Any) -> list[Problem]:
    """Problems with the loss options both recipes share (:data:`LOSS_OPTIONS`) that the shared
    ranges do not cover."""
    if cfg.length_debias not in LENGTH_DEBIAS_CHOICES:
        return [about("length_debias", f"must be one of {', '.join(LENGTH_DEBIAS_CHOICES)}, got {cfg.length_debias!r}")]
    if cfg.length_debias == "poe" and not cfg.use_margin:
        return [Problem("{length_debias} poe adds the length expert to each pair's margin, so it needs {use_margin} on",
                        ("length_debias", "use_margin"))]
    return []


#: the loss options of the fine-tuning trainer that the embedding head honours the same way
LOSS_OPTIONS = ("use_margin", "clip_negative_margin", "label_smoothing", "use_weights", "center_rewards", "length_debias")


def _same(name: str) -> Any:
    """A field shared with :class:`TrainConfig`: same default, same help (one source)."""
    f = next(f for f in fields(TrainConfig) if f.name == name)
    return option(f.default, f.metadata["help"])


@dataclass
class EmbedHeadConfig:
    """The cheap recipe: a frozen sentence encoder, cached embeddings, a small MLP head trained
    full-batch with the same pairwise loss (and loss options) as the fine-tuning trainer."""

    model: str = option("minilm", "Frozen encoder: alias (minilm) or a local HF model folder.", reads=True)
    max_length: int = option(256, "Tokens per text the frozen encoder reads.")
    hidden: int = option(256, "Width of the head's hidden layer.")
    epochs: int = option(200, "Full-batch AdamW steps of the head (each one passes over every pair).")
    lr: float = option(1e-3, "Learning rate of the head (AdamW).")
    weight_decay: float = option(1e-2, "AdamW weight decay of the head.")
    dropout: float = option(0.1, "Dropout inside the head while it trains.")
    seed: int = option(0, "Seed of the head's initialisation and dropout.")
    batch_size: int = option(32, "Texts per encoder forward while embedding (speed only).")
    cache_dir: str | None = option(None, "Embedding cache folder (default: embeddings/ in preflab's cache).")
    use_margin: bool = _same("use_margin")
    clip_negative_margin: bool = _same("clip_negative_margin")
    label_smoothing: float = _same("label_smoothing")
    use_weights: bool = _same("use_weights")
    length_debias: str = _same("length_debias")
    center_rewards: float = _same("center_rewards")

    def problems(self) -> list[Problem]:
        """This recipe's own rules (the fields' ranges are checked by :func:`preflab.config.validate`)."""
        return ([about("dropout", "must be below 1, got 1")] if self.dropout == 1 else []) + loss_problems(self)


RECIPES: dict[str, type] = {"finetune": TrainConfig, "embed-head": EmbedHeadConfig}

#: why the embedding head cannot honour these fine-tuning options (any other value than the
#: trainer's default is refused; options that only change speed or logging are ignored)
HEAD_CANNOT = {
    "contrastive": "the encoder is frozen, so there is no representation for SimCSE to train",
    "meta_set": "MetaRM moves the backbone's weights and the encoder is frozen",
    "lora_r": "the encoder is frozen, there is nothing to adapt",
    "val_fraction": "the head keeps no validation split; pass validation pairs instead",
    "precision": "the head trains in fp32 on cached fp32 embeddings",
}


@dataclass(frozen=True)
class RecipeConfig:
    """One reward-model recipe: its name and that recipe's validated options. ``finetune``
    fine-tunes a backbone (:class:`TrainConfig`, :mod:`preflab.rm.trainer`); ``embed-head``
    trains a head on a frozen encoder (:class:`EmbedHeadConfig`, :mod:`preflab.rm.embed_head`).
    Both honour the loss options :data:`LOSS_OPTIONS`. Train with
    :func:`preflab.rm.recipes.train_scorer`.

    >>> RecipeConfig.from_dict({"recipe": "embed-head", "max-length": 64}).options.max_length
    64
    >>> RecipeConfig.from_dict({"epochs": -1, "lr": 0})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    preflab.errors.ConfigError: invalid finetune recipe: epochs must be > 0, got -1.0; lr must be > 0, got 0.0
    """

    recipe: Literal["finetune", "embed-head"] = "finetune"
    options: TrainConfig | EmbedHeadConfig = field(default_factory=TrainConfig)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "RecipeConfig":
        """Build from ``{"recipe": name, option: value, ...}`` (dashes or underscores); raise one
        :class:`ConfigError` listing every problem: unknown keys, options the recipe cannot
        honour, wrong types and bad values."""
        recipe, problems = _parse(data)
        if problems:
            raise ConfigError(problems, f"invalid {data.get('recipe', 'finetune')} recipe")
        return recipe

    def problems(self) -> list[Problem]:
        """The recipe is known, its options are that recipe's, and they are valid."""
        if self.recipe not in RECIPES:
            return [Problem("{recipe}: " + f"unknown recipe {self.recipe!r} (known: {', '.join(RECIPES)})", ("recipe",))]
        if not isinstance(self.options, RECIPES[self.recipe]):
            return [Problem(f"the {self.recipe} recipe takes {RECIPES[self.recipe].__name__} options, "
                            f"got {type(self.options).__name__}")]
        return [Problem(f"{self.recipe} recipe: {p.text}", p.names) for p in problems_of(self.options)]

    def with_seed(self, seed: int) -> "RecipeConfig":
        return replace(self, options=replace(self.options, seed=seed))


def recipe_problems(data: Mapping[str, Any]) -> list[Problem]:
    """Every problem :meth:`RecipeConfig.from_dict` would report, as a list (empty = valid):
    for callers that gather the problems of a larger config (a bench file) into one error."""
    return _parse(data)[1]


def _parse(data: Mapping[str, Any]) -> tuple[RecipeConfig | None, list[Problem]]:
    data = {str(k).replace("-", "_"): v for k, v in data.items()}
    name = data.pop("recipe", "finetune")
    if name not in RECIPES:
        return None, [Problem("{recipe}: " + f"unknown recipe {name!r} (known: {', '.join(RECIPES)})", ("recipe",))]
    cls = RECIPES[name]
    hints = typing.get_type_hints(cls)
    finetune_defaults = {f.name: f.default for f in fields(TrainConfig)}
    given, problems = {}, []
    for key, value in data.items():
        if key in hints:
            if isinstance(value, int) and not isinstance(value, bool) and float in typing.get_args(hints[key]) + (hints[key],):
                value = float(value)
            elif hints[key] is int and isinstance(value, float) and value.is_integer():
                value = int(value)  # the shell's flag is the fine-tuning recipe's float (--epochs 30 for the head)
            problem = type_problem(key, value, hints[key])
            if problem:
                problems.append(problem)
            else:
                given[key] = value
        elif key in finetune_defaults:  # a fine-tuning option given to the embed-head recipe
            if key not in RUNTIME_ONLY and value != finetune_defaults[key]:
                why = next((w for k, w in HEAD_CANNOT.items() if key.split("_")[0] == k.split("_")[0]), "it only applies to fine-tuning")
                problems.append(Problem("{" + key + "}: " + f"the embed-head recipe cannot honour this option ({why}); "
                                        "use recipe finetune or leave it out", (key,)))
        else:
            problems.append(Problem(f"{key}: unknown option of the {name} recipe (known: {', '.join(sorted(hints))})"))
    recipe = RecipeConfig(name, cls(**given))  # the well-typed values, so their problems show too
    problems += problems_of(recipe.options)
    return (None if problems else recipe), problems


def fingerprint_fields(cfg: TrainConfig) -> dict[str, Any]:
    """The fields that change the trained model (runtime-only ones removed)."""
    return {k: v for k, v in asdict(cfg).items() if k not in RUNTIME_ONLY}
