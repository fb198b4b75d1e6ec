"""The model card (``README.md``) of a saved reward model, and the evaluation results in it.

Written at save time from the model's metadata (``preflab_rm.json`` or
``preflab_embed_head.json``): base model, recipe and options, training data fingerprint and
size, seed, lengths and rendering, the reward mean/std, and how to load the model without
preflab (transformers, TRL, vLLM) or, for the embedding head, that it is preflab-only.
``preflab eval`` adds its results (:func:`record_eval`): they are kept in
``preflab_evals.json`` beside the card, one entry per evaluation set, and the card is written
again. See docs/reward-models.md#the-model-card.
"""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CARD_FILE = "README.md"
EVALS_FILE = "preflab_evals.json"
#: the placeholder the card's code uses for the model folder (a test runs the code with it replaced)
MODEL_PLACEHOLDER = "path/to/this/folder"
#: the first line of the card's transformers code block (how a test finds it)
TRANSFORMERS_MARK = "# transformers: one reward per conversation"
FIT_MARK = "# preflab's rule for conversations longer than the model takes"

_TRANSFORMERS = '''
{mark}
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

MODEL = "{placeholder}"  # or its hub id once uploaded
tokenizer = AutoTokenizer.from_pretrained(MODEL)
model = AutoModelForSequenceClassification.from_pretrained(MODEL, num_labels=1).eval()


def rewards(conversations):
    """conversations: lists of {{"role", "content"}} messages, each ending with the reply to score."""
    texts = [tokenizer.apply_chat_template(c, tokenize=False) for c in conversations]
    batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False)
    with torch.inference_mode():
        return model(**batch).logits[:, 0].tolist()


print(rewards([[{{"role": "user", "content": "What is 2 + 2?"}}, {{"role": "assistant", "content": "4."}}]]))
'''.strip()

_FIT = '''
{mark}
def fit(conversation, max_length={limit}):
    """Drop the oldest exchanges (a user turn and the reply after it; system turns stay) until it fits."""
    def n_tokens(c):
        return len(tokenizer(tokenizer.apply_chat_template(c, tokenize=False), add_special_tokens=False).input_ids)

    conversation = list(conversation)
    while n_tokens(conversation) > max_length:
        turns = [i for i, m in enumerate(conversation[:-2]) if m["role"] != "system"]
        if not turns:
            break  # the last user turn and the reply alone are too long: preflab then cuts tokens
        i = turns[0]
        with_reply = i + 1 < len(conversation) - 2 and conversation[i + 1]["role"] == "assistant"
        del conversation[i:i + 2 if with_reply else i + 1]
    return conversation
'''.strip()

_TRL = '''
from trl import GRPOConfig, GRPOTrainer

# the prompts must be conversational (lists of messages): TRL then renders prompt + completion with
# this model's chat template, as preflab scored them (plain-text prompts are scored as raw text)
trainer = GRPOTrainer(model="your/policy", reward_funcs=MODEL, train_dataset=dataset,
                      args=GRPOConfig(output_dir="grpo"))
'''.strip()

_VLLM = '''
from transformers import AutoTokenizer
from vllm import LLM, PoolingParams

tokenizer = AutoTokenizer.from_pretrained(MODEL)
llm = LLM(model=MODEL, runner="pooling")
prompts = [{"prompt_token_ids": tokenizer(tokenizer.apply_chat_template(c, tokenize=False),
                                          add_special_tokens=False).input_ids} for c in conversations]
outputs = llm.classify(prompts, pooling_params=PoolingParams(use_activation=False))  # raw rewards, no sigmoid
rewards = [o.outputs.probs[0] for o in outputs]
'''.strip()


