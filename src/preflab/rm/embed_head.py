"""The cheap CPU reward model: a frozen sentence encoder, embeddings cached on disk once, and a
small MLP head trained with the Bradley–Terry loss on them. Trains in seconds; the harness
and the strength ensembles use it where fine-tuning M models would take hours.

Features of (prompt x, response y), from mean-pooled, L2-normalised encoder embeddings:
``[e(y), e(x) ⊙ e(y), log(1 + words(y))]`` — the response, how it relates to the prompt, and
its length (the head learns how much length matters instead of it leaking in unseen).

>>> from preflab.rm.embed_head import EmbedHeadConfig, train_embed_head   # doctest: +SKIP
>>> scorer = train_embed_head(train_pairs, EmbedHeadConfig(model="minilm"))  # doctest: +SKIP
>>> scorer.score(pair.prompt, [pair.chosen, pair.rejected])               # doctest: +SKIP
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from preflab.config import validate
from preflab.evaluation.response_length import response_length
from preflab.records import Message, PreferencePair
from preflab.rm.config import EmbedHeadConfig
from preflab.rm.render import plain_text

log = logging.getLogger(__name__)
HEAD_META = "preflab_embed_head.json"


@functools.lru_cache(maxsize=2)
def _frozen_encoder(path: str):
    """(tokenizer, encoder) of a folder, loaded once per process: a bench or strength run makes
    many caches (one per seed and scorer) over the same frozen, inference-only encoder."""
    from transformers import AutoModel, AutoTokenizer

    return AutoTokenizer.from_pretrained(path), AutoModel.from_pretrained(path).eval()


class EmbeddingCache:
    """Text → vector, computed once per (encoder, max_length, text) and kept in SQLite."""

    def __init__(self, model: str, max_length: int = 256, cache_dir: str | None = None, batch_size: int = 32) -> None:
        from preflab.rm.backbone import cache_dir as default_cache, resolve_model

        path = resolve_model(model)
        where = str(Path(path).resolve()) if Path(path).exists() else path  # a folder, or a hub id as given
        self.tok, self.enc = _frozen_encoder(where)
        self.max_length, self.batch_size = max_length, batch_size
        weights = sorted(Path(path).glob("*.safetensors")) or sorted(Path(path).glob("*.bin"))
        stamp = f"{where}:{weights[0].stat().st_size if weights else 0}:{max_length}"
        self.key = hashlib.sha256(stamp.encode()).hexdigest()[:12]
        folder = Path(cache_dir) if cache_dir else default_cache() / "embeddings"
        folder.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(folder / f"{self.key}.sqlite")
        self.db.execute("CREATE TABLE IF NOT EXISTS emb (h TEXT PRIMARY KEY, v BLOB)")
        self.hits = self.misses = 0

    @classmethod
    def for_config(cls, cfg: EmbedHeadConfig) -> "EmbeddingCache":
        return cls(cfg.model, cfg.max_length, cfg.cache_dir, cfg.batch_size)

    @staticmethod
    def _hash(text: str) -> str:
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [self._hash(t) for t in texts]
        found: dict[str, np.ndarray] = {}
        uniq = list(dict.fromkeys(hashes))
        for i in range(0, len(uniq), 500):
            chunk = uniq[i:i + 500]
            rows = self.db.execute(f"SELECT h, v FROM emb WHERE h IN ({','.join('?' * len(chunk))})", chunk)
            found.update({h: np.frombuffer(v, dtype=np.float32) for h, v in rows})
        todo = [(h, t) for h, t in dict(zip(hashes, texts)).items() if h not in found]
        self.hits += len(uniq) - len(todo)
        self.misses += len(todo)
        if todo:
            vecs = self._encode([t for _, t in todo])
            self.db.executemany("INSERT OR REPLACE INTO emb VALUES (?, ?)", [(h, v.tobytes()) for (h, _), v in zip(todo, vecs)])
            self.db.commit()
            found.update({h: v for (h, _), v in zip(todo, vecs)})
        return np.stack([found[h] for h in hashes])

    @torch.inference_mode()
    def _encode(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.zeros((len(texts), self.enc.config.hidden_size), dtype=np.float32)
        for s in range(0, len(order), self.batch_size):
            idx = order[s:s + self.batch_size]
            batch = self.tok([texts[i] for i in idx], padding=True, truncation=True, max_length=self.max_length, return_tensors="pt")
            hidden = self.enc(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1)
            out[idx] = pooled.numpy()
        return out


def _prompt_text(prompt: list[Message]) -> str:
    # the end of the conversation matters most: keep the last three turns
    return plain_text(prompt[-3:])


def features(cache: EmbeddingCache, items: Sequence[tuple[list[Message], str]]) -> torch.Tensor:
    ep = cache.embed([_prompt_text(p) for p, _ in items])
    er = cache.embed([r for _, r in items])
    length = np.array([[math.log1p(response_length(r))] for _, r in items], dtype=np.float32)
    return torch.from_numpy(np.concatenate([er, ep * er, length], axis=1))


def _head(dim: int, cfg: EmbedHeadConfig) -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(dim, cfg.hidden), torch.nn.GELU(), torch.nn.Dropout(cfg.dropout),
                               torch.nn.Linear(cfg.hidden, 1))


class EmbedHeadScorer:
    """The trained head plus its embedding cache, as a :class:`~preflab.rm.scorer.Scorer`."""

    def __init__(self, cache: EmbeddingCache, head: torch.nn.Module, cfg: EmbedHeadConfig,
                 trained_on: dict[str, Any] | None = None) -> None:
        self.cache, self.head, self.cfg = cache, head.eval(), cfg
        self.trained_on = trained_on or {}  # pairs and data fingerprint, for the run record

    def score(self, prompt: list[Message], responses: list[str]) -> list[float]:
        return self.score_many([(prompt, r) for r in responses])

    @torch.inference_mode()
    def score_many(self, items: Sequence[tuple[list[Message], str]]) -> list[float]:
        return self.head(features(self.cache, items)).squeeze(-1).tolist()

    def save(self, folder: str | Path, provenance: dict[str, Any] | None = None) -> str:
        """Write the head, its config and its run.json (``provenance``, else a record of the
        config, seed and training data fingerprint) atomically."""
        from preflab.io.atomic import atomic_path
        from preflab.provenance import run_record, write_run_json

        with atomic_path(folder, directory=True) as tmp:
            tmp.mkdir(parents=True)
            torch.save(self.head.state_dict(), tmp / "head.pt")
            (tmp / HEAD_META).write_text(json.dumps({"config": asdict(self.cfg)}, indent=2), encoding="utf-8")
            write_run_json(tmp / "run.json", provenance or run_record(
                "train-rm", self.cfg, counts={"pairs": self.trained_on.get("pairs")}, seed=self.cfg.seed,
                data_fingerprint=self.trained_on.get("data_fingerprint")))
        return str(folder)

    @classmethod
    def load(cls, folder: str | Path) -> "EmbedHeadScorer":
        from preflab.io.artifacts import load_state_dict

        cfg = EmbedHeadConfig(**json.loads((Path(folder) / HEAD_META).read_text())["config"])
        state = load_state_dict(folder, "head.pt")
        cache = EmbeddingCache.for_config(cfg)
        head = _head(state["0.weight"].shape[1], cfg)
        head.load_state_dict(state)
        return cls(cache, head, cfg)


def fit_head(fc: torch.Tensor, fr: torch.Tensor, pairs: Sequence[PreferencePair], cfg: EmbedHeadConfig,
             stop_at_loss: float | None = None) -> tuple[torch.nn.Module, int]:
    """A head trained by full-batch AdamW on the pairwise loss over fixed features of the chosen
    (``fc``) and rejected (``fr``) responses, with the trainer's loss options read the same way
    (:func:`~preflab.rm.losses.loss_columns`: margin, smoothing, weights; plus reward centering),
    and the number of epochs it ran: ``cfg.epochs``, or fewer once the training loss is at most
    ``stop_at_loss``. Shared by the cheap recipe and the strength ``heads`` mode."""
    from preflab.rm.losses import centering_penalty, loss_columns, pairwise_losses

    cols = loss_columns(pairs, cfg)
    torch.manual_seed(cfg.seed)
    head = _head(fc.shape[1], cfg)
    opt = torch.optim.AdamW(head.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    head.train()
    epoch = 0
    while epoch < cfg.epochs:
        if stop_at_loss is not None and _eval_loss(head, fc, fr, cols) <= stop_at_loss:
            break
        rc, rr = head(fc).squeeze(-1), head(fr).squeeze(-1)
        loss = pairwise_losses(rc - rr, cols.margin, cols.smoothing, cols.weight).sum() / cols.weight.sum()
        if cfg.center_rewards:
            loss = loss + centering_penalty(torch.cat([rc, rr]), cfg.center_rewards) / (2 * len(pairs))
        if not math.isfinite(value := float(loss.detach())):
            raise _diverged(f"the training loss of the head became {value} at epoch {epoch + 1} of "
                            f"{cfg.epochs}", cfg)
        opt.zero_grad()
        loss.backward()
        opt.step()
        epoch += 1
    if not all(bool(torch.isfinite(p).all()) for p in head.parameters()):
        raise _diverged(f"the head's weights hold NaN or Infinity after {epoch} epochs", cfg)
    if not math.isfinite(final := _eval_loss(head, fc, fr, cols)):  # rewards that overflow show here
        raise _diverged(f"the training loss of the head is {final} after {epoch} epochs", cfg)
    log.debug("head trained on %d pairs for %d epochs", len(pairs), epoch)
    return head.eval(), epoch


def _diverged(what: str, cfg: EmbedHeadConfig) -> Exception:
    from preflab.errors import TrainingDiverged

    return TrainingDiverged(f"{what}; training stopped and nothing was saved. Lower lr (now {cfg.lr:g})")


@torch.no_grad()
def _eval_loss(head: torch.nn.Module, fc: torch.Tensor, fr: torch.Tensor, cols) -> float:
    """The pairwise loss without dropout: what the trained head will score with."""
    from preflab.rm.losses import pairwise_losses

    head.eval()
    loss = pairwise_losses((head(fc) - head(fr)).squeeze(-1), cols.margin, cols.smoothing, cols.weight).sum() / cols.weight.sum()
    head.train()
    return float(loss)


def train_embed_head(pairs: Sequence[PreferencePair], cfg: EmbedHeadConfig | None = None,
                     cache: EmbeddingCache | None = None) -> EmbedHeadScorer:
    """Embed (cached), then fit a head on the features (:func:`fit_head`). Callers that pick a
    recipe use :func:`preflab.rm.recipes.train_scorer`."""
    from preflab.rm.save import data_fingerprint

    cfg = validate(cfg or EmbedHeadConfig())
    cache = cache or EmbeddingCache.for_config(cfg)
    feats = features(cache, [(p.prompt, r) for p in pairs for r in (p.chosen, p.rejected)])
    head, _ = fit_head(feats[0::2], feats[1::2], pairs, cfg)
    log.info("embedding head trained on %d pairs (cache hits %d, misses %d)", len(pairs), cache.hits, cache.misses)
    return EmbedHeadScorer(cache, head, cfg, {"pairs": len(pairs), "data_fingerprint": data_fingerprint(pairs)})
