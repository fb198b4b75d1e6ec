"""What a saved reward model needs so that the field's loaders score it exactly as preflab does,
and the check, at training start and at save time, that they do (docs/reward-models.md#outside-preflab).

TRL (``GRPOTrainer`` with a reward model path), vLLM and plain transformers all load
``AutoModelForSequenceClassification`` (``num_labels=1``) and the tokenizer saved beside it,
render a conversation with ``tokenizer.apply_chat_template`` and tokenize it without added
special tokens. preflab renders through the same chat template (:mod:`preflab.rm.render`), so
what is left to agree on is:

- **pooling**: transformers' decoder heads read the last token that is not the pad token, vLLM
  and preflab the last token. They agree unless a rendering ends with the pad token (pad = EOS
  and a template that ends with EOS), so :func:`standard_padding` picks a pad token no
  rendering ends with;
- **length**: other tools score the whole conversation; a saved model is scored by preflab at
  the backbone's own context length (:func:`context_length`), not at the training
  ``max_length``; only longer conversations are cut, by preflab's rule;
- **the template itself** must render the response (:func:`template_problems`, before any
  training).

:func:`export_problems` loads a saved folder back the way TRL does, with no preflab code, and
compares its rewards with preflab's, batched (right padding, as TRL) and one by one.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

from preflab.records import Message, text_prompt

log = logging.getLogger(__name__)

#: how close the rewards of a standard loader must be to preflab's
TOLERANCE = 1e-4
#: conversations the checks render: single and multi-turn, and an empty reply
CHECKS: list[tuple[list[Message], str]] = [
    (text_prompt("What is the capital of France?"), "The capital of France is Paris."),
    (text_prompt("Write a haiku about rain."), "Soft rain on the roof / ..."),
    ([Message(role="user", content="Hi there."), Message(role="assistant", content="Hello! How can I help?"),
      Message(role="user", content="Name a prime number.")], "Seven."),
    (text_prompt("Say nothing."), ""),
]
#: where the rule is written down for users of other tools
TRUNCATION_RULE = ("conversations longer than score_max_length tokens: the oldest exchanges (a user turn and the "
                   "assistant turn after it; system turns stay) are dropped until it fits; if the last prompt turn "
                   "and the response alone are too long, the response keeps its first score_max_length - 16 tokens "
                   "and the prompt its last tokens (docs/reward-models.md#truncation)")


def conversation(prompt: list[Message], response: str) -> list[dict[str, str]]:
    """A (prompt, response) as the message list a chat template renders."""
    return [{"role": m.role, "content": m.content} for m in prompt] + [{"role": "assistant", "content": response}]


def context_length(bb) -> int | None:
    """The longest input the backbone takes (its position limit, and the tokenizer's own limit
    when that is smaller), or None when neither says."""
    cfg = bb.hf_model.config
    cfg = cfg.get_text_config() if hasattr(cfg, "get_text_config") else cfg
    limits = [getattr(cfg, key, None) for key in ("max_position_embeddings", "n_positions", "max_seq_len")]
    limits = [v for v in limits if isinstance(v, int) and v > 0][:1]
    tok_limit = getattr(bb.tokenizer, "model_max_length", None)
    if isinstance(tok_limit, int) and 0 < tok_limit < 10**6:
        limits.append(tok_limit)
    return min(limits) if limits else None


def _tails(renderer) -> set[int]:
    return {renderer.encode_one(p, r).full(0)[-1] for p, r in CHECKS}


def standard_padding(bb, renderer) -> str | None:
    """Make the pad token one that no rendering ends with, so that transformers' "last token
    that is not padding" is the last token (what preflab and vLLM pool). Another special token
    the tokenizer already has is used when one fits, else a new ``<|pad|>`` token is added (its
    embedding is never read: padding is masked). Returns what was done, or None."""
    tok = bb.tokenizer
    tails = _tails(renderer)
    if tok.pad_token_id not in tails:
        return None
    old = tok.pad_token
    for name in ("unk_token", "bos_token", "eos_token", "sep_token", "cls_token", "mask_token"):
        token = getattr(tok, name, None)
        if token and tok.convert_tokens_to_ids(token) not in tails:
            tok.pad_token = token
            break
    else:
        tok.add_special_tokens({"pad_token": "<|pad|>"})
        bb.hf_model.resize_token_embeddings(len(tok))
    bb.hf_model.config.pad_token_id = tok.pad_token_id
    note = (f"pad token {old!r} ends every rendering, so transformers would read the reward one token early; "
            f"padding with {tok.pad_token!r} instead")
    log.info(note)
    return note


def template_problems(renderer) -> list[str]:
    """Why this chat template cannot score responses (empty when it can): the rendered
    conversation must hold the response, so that two replies get two inputs."""
    prompt = CHECKS[0][0]
    try:
        a, b = (renderer.encode_one(prompt, r) for r in ("The first reply.", "Another, different reply."))
    except Exception as err:  # noqa: BLE001 - a template that raises on a plain two-turn conversation
        return [f"the chat template cannot render a user turn and an assistant reply: {err}"]
    if a.full(0) == b.full(0):
        return ["the chat template does not render the assistant's reply (two different replies give the same "
                "tokens), so every response would get the same reward; give the tokenizer a template that renders "
                "assistant turns, or use --template plain"]
    return []


@contextlib.contextmanager
def _quiet_transformers():
    """No progress bars or load reports from a load that is only a check."""
    from transformers.utils import logging as hf_logging

    bars = hf_logging.is_progress_bar_enabled()
    level = hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        hf_logging.set_verbosity(level)
        if bars:
            hf_logging.enable_progress_bar()


def outside_rewards(folder: str | Path, conversations: list[list[dict[str, str]]], batched: bool = True) -> list[float]:
    """Rewards of a saved folder the way TRL's ``GRPOTrainer`` computes them for a reward model
    given as a path (``AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)``,
    the tokenizer from the same place, pad = EOS when there is none, ``apply_chat_template``,
    right padding, no added special tokens, ``logits[:, 0]``); ``batched=False``: one
    conversation per forward, with no padding at all (what vLLM sees)."""
    import torch
    import transformers

    with _quiet_transformers():
        model = transformers.AutoModelForSequenceClassification.from_pretrained(str(folder), num_labels=1).eval()
        tok = transformers.AutoTokenizer.from_pretrained(model.config._name_or_path)
    if tok.pad_token_id is None:
        tok.pad_token = tok.eos_token
    model.config.get_text_config().pad_token_id = tok.pad_token_id
    texts = [tok.apply_chat_template(c, tokenize=False) for c in conversations]
    groups = [texts] if batched else [[t] for t in texts]
    out: list[float] = []
    with torch.inference_mode():
        for group in groups:
            batch = tok(text=group, return_tensors="pt", padding=True, padding_side="right", add_special_tokens=False)
            out += model(**batch).logits[:, 0].float().tolist()
    return out


def export_problems(folder: str | Path, bb, renderer) -> dict[str, Any]:
    """Load ``folder`` (already written) as TRL does and compare, on :data:`CHECKS`, its token
    ids and rewards with preflab's. Returns ``{"standard": bool, "problems": [...], "max_difference": x}``."""
    from preflab.rm.scorer import RewardModelScorer

    problems: list[str] = []
    convs = [conversation(p, r) for p, r in CHECKS]
    tok = bb.tokenizer
    for (p, r), conv in zip(CHECKS, convs):
        ours = renderer.encode_one(p, r).full(0)
        theirs = tok(tok.apply_chat_template(conv, tokenize=False), add_special_tokens=False)["input_ids"]
        if ours != theirs:
            problems.append(f"preflab renders {len(ours)} tokens where apply_chat_template gives {len(theirs)}")
            break
    ours = RewardModelScorer(bb, renderer, batch_size=len(CHECKS)).score_many(CHECKS)
    worst = 0.0
    try:
        for how, batched in (("batched with right padding (TRL)", True), ("one by one (vLLM)", False)):
            theirs = outside_rewards(folder, convs, batched)
            diff = max(abs(a - b) for a, b in zip(ours, theirs))
            worst = max(worst, diff)
            if diff > TOLERANCE:
                problems.append(f"transformers scores {how} differ from preflab's by up to {diff:.3g}")
    except Exception as err:  # noqa: BLE001 - any failure to load is what an outside tool would meet
        problems.append(f"AutoModelForSequenceClassification + AutoTokenizer cannot score it: {err}")
    return {"standard": not problems, "problems": problems, "max_difference": worst,
            "checked": "AutoModelForSequenceClassification + apply_chat_template, batched (right padding) and one by one"}
