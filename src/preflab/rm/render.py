"""Turn (prompt, response) into token ids: a shared prompt part and a response part.

Why split: chosen and rejected share the prompt, so a decoder RM can compute it once (prefix
sharing), and truncation can cut the prompt — never the response — by whole turns.

Templates
- ``chat``: the tokenizer's chat template. Prompt part = the template with the generation
  prompt; response part = the rest of the full conversation (e.g. ``yo<|im_end|>\\n``).
- ``plain`` (models without a chat template): turns as ``User: …`` / ``Assistant: …`` lines
  joined by blank lines, ending in ``Assistant:``; the response follows after a space. Encoders
  get their special tokens as a text pair (``[CLS] prompt [SEP] response [SEP]``, segment ids
  0 / 1); decoders get BOS (if any) in front and EOS after the response.

>>> PLAIN_ROLES["user"], PLAIN_ROLES["assistant"]
('User', 'Assistant')

Truncation (``max_length`` counts every token): the oldest non-system turns are dropped first
(whole user/assistant turns), then the remaining prompt is cut from the left (its end is kept);
a response alone longer than the budget keeps its beginning. Both responses of a pair are
rendered with the same prompt (the one that fits the longer response) so that a comparison is
always made on one context.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflab.records import Message

PLAIN_ROLES = {"system": "System", "user": "User", "assistant": "Assistant"}
TEMPLATES = ("auto", "chat", "plain")
#: the prompt keeps at least this many tokens when a response is very long
MIN_PROMPT_TOKENS = 16


@dataclass(frozen=True)
class Encoded:
    """One rendered pair: shared prompt ids and one id list per response."""

    prompt: list[int]
    responses: tuple[list[int], ...]
    truncated: bool = False

    def full(self, i: int) -> list[int]:
        return self.prompt + self.responses[i]


def plain_text(prompt: list[Message]) -> str:
    return "\n\n".join(f"{PLAIN_ROLES[m.role]}: {m.content}" for m in prompt) + "\n\nAssistant:"


class Renderer:
    """Renders and truncates for one tokenizer. ``template``: auto | chat | plain."""

    def __init__(self, tokenizer, max_length: int, template: str = "auto", is_decoder: bool = True) -> None:
        from preflab.errors import ConfigError

        if template not in TEMPLATES:
            raise ConfigError(f"template must be one of {', '.join(TEMPLATES)}, got {template!r}")
        has_chat = bool(getattr(tokenizer, "chat_template", None))
        if template == "chat" and not has_chat:
            raise ConfigError("template 'chat' asked for, but the tokenizer has no chat template; use --template plain")
        if max_length < 2 * MIN_PROMPT_TOKENS:
            raise ConfigError(f"max_length {max_length} is too small; use at least {2 * MIN_PROMPT_TOKENS}")
        self.tok = tokenizer
        self.max_length = max_length
        self.template = ("chat" if has_chat else "plain") if template == "auto" else template
        self.is_decoder = is_decoder

    # -- the two parts -------------------------------------------------------------------
    def _ids(self, text: str) -> list[int]:
        # verbose=False: long texts are expected here (they are cut turn by turn afterwards), so the
        # tokenizer's "longer than the maximum sequence length" warning would only be noise
        return self.tok(text, add_special_tokens=False, verbose=False)["input_ids"]

    def _prompt_part(self, prompt: list[Message]) -> list[int]:
        if self.template == "chat":
            text = self.tok.apply_chat_template([m.model_dump() for m in prompt], tokenize=False, add_generation_prompt=True)
            return self._ids(text)
        ids = self._ids(plain_text(prompt))
        if not self.is_decoder:
            return [self.tok.cls_token_id, *ids, self.tok.sep_token_id] if self.tok.cls_token_id is not None else ids
        bos = getattr(self.tok, "bos_token_id", None)
        return ([bos] if bos is not None and bos != self.tok.eos_token_id else []) + ids

    def _response_part(self, prompt: list[Message], response: str) -> list[int]:
        if self.template == "chat":
            msgs = [m.model_dump() for m in prompt]
            head = self.tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
            full = self.tok.apply_chat_template(msgs + [{"role": "assistant", "content": response}], tokenize=False)
            if full.startswith(head):
                return self._ids(full[len(head):])
            return self._ids(response) + ([self.tok.eos_token_id] if self.tok.eos_token_id is not None else [])
        ids = self._ids(" " + response)
        if not self.is_decoder:
            return ids + ([self.tok.sep_token_id] if self.tok.sep_token_id is not None else [])
        return ids + ([self.tok.eos_token_id] if self.tok.eos_token_id is not None else [])

    # -- truncation ----------------------------------------------------------------------
    def _fit_prompt(self, prompt: list[Message], budget: int) -> tuple[list[int], bool]:
        ids = self._prompt_part(prompt)
        cut = False
        turns = list(prompt)
        while len(ids) > budget:
            droppable = [i for i, m in enumerate(turns[:-1]) if m.role != "system"]
            if not droppable:
                break
            first = droppable[0]
            # drop a whole exchange: the oldest user turn and the assistant turn after it
            stop = first + 2 if first + 1 < len(turns) - 1 and turns[first + 1].role == "assistant" else first + 1
            turns = turns[:first] + turns[stop:]
            ids = self._prompt_part(turns)
            cut = True
        if len(ids) > budget:  # the last turn alone is too long: keep its end (and CLS/BOS)
            special = {self.tok.cls_token_id, getattr(self.tok, "bos_token_id", None)} - {None}
            head = ids[:1] if ids and ids[0] in special else []
            ids = head + ids[len(ids) - budget + len(head):]
            cut = True
        return ids, cut

    def encode(self, prompt: list[Message], responses: list[str] | tuple[str, ...]) -> Encoded:
        """Render one prompt with several responses on a common (truncated) prompt."""
        resp = [self._response_part(prompt, r) for r in responses]
        cut = False
        limit = self.max_length - MIN_PROMPT_TOKENS
        for i, r in enumerate(resp):
            if len(r) > limit:
                resp[i], cut = r[:limit], True
        budget = self.max_length - max(len(r) for r in resp)
        ids, prompt_cut = self._fit_prompt(prompt, budget)
        return Encoded(prompt=ids, responses=tuple(resp), truncated=cut or prompt_cut)

    def encode_one(self, prompt: list[Message], response: str) -> Encoded:
        return self.encode(prompt, [response])
