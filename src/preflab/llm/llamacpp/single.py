"""One sequence at a time (``#batch=1``): llama-cpp-python's ``create_chat_completion`` after
preflab's own canonical pre-fill of the prompt.

Why so: ``create_chat_completion(n=3)`` raises, so the client asks for one seeded sample per
call. All but the prompt's last token are pre-filled here in canonical blocks
(:mod:`preflab.llm.llamacpp.prefill`), keeping blocks the previous call computed the same way;
llama-cpp-python then finds this prefix and evaluates only the last token, so every sample
sees the same arithmetic whatever ran before. ``#reuse_prefix=true`` skips the pre-fill and
restores llama-cpp-python's own behaviour (faster on shared prefixes, not reproducible).
"""

from __future__ import annotations

from typing import Any

from preflab.llm.base import Completion, Options, PromptTooLongError, message_dicts
from preflab.llm.llamacpp.library import set_logits_all
from preflab.llm.llamacpp.prefill import canonical_blocks, reusable_prefix
from preflab.llm.llamacpp.template import ChatTemplate
from preflab.records import Message


class SingleDecoder:
    """Decodes on the model's own context; lives on the backend's worker thread."""

    def __init__(self, llama: Any, template: ChatTemplate, *, prefix_block: int, reuse_prefix: bool,
                 model_id: str) -> None:
        self.llama, self.template, self.model_id = llama, template, model_id
        self.prefix_block, self.reuse_prefix = prefix_block, reuse_prefix
        self.prefilled = 0  # length of the last canonical pre-fill still at the context's start

    def forget(self) -> None:
        """The context was reset (scoring): the next pre-fill starts from scratch."""
        self.prefilled = 0

    def generate(self, messages: list[Message], options: Options, seed: int | None) -> Completion:
        llama = self.llama
        kwargs: dict[str, Any] = dict(
            messages=message_dicts(messages), temperature=options.temperature, top_p=options.top_p,
            max_tokens=options.max_tokens, stop=options.stop or None, repeat_penalty=options.repeat_penalty,
        )
        if seed is not None:
            kwargs["seed"] = seed
        if not self.reuse_prefix:
            prompt = self.template.tokens(messages)
            if len(prompt) >= llama.n_ctx():
                raise PromptTooLongError(f"the prompt is {len(prompt)} tokens, the context holds {llama.n_ctx()}; "
                                         "shorten the prompt or load the model with a larger #n_ctx")
            self._prefill(prompt)
        if options.logprobs:
            kwargs.update(logprobs=True, top_logprobs=1)
            set_logits_all(llama, True)
        try:
            out = llama.create_chat_completion(**kwargs)
        finally:
            set_logits_all(llama, False)
        choice = out["choices"][0]
        logprobs = None
        if options.logprobs and choice.get("logprobs") and choice["logprobs"].get("content") is not None:
            logprobs = [float(t["logprob"]) for t in choice["logprobs"]["content"]]
        return Completion(
            text=choice["message"].get("content") or "", finish_reason=choice.get("finish_reason") or "stop",
            prompt_tokens=out["usage"]["prompt_tokens"], completion_tokens=out["usage"]["completion_tokens"],
            model=self.model_id, logprobs=logprobs,
        )

    def _prefill(self, tokens: list[int]) -> None:
        """Evaluate ``tokens[:-1]`` in canonical blocks, keeping what a previous pre-fill
        computed the same way (whole blocks; or everything, for the same prompt again)."""
        llama = self.llama
        target, previous = tokens[:-1], self.prefilled
        self.prefilled = 0
        have = list(llama.input_ids[:previous]) if llama.n_tokens >= previous else []
        keep = reusable_prefix(have, target, self.prefix_block)
        llama.n_tokens = keep  # eval() drops the KV cache from here on
        for a, b in canonical_blocks(keep, len(target), self.prefix_block, llama.n_batch):
            llama.eval(target[a:b])
        if not target:
            llama.reset()
        self.prefilled = len(target)
