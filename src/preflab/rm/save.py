"""Save and reload trained reward models, and prove the reload gives the same scores.

Layout: ``save_pretrained`` (an ``AutoModelForSequenceClassification`` with ``num_labels=1``,
and the tokenizer with the chat template preflab scored with), a ``README.md`` model card
(:mod:`preflab.rm.card`), ``run.json``, and ``preflab_rm.json`` with the template, the training
and scoring lengths, the reward mean/std over the training data (for normalised scores), the
training config, data fingerprint, versions, the result of the export check
(:func:`preflab.rm.export.export_problems`: the folder loaded back as TRL loads it scores the
same) and a probe: rewards of a few fixed texts computed right before saving. Loading
recomputes the probe and raises :class:`HeadReinitialisedError` if the rewards moved — the
failure other tools have when a head is silently re-initialised after reload or LoRA merge.

Format 2 (this one) renders every backbone through the saved chat template; format 1 rendered
encoders as a text pair with segment ids, which no chat template reproduces, and is refused
with a message that says so.
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
FORMAT_VERSION = 2
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
    """Write ``result.backbone`` to ``result.config.output_dir`` atomically, with its model
    card and run.json (``provenance``, else a record of the training config and seed); returns
    the path. The folder is loaded back as TRL loads it before it is swapped in: if that scores
    differently from preflab, a warning says so now, and the card and ``preflab_rm.json`` record why."""
    import torch
    import transformers

    from preflab import __version__
    from preflab.io.atomic import atomic_path
    from preflab.io.portable import record_json
    from preflab.provenance import run_record, write_run_json
    from preflab.rm.backbone import hub_id
    from preflab.rm.card import write_card
    from preflab.rm.export import TRUNCATION_RULE, export_problems

    cfg, bb = result.config, result.backbone
    renderer = result.score_renderer or result.renderer
    target = Path(cfg.output_dir)
    record = provenance or run_record("train-rm", cfg, counts={"pairs": n_train}, seed=cfg.seed,
                                      data_fingerprint=data_fingerprint)
    bb.tokenizer.model_max_length = renderer.max_length
    meta = {
        "format_version": FORMAT_VERSION,
        "recipe": "finetune",
        "preflab_version": __version__,
        "torch_version": torch.__version__,
        "transformers_version": transformers.__version__,
        "base_model": cfg.model,
        "base_model_id": hub_id(cfg.model),
        "is_decoder": bb.is_decoder,
        "template": result.renderer.template,
        "max_length": result.renderer.max_length,
        "score_max_length": renderer.max_length,
        "truncation": TRUNCATION_RULE,
        "padding": result.padding_note,
        "reward_mean": result.reward_mean,
        "reward_std": result.reward_std,
        "reward_stats_pairs": result.reward_stats_pairs,
        "best_val_accuracy": result.best_val_accuracy,
        "history": result.history,
        "training_config": asdict(cfg),
        "seed": cfg.seed,
        "data_fingerprint": data_fingerprint,
        "n_train_pairs": n_train,
        "inputs": record.get("inputs", {}),
        "probe": {"texts": PROBES, "rewards": probe_rewards(bb, renderer)},
    }
    with atomic_path(target, directory=True) as tmp:
        bb.hf_model.save_pretrained(tmp)
        bb.tokenizer.save_pretrained(tmp)
        meta["export"] = export_problems(tmp, bb, renderer)
        (tmp / META_FILE).write_text(record_json(meta, indent=2), encoding="utf-8")
        write_card(tmp, meta)
        write_run_json(tmp / "run.json", record)
    if not meta["export"]["standard"]:
        log.warning("%s does not score the same outside preflab: %s (recorded in its README.md and %s)",
                    target, "; ".join(meta["export"]["problems"]), META_FILE)
    log.info("saved reward model to %s", target)
    return str(target)


def read_meta(path: str | Path) -> dict[str, Any]:
    meta_path = Path(path) / META_FILE
    if not meta_path.exists():
        raise InputError(f"{path} is not a preflab reward model (no {META_FILE}); train one with `preflab train-rm`")
    return json.loads(meta_path.read_text(encoding="utf-8"))


def load_reward_model(path: str | Path, *, check: bool = True):
    """Load a saved RM as (backbone, renderer, meta); with ``check`` re-score the probe. The
    renderer scores with the saved chat template up to ``score_max_length`` tokens."""
    from preflab.rm.backbone import disable_dropout, load_backbone
    from preflab.rm.render import Renderer

    meta = read_meta(path)
    version = meta.get("format_version", 1)
    if version == 1 and not meta.get("is_decoder", True):
        raise InputError(f"{path} was saved by preflab {meta.get('preflab_version', '?')} (format 1), which scored "
                         "encoders as a text pair with segment ids; this version scores them through a chat template "
                         "(one segment), so its rewards would change: train it again", path=str(path))
    if version > FORMAT_VERSION:
        raise InputError(f"{path} was saved by a newer preflab (format {version}); upgrade preflab to load it",
                         path=str(path))
    bb = load_backbone(str(path), new_head=False)
    disable_dropout(bb.model)
    bb.model.eval()
    if version == 1:  # decoders: the same rendering, scored at the training length as then
        renderer = Renderer(bb.tokenizer, meta["max_length"], meta["template"], bb.is_decoder)
    else:
        renderer = Renderer(bb.tokenizer, meta["score_max_length"], "chat", bb.is_decoder)
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
