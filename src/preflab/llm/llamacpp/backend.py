"""The llama.cpp backend (spec ``llamacpp``): its options, its model id, and the glue that puts
decoding and scoring on the one worker thread.

The model id names what fixes the arithmetic: the weights file (:func:`file_model_id`), the
Q8_0 copy when decoding from one, the pre-fill layout, and the options that change a prompt
or its pre-fill when they are not the default (:func:`arithmetic_tags`). The block size changes the last bits
for some prompts (llama.cpp's kernels for a block depend on its rows), so it is part of the id
unless it is ``UNTAGGED_PREFIX_BLOCK`` (8), the layout before 64 became the default; 64-token
blocks pre-fill HH prompts at ~1.7x the speed of 8-token ones (see
``benchmarks/gen_batched_steps.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from preflab.errors import ConfigError
from preflab.llm.base import Completion, LogLikelihood, Options
from preflab.llm.embedded import default_model_path
from preflab.llm.llamacpp.batch import BatchDecoder
from preflab.llm.llamacpp.library import import_llama_cpp, set_logits_all
from preflab.llm.llamacpp.scoring import encode_responses, loglikelihoods
from preflab.llm.llamacpp.single import SingleDecoder
from preflab.llm.llamacpp.template import ChatTemplate
from preflab.llm.llamacpp.worker import Worker
from preflab.llm.spec import check_params
from preflab.records import Message

log = logging.getLogger(__name__)

#: The pre-fill layout of model ids without a ``+prefillN`` tag (the only one before the tag existed).
UNTAGGED_PREFIX_BLOCK = 8


def file_model_id(path: Path) -> str:
    """``name@size-sha256(first 1 MiB)``: changes when the weights file does (the GGUF header
    holds the metadata and tensor layout), cheap even for multi-GB files."""
    with path.open("rb") as fh:
        head = hashlib.sha256(fh.read(1 << 20)).hexdigest()[:12]
    return f"{path.name}@{path.stat().st_size}-{head}"


def arithmetic_tags(params: "LlamaCppParams") -> str:
    """The other options that change what a seeded sample is, tagged only when not their
    default (so the default's cache entries stay valid): the chat format renders another
    prompt, ``n_batch`` cuts the pre-fill blocks into other pieces, ``reuse_prefix`` evaluates
    a prompt's tail in a batch of another shape.

    >>> arithmetic_tags(LlamaCppParams()), arithmetic_tags(LlamaCppParams(chat_format="chatml", n_batch=64))
    ('', '+chat-chatml+nbatch64')
    """
    default = LlamaCppParams.model_fields
    tags = [f"+chat-{params.chat_format}" if params.chat_format else "",
            "" if params.n_batch == default["n_batch"].default else f"+nbatch{params.n_batch}",
            "+reuse-prefix" if params.reuse_prefix else ""]
    return "".join(tags)


class LlamaCppParams(BaseModel):
    model_config = ConfigDict(extra="forbid")
    n_ctx: int = Field(4096, ge=64)
    n_threads: int | None = Field(None, ge=1, description="Default: all cores, at most 8.")
    n_batch: int = Field(512, ge=1)
    chat_format: str | None = None
    omp_passive: bool = Field(True, description="Set OMP_WAIT_POLICY=PASSIVE before llama.cpp loads (see preflab.llm.llamacpp.library).")
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
            "" if self.params.prefix_block == UNTAGGED_PREFIX_BLOCK else f"+prefill{self.params.prefix_block}"
        ) + arithmetic_tags(self.params)
        self._executor = Worker()
        self._llama: Any = None
        self._template: ChatTemplate | None = None
        self._single: SingleDecoder | None = None
        # batched decoding (#batch > 1): calls queue on the worker, its batch decoder takes them
        self.max_concurrency = self.params.batch  # one sequence per call; 1 = one model, one thread
        self.batching = {"batch": self.params.batch, "groups": "in flight, continuous; a sample does not depend on them"} \
            if self.params.batch > 1 else {"batch": 1}
        self._decoder: BatchDecoder | None = None

    # Everything below that touches self._llama runs on the worker thread.
    def _model(self) -> Any:
        if self._llama is None:
            if self.params.batch > 1:  # keeps a sample independent of its batch (see llamacpp.batch)
                os.environ.setdefault("GGML_CPU_TILED_MM", "0")
            llama_cpp = import_llama_cpp(self.params.omp_passive)
            p = self.params
            threads = self._threads()
            path = self.path
            if self.q8_0:
                from preflab.llm.llamacpp.requantize import requantized_q8_0

                path = requantized_q8_0(self.path, file_model_id(self.path), threads, p.verbose)
            log.info("loading %s (n_ctx=%d, threads=%d)", path, p.n_ctx, threads)
            self._llama = llama_cpp.Llama(
                model_path=str(path), n_ctx=p.n_ctx, n_threads=threads, n_batch=p.n_batch,
                logits_all=True, chat_format=p.chat_format, verbose=p.verbose,
            )
            set_logits_all(self._llama, False)
            self._template = ChatTemplate(self._llama, p.chat_format, self.path.name)
            self._single = SingleDecoder(self._llama, self._template, prefix_block=p.prefix_block,
                                         reuse_prefix=p.reuse_prefix, model_id=self.model_id)
        return self._llama

    def _threads(self) -> int:
        return self.params.n_threads or max(1, min(os.cpu_count() or 1, 8))

    def load(self) -> None:
        """Load the model now (else on first use)."""
        self._executor.submit(self._model).result()

    def _prompt_tokens(self, messages: list[Message]) -> list[int]:
        self._model()
        return self._template.tokens(messages)

    def _generate_one(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        self._model()
        return self._single.generate(messages, options, seed)

    async def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        if self.params.batch == 1:
            return await self._executor.call(self._generate_one, messages, options, seed)
        return await self._executor.queue(messages, options, seed, lambda: self._batch_decoder().run())

    def _batch_decoder(self) -> BatchDecoder:
        if self._decoder is None:
            llama, p = self._model(), self.params
            self._decoder = BatchDecoder(llama, source=self._executor.next_job, tokenize=self._prompt_tokens,
                                         n_seq=p.batch, n_ctx_seq=p.n_ctx, n_threads=self._threads(),
                                         n_batch=min(p.n_ctx, p.n_batch), prefix_block=p.prefix_block,
                                         model_id=self.model_id)
        return self._decoder

    def _loglikelihood_sync(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        llama = self._model()
        prompt = self._template.tokens(messages)
        encoded = encode_responses(llama, prompt, responses, self.path)
        try:
            return loglikelihoods(llama, prompt, encoded)
        finally:
            self._single.forget()  # scoring reset the context

    async def loglikelihood(self, messages: list[Message], responses: list[str]) -> list[LogLikelihood]:
        return await self._executor.call(self._loglikelihood_sync, messages, responses)

    async def aclose(self) -> None:
        def _free() -> None:
            if self._decoder is not None:
                self._decoder.close()
                self._decoder = None
            if self._llama is not None:
                self._llama.close()
                self._llama = None

        await self._executor.call(_free)
        self._executor.shutdown(wait=True)


def create(target: str | None, params: dict[str, str]) -> LlamaCppBackend:
    return LlamaCppBackend(target, check_params(LlamaCppParams, "llamacpp", params))
