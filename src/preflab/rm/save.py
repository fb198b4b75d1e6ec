"""Save and reload trained reward models, and prove the reload gives the same scores.

Layout: ``save_pretrained`` (model + tokenizer) plus ``preflab_rm.json`` with the template,
max length, reward mean/std (for normalised scores), training config, data fingerprint,
versions, and a probe: rewards of a few fixed texts computed right before saving. Loading
recomputes the probe and raises :class:`HeadReinitialisedError` if the rewards moved — the
failure other tools have when a head is silently re-initialised after reload or LoRA merge.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any, Iterable

from preflab.errors import HeadReinitialisedError, InputError
from preflab.records import text_prompt

log = logging.getLogger(__name__)

META_FILE = "preflab_rm.json"
FORMAT_VERSION = 1
PROBE_TOLERANCE = 1e-4
PROBES = [
    ("What is the capital of France?", "The capital of France is Paris."),
    ("What is the capital of France?", "I don't know, maybe Lyon."),
    ("Write a haiku about rain.", "Soft rain on the roof / ..."),
]


def data_fingerprint(pairs: Iterable[Any]) -> str:
    """Order-sensitive hash of the training pairs' ids and labels."""
    h = hashlib.sha256()
    for p in pairs:
        h.update(f"{p.id}:{p.chosen[:64]}\n".encode("utf-8"))
    return h.hexdigest()[:16]


def probe_rewards(bb, renderer) -> list[float]:
    from preflab.rm.scorer import RewardModelScorer

    scorer = RewardModelScorer(bb, renderer, batch_size=len(PROBES))
    return scorer.score_many([(text_prompt(p), r) for p, r in PROBES])


def save_reward_model(result, *, data_fingerprint: str | None = None, n_train: int | None = None,
                      provenance: dict[str, Any] | None = None) -> str:
    """Write ``result.backbone`` to ``result.config.output_dir`` atomically, with its run.json
    (``provenance``, else a record of the training config and seed); returns the path."""
    import torch
    import transformers

    from preflab import __version__
    from preflab.io.atomic import atomic_path
    from preflab.io.portable import record_json
    from preflab.provenance import run_record, write_run_json

    cfg, bb = result.config, result.backbone
    target = Path(cfg.output_dir)
    meta = {
        "format_version": FORMAT_VERSION,
        "preflab_version": __version__,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "base_model": cfg.model,
        "is_decoder": bb.is_decoder,
        "template": result.renderer.template,
        "max_length": result.renderer.max_length,
        "reward_mean": result.reward_mean,
        "reward_std": result.reward_std,
        "best_val_accuracy": result.best_val_accuracy,
        "history": result.history,
        "training_config": asdict(cfg),
        "data_fingerprint": data_fingerprint,
        "n_train_pairs": n_train,
        "probe": {"texts": PROBES, "rewards": probe_rewards(bb, result.renderer)},
    }
    with atomic_path(target, directory=True) as tmp:
        bb.hf_model.save_pretrained(tmp)
        bb.tokenizer.save_pretrained(tmp)
        (tmp / META_FILE).write_text(record_json(meta, indent=2), encoding="utf-8")
        write_run_json(tmp / "run.json", provenance or run_record("train-rm", cfg, counts={"pairs": n_train}, seed=cfg.seed,
                                                                  data_fingerprint=data_fingerprint))
    log.info("saved reward model to %s", target)
    return str(target)


def read_meta(path: str | Path) -> dict[str, Any]:
    meta_path = Path(path) / META_FILE
    if not meta_path.exists():
        raise InputError(f"{path} is not a preflab reward model (no {META_FILE}); train one with `preflab train-rm`")
    return json.loads(meta_path.read_text(encoding="utf-8"))


def load_reward_model(path: str | Path, *, check: bool = True):
    """Load a saved RM as (backbone, renderer, meta); with ``check`` re-score the probe."""
    from preflab.rm.backbone import disable_dropout, load_backbone
    from preflab.rm.render import Renderer

    meta = read_meta(path)
    bb = load_backbone(str(path), new_head=False)
    disable_dropout(bb.model)
    bb.model.eval()
    renderer = Renderer(bb.tokenizer, meta["max_length"], meta["template"], bb.is_decoder)
    if check:
        verify_probe(bb, renderer, meta, str(path))
    return bb, renderer, meta


def verify_probe(bb, renderer, meta: dict[str, Any], where: str) -> None:
    saved = meta.get("probe", {}).get("rewards")
    if not saved:
        return
    now = probe_rewards(bb, renderer)
    worst = max(abs(a - b) for a, b in zip(now, saved))
    if worst > PROBE_TOLERANCE:
        raise HeadReinitialisedError(
            f"{where}: reloaded model scores the probe texts differently from when it was saved "
            f"(max difference {worst:.3g} > {PROBE_TOLERANCE}); the reward head was probably re-initialised "
            "or the weights changed. Re-save from the trained model, or load with check=False to inspect it"
        )
