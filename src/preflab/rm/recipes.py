"""Train a scorer for a recipe: ``train_scorer(pairs, recipe, seed)``, the one way every caller
(``preflab train-rm``, bench, West-of-N rounds, strength ensembles, benchmarks) trains a reward
model.

A recipe is a validated :class:`~preflab.rm.config.RecipeConfig`: ``finetune`` (a backbone
fine-tuned by :mod:`preflab.rm.trainer`) or ``embed-head`` (a head on a frozen encoder,
:mod:`preflab.rm.embed_head`), with that recipe's options. Both read the pair columns (margin,
smoothing, weight) with the same loss options. Why one function: five hand-written copies of
"train a scorer" let ``train-rm --cheap`` drop ``--max-length`` unnoticed.

With ``output_dir`` the model is saved there with a ``run.json`` (config, seed, versions,
input fingerprints) like every other preflab output.

>>> recipe = RecipeConfig.from_dict({"recipe": "embed-head", "max_length": 128})
>>> trained = train_scorer(pairs, recipe, seed=1, output_dir="rm")          # doctest: +SKIP
>>> trained.scorer.score(pairs[0].prompt, [pairs[0].chosen, pairs[0].rejected])  # doctest: +SKIP
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

from preflab.config import validate
from preflab.errors import InputError
from preflab.records import PreferencePair
from preflab.rm.config import EmbedHeadConfig, RecipeConfig, TrainConfig, recipe_problems
from preflab.rm.scorer import Scorer, score_pairs

__all__ = ["EmbedHeadConfig", "RecipeConfig", "TrainConfig", "TrainedScorer", "recipe_problems", "train_scorer"]


@dataclass
class TrainedScorer:
    """What :func:`train_scorer` made: the scorer, the recipe as trained (seed applied), where
    it was saved, the validation accuracy if validation pairs were given, the trainer's own
    result (``finetune`` only: history, speed) and the wall time."""

    scorer: Scorer
    recipe: RecipeConfig
    path: str | None = None
    val_accuracy: float | None = None
    result: Any = None
    seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)  # what the caller adds (pairs read, degenerate rows)


def train_scorer(pairs: Sequence[PreferencePair], recipe: RecipeConfig | Mapping[str, Any], seed: int | None = None, *,
                 output_dir: str | Path | None = None, val_pairs: Sequence[PreferencePair] | None = None,
                 metrics_path: str | Path | None = None, cache_dir: str | Path | None = None,
                 progress: bool | None = None, inputs: dict[str, str | Path] | None = None) -> TrainedScorer:
    """Train a scorer with ``recipe`` (a :class:`RecipeConfig` or a dict for
    :meth:`RecipeConfig.from_dict`) on ``pairs``.

    ``seed`` overrides the recipe's own; ``output_dir`` saves the model with its run.json
    (``inputs``: files to fingerprint in it); ``cache_dir`` is the embedding cache of an
    ``embed-head`` recipe that names none; ``progress`` overrides a ``finetune`` recipe's
    progress bar; ``metrics_path`` receives a ``finetune`` run's training metrics.
    """
    from preflab.provenance import run_record
    from preflab.rm.save import data_fingerprint

    recipe = recipe if isinstance(recipe, RecipeConfig) else RecipeConfig.from_dict(recipe)
    recipe = validate(recipe if seed is None else recipe.with_seed(seed))
    pairs = list(pairs)
    if len(pairs) < 2:
        raise InputError(f"need at least 2 training pairs, got {len(pairs)}")
    fingerprint = data_fingerprint(pairs)
    record = run_record("train-rm", recipe, inputs=inputs, counts={"pairs": len(pairs), "val_pairs": len(val_pairs or [])},
                        seed=recipe.options.seed, data_fingerprint=fingerprint)
    started = time.perf_counter()
    if recipe.recipe == "finetune":
        trained = _finetune(pairs, recipe, output_dir, val_pairs, metrics_path, progress, record, fingerprint)
    else:
        trained = _embed_head(pairs, recipe, output_dir, val_pairs, cache_dir, record)
    trained.seconds = time.perf_counter() - started
    return trained


def _finetune(pairs, recipe: RecipeConfig, output_dir, val_pairs, metrics_path, progress, record, fingerprint) -> TrainedScorer:
    from preflab.rm.scorer import RewardModelScorer
    from preflab.rm.trainer import train_reward_model

    options = recipe.options
    if output_dir is not None:
        options = replace(options, output_dir=str(output_dir))
    if progress is not None:
        options = replace(options, progress=progress)
    result = train_reward_model(pairs, options, val_pairs=val_pairs, metrics_path=metrics_path,
                                data_fingerprint=fingerprint, provenance=record)
    scorer = RewardModelScorer(result.backbone, result.score_renderer or result.renderer)
    return TrainedScorer(scorer, replace(recipe, options=options), result.output_dir, result.best_val_accuracy, result)


def _embed_head(pairs, recipe: RecipeConfig, output_dir, val_pairs, cache_dir, record) -> TrainedScorer:
    from preflab.rm.embed_head import train_embed_head

    options = recipe.options
    if options.cache_dir is None and cache_dir is not None:
        options = replace(options, cache_dir=str(cache_dir))
    scorer = train_embed_head(pairs, options)
    path = scorer.save(output_dir, provenance=record) if output_dir is not None else None
    val = None
    if val_pairs:
        from preflab.evaluation import pairwise_accuracy

        val = pairwise_accuracy([c - r for c, r in score_pairs(scorer, val_pairs)])
    return TrainedScorer(scorer, replace(recipe, options=options), path, val)