def read_evals(folder: str | Path) -> list[dict[str, Any]]:
    path = Path(folder) / EVALS_FILE
    if not path.exists():
        return []
    try:
        return list(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return []


def write_card(folder: str | Path, meta: dict[str, Any], evals: list[dict[str, Any]] | None = None) -> Path:
    """Write ``README.md`` into ``folder`` (atomically) and return its path."""
    from preflab.io.atomic import atomic_path

    target = Path(folder) / CARD_FILE
    with atomic_path(target) as tmp:
        tmp.write_text(card_text(meta, read_evals(folder) if evals is None else evals), encoding="utf-8")
    return target


def eval_entry(result: dict[str, Any], data: Any) -> dict[str, Any]:
    """What the card keeps of one ``preflab eval`` result (``data``: the evaluation input)."""
    from preflab.io import memory
    from preflab.provenance import file_fingerprint

    if isinstance(data, (str, Path)) and Path(data).exists():
        source = {"input": Path(data).name, "fingerprint": file_fingerprint(data)}
    elif isinstance(data, (str, Path)):  # a hub id (hf:allenai/reward-bench)
        source = {"input": str(data), "fingerprint": None}
    else:
        described = memory.describe(data) if memory.is_in_memory(data) else {}
        source = {"input": "<in memory>", "fingerprint": described.get("fingerprint")}
    if result.get("benchmark"):
        return {**source, **_benchmark_entry(result)}
    model = result.get("model", {})
    length = (model.get("length") or {}).get("length_controlled") or {}
    return {
        **source,
        "pairs": model.get("n"),
        "accuracy": model.get("accuracy"),
        "ci95": model.get("ci95"),
        "length_controlled": length.get("accuracy"),
        "baselines": {name: r.get("accuracy") for name, r in (result.get("baselines") or {}).items()},
        "evaluated": time.strftime("%Y-%m-%d", time.gmtime()),
    }


def _benchmark_entry(result: dict[str, Any]) -> dict[str, Any]:
    """What the card keeps of a RewardBench (v1: the sections, the prior sets) or RewardBench 2
    (the subsets) result: scores, the overall one None on a partial run."""
    model = result["model"]
    v1 = result["benchmark"] == "rewardbench"
    parts = ({**{k: v["score"] for k, v in model["sections"].items()},
              **({"Prior Sets": model["prior_sets"]["score"]} if model.get("prior_sets") else {})}
             if v1 else {k: v["accuracy"] for k, v in model["subsets"].items()})
    ci = (model["overall"] if v1 else model["average"]).get("ci95")
    return {"benchmark": result["benchmark"], "split": result.get("split"), "rows": model.get("rows"),
            "score": model.get("score"), "ci95": ci, "parts": parts, "complete": bool(model.get("complete")),
            "baselines": {name: r.get("score") for name, r in (result.get("baselines") or {}).items()},
            "evaluated": time.strftime("%Y-%m-%d", time.gmtime())}


def record_eval(folder: str | Path, entry: dict[str, Any], meta: dict[str, Any]) -> Path:
    """Add ``entry`` to the model's evaluations (replacing an earlier one of the same data) and
    write the card again. The evaluations file is listed in the folder's ownership marker, so
    training a new model into the folder replaces it rather than carrying it over."""
    from preflab.io.atomic import atomic_path
    from preflab.io.outputs import MARKER, write_marker

    folder = Path(folder)
    def key(e: dict[str, Any]) -> tuple:
        return e.get("input"), e.get("fingerprint"), e.get("benchmark"), e.get("split")

    evals = [e for e in read_evals(folder) if key(e) != key(entry)]
    evals.append(entry)
    with atomic_path(folder / EVALS_FILE) as tmp:
        tmp.write_text(json.dumps(evals, indent=2), encoding="utf-8")
    marker = folder / MARKER
    if marker.exists():
        entries = json.loads(marker.read_text(encoding="utf-8")).get("entries")
        if isinstance(entries, list) and EVALS_FILE not in entries:
            write_marker(folder, entries=sorted([*entries, EVALS_FILE]))
    return write_card(folder, meta, evals)


# -- the text ------------------------------------------------------------------------------
def _fmt(x: Any, digits: int = 3) -> str:
    return "–" if x is None else f"{x:.{digits}f}" if isinstance(x, float) else str(x)


def _base(meta: dict[str, Any]) -> str:
    name, hub = meta.get("base_model"), meta.get("base_model_id")
    if hub and hub != name:
        return f"[`{hub}`](https://huggingface.co/{hub}) (preflab alias `{name}`)"
    if hub:
        return f"[`{hub}`](https://huggingface.co/{hub})"
    return f"`{name}` (a local folder)"


def _front_matter(meta: dict[str, Any], standard: bool) -> str:
    lines = ["---"]
    if standard:
        lines += ["library_name: transformers", "pipeline_tag: text-classification"]
    if meta.get("base_model_id"):
        lines.append(f"base_model: {meta['base_model_id']}")
    lines += ["tags:", "- reward-model", "- preflab", "---", ""]
    return "\n".join(lines)


def _training_rows(meta: dict[str, Any]) -> list[tuple[str, str]]:
    cfg = meta.get("training_config", {})
    recipe = meta.get("recipe", "finetune")
    if recipe == "finetune":
        how = f"LoRA rank {cfg['lora_r']} (merged)" if cfg.get("lora_r") else "full fine-tuning"
        kind = "a decoder" if meta.get("is_decoder") else "an encoder"
        recipe_text = f"`finetune`: {how} of {kind}, Bradley–Terry loss"
    else:
        recipe_text = "`embed-head`: a small MLP head on frozen, mean-pooled encoder embeddings"
    data = f"{_fmt(meta.get('n_train_pairs'))} pairs, fingerprint `{meta.get('data_fingerprint')}`"
    files = [f"`{Path(v['path']).name}` (sha256 `{v.get('fingerprint')}`)" for k, v in (meta.get("inputs") or {}).items()
             if isinstance(v, dict) and "path" in v and k != "config"]
    if files:
        data += "; " + ", ".join(files)
    rows = [("base model", _base(meta)), ("recipe", recipe_text), ("training data", data), ("seed", _fmt(meta.get("seed")))]
    if recipe == "finetune":
        own = meta.get("template") == "chat"
        rows.append(("rendering", "the chat template saved with the tokenizer: " +
                     ("the base model's own" if own else "preflab's plain template (`User: …` / `Assistant: …` turns"
                      + (", `[CLS] prompt [SEP] reply [SEP]`, one segment)" if not meta.get("is_decoder") else ", BOS … EOS)"))))
        rows.append(("lengths", f"trained on up to {meta.get('max_length')} tokens; scored up to "
                                f"{meta.get('score_max_length')} tokens (the backbone's context)"))
    if meta.get("reward_mean") is not None:
        rows.append(("reward mean / std", f"{_fmt(meta['reward_mean'], 4)} / {_fmt(meta.get('reward_std'), 4)} over the "
                                          f"rewards of {meta.get('reward_stats_pairs')} training pairs' responses; "
                                          "normalised reward = (r − mean) / std"))
    if meta.get("best_val_accuracy") is not None:
        rows.append(("validation accuracy", _fmt(meta["best_val_accuracy"])))
    rows.append(("trained with", f"preflab {meta.get('preflab_version')}, transformers {meta.get('transformers_version', '–')}, "
                                 f"torch {meta.get('torch_version', '–')}"))
    return rows


def _options(meta: dict[str, Any]) -> str:
    skip = {"output_dir", "progress", "threads", "log_every", "cache_dir", "batch_size"}
    cfg = {k: v for k, v in (meta.get("training_config") or {}).items() if k not in skip}
    return "```json\n" + json.dumps(cfg, indent=2) + "\n```"


_BENCHMARK_NAMES = {"rewardbench": "RewardBench", "rewardbench2": "RewardBench 2"}
_BASELINE_NAMES = {"longer_response_wins": "longer wins", "all_tied": "all tied"}


def _benchmarks(evals: list[dict[str, Any]]) -> list[str]:
    lines = ["Benchmark scores, by each benchmark's own rules (RewardBench: the overall score is the mean of its "
             "four sections, the prior sets at half weight when scored; RewardBench 2: the mean of its six "
             "subsets; 95% bootstrap interval), from `preflab eval`:", "",
             "| benchmark | data | rows | score | 95% interval | sections / subsets | null baselines | evaluated |",
             "|---|---|---|---|---|---|---|---|"]
    for e in evals:
        ci = e.get("ci95")
        score = _fmt(e.get("score")) if e.get("score") is not None else "– (partial run)"
        if e.get("score") is not None and not e.get("complete"):
            score += " (partial run)"
        parts = ", ".join(f"{k} {_fmt(v)}" for k, v in (e.get("parts") or {}).items()) or "–"
        base = ", ".join(f"{_BASELINE_NAMES.get(k, k)} {_fmt(v)}" for k, v in (e.get("baselines") or {}).items()) or "–"
        data = f"`{e.get('input')}`" + (f" (`{e['fingerprint']}`)" if e.get("fingerprint") else "")
        lines.append(f"| {_BENCHMARK_NAMES.get(e['benchmark'], e['benchmark'])} | {data} | {_fmt(e.get('rows'))} "
                     f"| {score} | {f'[{ci[0]:.3f}, {ci[1]:.3f}]' if ci else '–'} | {parts} | {base} "
                     f"| {e.get('evaluated', '–')} |")
    return lines


def _evals(evals: list[dict[str, Any]]) -> str:
    if not evals:
        return "`preflab eval` has not been run on this model yet; its results are added here when it is.\n"
    bench = [e for e in evals if e.get("benchmark")]
    evals = [e for e in evals if not e.get("benchmark")]
    if not evals:
        return "\n".join(_benchmarks(bench)) + "\n"
    lines = ["Pairwise accuracy on held-out preference pairs (ties count half; 95% bootstrap interval), from "
             "`preflab eval`:", "", "| data | pairs | accuracy | 95% interval | length-controlled | null baselines | evaluated |",
             "|---|---|---|---|---|---|---|"]
    for e in evals:
        ci = e.get("ci95")
        ci_text = f"[{ci[0]:.3f}, {ci[1]:.3f}]" if ci else "–"
        base = ", ".join(f"{k} {_fmt(v)}" for k, v in (e.get("baselines") or {}).items()) or "–"
        lines.append(f"| `{e.get('input')}` (`{e.get('fingerprint')}`) | {_fmt(e.get('pairs'))} | {_fmt(e.get('accuracy'))} "
                     f"| {ci_text} | {_fmt(e.get('length_controlled'))} | {base} | {e.get('evaluated', '–')} |")
    if bench:
        lines += ["", *_benchmarks(bench)]
    return "\n".join(lines) + "\n"


def _outside(meta: dict[str, Any]) -> str:
    export = meta.get("export") or {}
    limit = meta.get("score_max_length")
    parts = ["## Use it without preflab", ""]
    if not export.get("standard", False):
        parts += ["**This checkpoint does not score the same outside preflab.** When it was saved, loading it back "
                  "with `AutoModelForSequenceClassification` and `apply_chat_template` gave other rewards: "
                  + "; ".join(export.get("problems") or ["not checked"]) + ". Score it with preflab "
                  "(below); the lines here load it, but their rewards differ.", ""]
    parts += [
        "It is a standard `AutoModelForSequenceClassification` with one output (`num_labels=1`); its tokenizer's "
        "chat template renders a conversation exactly as preflab scored it. Render the whole conversation, reply "
        "included, with `apply_chat_template` and tokenize it **without** added special tokens (the template "
        "writes them).", "",
        "### transformers", "", "```python", _TRANSFORMERS.format(mark=TRANSFORMERS_MARK, placeholder=MODEL_PLACEHOLDER),
        "```", "",
        f"Conversations longer than {limit} tokens (the backbone's context) cannot be read whole: transformers and "
        "TRL fail on them (or, for a model with a longer position range, read past what it was trained on) and "
        "vLLM refuses them. preflab drops their oldest exchanges until they fit; to get preflab's rewards for "
        "them, pass them through these lines first, `rewards([fit(c) for c in conversations])`:", "",
        "```python", _FIT.format(mark=FIT_MARK, limit=limit), "```", "",
        "### TRL", "",
        "A reward model given to `GRPOTrainer` as a path is loaded and scored exactly as above (right padding, "
        "no added special tokens, `logits[:, 0]`):", "", "```python", _TRL, "```", "",
        "### vLLM", "",
        "As a pooling model (vLLM 0.11 or later; not run in preflab's tests). Pass token ids so that no special "
        "tokens are added twice, and turn the activation off: `classify` applies a sigmoid to a single output "
        "by default.", "", "```python", _VLLM, "```", "",
    ]
    return "\n".join(parts)


def _preflab_only() -> str:
    return "\n".join([
        "## preflab-only", "",
        "**This model cannot be loaded by transformers, TRL or vLLM.** It is a small head on features that "
        "preflab computes (the frozen encoder's embedding of the reply, its product with the embedding of the "
        "last three prompt turns, and the reply's length in words), not a sequence-classification checkpoint. "
        "For a checkpoint other tools load, train without `--cheap` (the `finetune` recipe).", "",
    ])


def card_text(meta: dict[str, Any], evals: list[dict[str, Any]]) -> str:
    recipe = meta.get("recipe", "finetune")
    rows = "\n".join(f"| {k} | {v} |" for k, v in _training_rows(meta))
    parts = [
        _front_matter(meta, recipe == "finetune"),
        "# Reward model trained with preflab", "",
        "It reads a conversation and returns one number: higher for a better last assistant reply. "
        "Rewards are comparable between replies to the same prompt.", "",
        "## Training", "", "| | |", "|---|---|", rows, "", "Options:", "", _options(meta), "",
        "## Evaluation", "", _evals(evals),
        _outside(meta) if recipe == "finetune" else _preflab_only(),
        "## Use it with preflab", "",
        "```bash", "preflab score path/to/this/folder pairs.jsonl -o scored.jsonl",
        "preflab eval path/to/this/folder held_out.jsonl -o eval/   # adds its results to this card", "```", "",
        "```python", "from preflab import text_prompt", "from preflab.rm import load_scorer", "",
        "scorer = load_scorer(\"path/to/this/folder\")  # normalize=True: (r - mean) / std",
        "scorer.score(text_prompt(\"What is 2 + 2?\"), [\"4.\", \"5.\"])", "```", "",
    ]
    return "\n".join(parts)
