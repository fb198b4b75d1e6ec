"""Batched decoding (``#batch=K``, the default 8): many sequences per ``llama_decode``.

One decode step evaluates one token of every live sequence, so the weights are read once for
all of them (a 135M model on 2 cores is bound by memory traffic, not arithmetic). Sequences
join and leave between steps (continuous batching): a slot freed by a finished sample takes
the next queued one at once.

Why the results do not depend on the batch (tested bit for bit in
``tests/llm/test_llamacpp_batch.py``; this is what keeps runs reproducible and resumable):

* The context is made with ``n_seq_max = batch`` and ``kv_unified = False``: every sequence
  has its own KV stream of ``n_ctx`` cells, and attends only over it, one query row at a time
  (``n = 1``), as the one-sequence path does. A unified cache would attend over all cells with
  ``n = live sequences`` query rows, and llama.cpp switches matrix kernels (vec_dot for one
  row, tinyBLAS for two or more) on that number.
* The weight matmuls give each output element from its own dot product whatever the batch
  size for SmolLM2's Q4_1 weights (vec_dot on every row count), and for its Q8_0 output
  matrix the tinyBLAS kernel llama.cpp takes from 2 rows up gives the same bits as the
  one-row vec_dot (measured: the tests compare log-probabilities to the last bit). K-quant
  weights switch to a tiled kernel from 8 rows; ``GGML_CPU_TILED_MM=0`` is set before
  llama.cpp loads so they stay on the per-row kernel (not tested: the shipped model has none;
  test another GGUF with ``tests/llm/test_llamacpp_batch.py`` before relying on it).
* Prompts are pre-filled exactly as the one-sequence path (:mod:`preflab.llm.llamacpp.single`)
  does: all but the last token, in canonical blocks at fixed positions
  (:mod:`preflab.llm.llamacpp.prefill`), each into its own stream; whole blocks computed for an
  earlier prompt are copied from that stream (``llama_memory_seq_cp`` across streams, then
  ``llama_memory_seq_rm`` of the tail), so the n samples of one prompt pay for it once.
* Each sequence samples from its own chain, seeded with its own seed, built like
  llama-cpp-python's (repeat penalty over the last ``last_n_tokens_size`` generated tokens,
  top-k 40, top-p, min-p 0.05, temperature, dist), so a sample equals the one the one-sequence
  path draws (same tokens, same finish reason, same usage).

So a sample depends only on its request and seed: the same bytes whether it was decoded alone,
with the other samples of its prompt, among other prompts, or after a resume.

Capacity: each sequence owns ``n_ctx`` cells, so a batch never overflows the context
(llama_decode cannot fail for lack of room); a prompt longer than ``n_ctx`` fails alone with
:class:`~preflab.llm.base.PromptTooLongError`, and ``max_tokens`` is cut to what is left, as
llama-cpp-python does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from preflab.llm.base import BackendError, Completion, Options, PromptTooLongError
from preflab.llm.llamacpp.prefill import canonical_blocks, reusable_prefix
from preflab.records import Message

TOP_K, MIN_P = 40, 0.05  # llama-cpp-python's create_chat_completion defaults (the one-sequence path)


@dataclass
class Job:
    """One sample to decode. ``done`` is called on the worker thread with the result;
    ``prompt`` (the chat-templated tokens) is filled in on the worker thread."""

    messages: list[Message]
    options: Options
    seed: int | None
    done: Callable[[Completion | BaseException], None]
    prompt: list[int] = field(default_factory=list)


@dataclass
class _Slot:
    """One KV stream (sequence id = slot index) and the sequence decoding in it, if any."""

    index: int
    prefill: list[int] = field(default_factory=list)  # canonically pre-filled tokens at 0..len-1
    job: Job | None = None
    chain: Any = None
    pos: int = 0
    next_token: int = 0
    max_tokens: int = 0
    tokens: list[int] = field(default_factory=list)
    text: bytes = b""
    logprobs: list[float] | None = None


class BatchDecoder:
    """Owns a llama.cpp context with ``n_seq`` streams; lives on the backend's worker thread.

    :meth:`run` takes jobs from ``source`` (thread-safe, returns None when empty) and returns
    when nothing is queued or decoding; ``tokenize(messages)`` gives a job's prompt tokens.
    """

    def __init__(self, llama: Any, *, source: Callable[[], Job | None], tokenize: Callable[[list[Message]], list[int]],
                 n_seq: int, n_ctx_seq: int, n_threads: int, n_batch: int, prefix_block: int, model_id: str) -> None:
        import llama_cpp

        self._lib, self.llama, self.model_id = llama_cpp, llama, model_id
        self.source, self.tokenize = source, tokenize
        self.n_seq, self.prefix_block = n_seq, prefix_block
        self.n_batch = n_batch
        p = llama_cpp.llama_context_default_params()
        p.n_ctx, p.n_seq_max, p.kv_unified = n_ctx_seq * n_seq, n_seq, False
        p.n_batch = p.n_ubatch = max(n_batch, n_seq)
        p.n_threads = p.n_threads_batch = n_threads
        p.flash_attn_type = llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED  # as the one-sequence path
        p.no_perf = True
        self.ctx = llama_cpp.llama_init_from_model(llama._model.model, p)
        if not self.ctx:
            raise BackendError(f"llama.cpp could not make a context for {n_seq} sequences of {n_ctx_seq} tokens; "
                               "lower #batch or #n_ctx")
        # llama.cpp rounds a sequence's cells up to a multiple of 256, as it does the one-sequence
        # context: the limits below are the ones the one-at-a-time path applies
        self.n_ctx_seq = llama_cpp.llama_n_ctx_seq(self.ctx)
        self.mem = llama_cpp.llama_get_memory(self.ctx)
        self.vocab = llama._model.vocab
        self.n_vocab = llama_cpp.llama_vocab_n_tokens(self.vocab)
        self.batch = llama_cpp.llama_batch_init(max(n_batch, n_seq), 0, 1)
        self.slots = [_Slot(i) for i in range(n_seq)]
        self.steps = 0  # decode steps run (for tests and benchmarks)
        self.prefill_tokens = 0  # prompt tokens evaluated in pre-fills (a reused block is not counted)

    # -- the loop ----------------------------------------------------------------------------
    def run(self) -> None:
        """Decode until the queue is empty and every sequence has finished."""
        try:
            while True:
                self._admit()
                live = [s for s in self.slots if s.job is not None]
                if not live:
                    return
                self._step(live)
        except BaseException as exc:  # an unexpected failure ends every sequence in flight, not the worker
            for slot in self.slots:
                if slot.job is not None:
                    job = slot.job
                    self._release(slot)
                    job.done(exc)
            raise

    def _admit(self) -> None:
        while any(s.job is None for s in self.slots):
            job = self.source()
            if job is None:
                return
            try:
                job.prompt = self.tokenize(job.messages)
            except Exception as exc:
                job.done(exc)
                continue
            target = job.prompt[:-1]
            free = [s for s in self.slots if s.job is None]  # the one holding most of the prompt, else the first
            slot = max(free, key=lambda s: (reusable_prefix(s.prefill, target, self.prefix_block), -s.index))
            try:
                self._start(slot, job)
            except Exception as exc:  # this request only; the others go on
                self._release(slot)
                job.done(exc)

    def _start(self, slot: _Slot, job: Job) -> None:
        prompt, opts = job.prompt, job.options
        if not prompt:
            raise BackendError("empty prompt: the chat template produced no tokens")
        if len(prompt) >= self.n_ctx_seq:
            raise PromptTooLongError(f"the prompt is {len(prompt)} tokens, the context holds {self.n_ctx_seq} per sequence; "
                                     "shorten the prompt or load the model with a larger #n_ctx")
        slot.job, slot.tokens, slot.text = job, [], b""
        slot.max_tokens = min(opts.max_tokens, self.n_ctx_seq - len(prompt))
        slot.logprobs = [] if opts.logprobs else None
        self._prefill(slot, prompt[:-1])
        slot.pos, slot.next_token = len(prompt) - 1, prompt[-1]
        slot.chain = self._chain(opts, job.seed)

    def _prefill(self, slot: _Slot, target: list[int]) -> None:
        lib, first = self._lib, self.prefix_block
        best, keep = slot, reusable_prefix(slot.prefill, target, first)
        for other in self.slots:
            if other is not slot:
                k = reusable_prefix(other.prefill, target, first)
                if k > keep:
                    best, keep = other, k
        if best is not slot:
            lib.llama_memory_seq_cp(self.mem, best.index, slot.index, -1, -1)  # whole stream, then cut
        lib.llama_memory_seq_rm(self.mem, slot.index, keep, -1)
        slot.prefill = target[:keep]
        self.prefill_tokens += len(target) - keep
        for a, b in canonical_blocks(keep, len(target), first, self.n_batch):
            self._fill(target[a:b], a, slot.index, [False] * (b - a - 1) + [True])
            self._decode(b - a)
        slot.prefill = list(target)

    def _fill(self, tokens: list[int], start: int | list[int], seqs: int | list[int], logits: list[bool]) -> None:
        batch = self.batch
        batch.n_tokens = len(tokens)
        for i, tok in enumerate(tokens):
            batch.token[i] = tok
            batch.pos[i] = start + i if isinstance(start, int) else start[i]
            batch.n_seq_id[i] = 1
            batch.seq_id[i][0] = seqs if isinstance(seqs, int) else seqs[i]
            batch.logits[i] = logits[i]

    def _decode(self, n: int) -> None:
        rc = self._lib.llama_decode(self.ctx, self.batch)
        if rc != 0:
            raise BackendError(f"llama_decode failed (code {rc}) on a batch of {n} tokens")

    def _chain(self, opts: Options, seed: int | None) -> Any:
        lib = self._lib
        chain = lib.llama_sampler_chain_init(lib.llama_sampler_chain_default_params())
        if opts.penalises_repeats:  # first, as llama-cpp-python adds it (there always: a no-op at 1.0)
            # its history is what the chain accepts: llama_sampler_sample accepts each sampled
            # token, so it counts generated tokens only, never the prompt, as the one-sequence path
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_penalties(
                self.n_vocab, self.llama.last_n_tokens_size, opts.repeat_penalty, 0.0, 0.0))
        if opts.temperature == 0:
            lib.llama_sampler_chain_add(chain, lib.llama_sampler_init_greedy())
            return chain
        for sampler in (lib.llama_sampler_init_top_k(TOP_K), lib.llama_sampler_init_top_p(opts.top_p, 1),
                        lib.llama_sampler_init_min_p(MIN_P, 1), lib.llama_sampler_init_temp(opts.temperature),
                        lib.llama_sampler_init_dist(seed if seed is not None else random.SystemRandom().getrandbits(31))):
            lib.llama_sampler_chain_add(chain, sampler)
        return chain

    def _step(self, live: list[_Slot]) -> None:
        self._fill([s.next_token for s in live], [s.pos for s in live], [s.index for s in live], [True] * len(live))
        try:
            self._decode(len(live))
        except BackendError as exc:
            for slot in live:
                job = slot.job
                self._release(slot)
                job.done(exc)
            return
        self.steps += 1
        for i, slot in enumerate(live):
            row = None
            if slot.logprobs is not None:  # the raw logits, before the sampler chain touches a copy
                row = np.ctypeslib.as_array(self._lib.llama_get_logits_ith(self.ctx, i), shape=(self.n_vocab,)).copy()
            token = self._lib.llama_sampler_sample(slot.chain, self.ctx, i)
            if row is not None:  # llama-cpp-python's own float32 log-softmax: the one-at-a-time path's numbers
                slot.logprobs.append(float(self._lib.Llama.logits_to_logprobs(row)[token]))
            self._advance(slot, token)

    def _advance(self, slot: _Slot, token: int) -> None:
        slot.pos += 1
        if self._lib.llama_vocab_is_eog(self.vocab, token):
            if slot.logprobs is not None:
                slot.logprobs.pop()  # the end-of-generation token is not part of the text
            return self._finish(slot, slot.text, "stop")
        slot.tokens.append(token)
        slot.text += self.llama.detokenize([token])
        for stop in slot.job.options.stop:
            cut = slot.text.find(stop.encode("utf-8"))
            if cut >= 0:
                return self._finish(slot, slot.text[:cut], "stop")
        if len(slot.tokens) >= slot.max_tokens:
            return self._finish(slot, slot.text, "length")
        slot.next_token = token

    def _finish(self, slot: _Slot, text: bytes, reason: str) -> None:
        job = slot.job
        out = Completion(text=text.decode("utf-8", errors="ignore"), finish_reason=reason,
                         prompt_tokens=len(job.prompt), completion_tokens=len(slot.tokens), model=self.model_id,
                         logprobs=slot.logprobs)
        self._release(slot)
        job.done(out)

    def _release(self, slot: _Slot) -> None:
        if slot.chain is not None:
            self._lib.llama_sampler_free(slot.chain)
        slot.job, slot.chain = None, None

    def close(self) -> None:
        for slot in self.slots:
            self._release(slot)
        if self.ctx:
            self._lib.llama_batch_free(self.batch)
            self._lib.llama_free(self.ctx)
            self.ctx = None
