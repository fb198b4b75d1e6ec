"""Turn (prompt, response) into token ids, always through the tokenizer's chat template, so that
a saved reward model scores exactly what ``tokenizer.apply_chat_template`` renders (TRL, vLLM and
plain transformers render a conversation that way; see docs/reward-models.md#outside-preflab).

One rendering: the whole conversation (prompt turns + the response as the last assistant turn)
is rendered by the chat template and tokenized in one piece without added special tokens (the
template writes them), as ``tokenizer(tokenizer.apply_chat_template(messages, tokenize=False),
add_special_tokens=False)`` does. The ids are then split into a shared prompt part (the longest
prefix shared with the prompt rendered with its generation prompt, and with the other responses)
and one response part per response: chosen and rejected share the prompt, so a decoder RM can
compute it once (prefix sharing); the split never changes the ids.

Templates
- ``chat``: the tokenizer's own chat template.
- ``plain`` (models without a chat template, or asked for): preflab writes one onto the
  tokenizer (:func:`plain_chat_template`), so a saved model carries it. Turns are
  ``User: …`` / ``Assistant: …`` lines joined by blank lines; the response follows
  ``Assistant:``. Encoders get ``[CLS] prompt [SEP] response [SEP]`` as one segment (every
  token type id 0, which is what a tokenizer gives one text); decoders get BOS (if any, and not
  EOS) in front and EOS after the response.

>>> PLAIN_ROLES["user"], PLAIN_ROLES["assistant"]
('User', 'Assistant')

Truncation (``max_length`` counts every token): the oldest non-system turns are dropped first,
a user turn with the assistant turn after it, until the rendered conversation fits (the rule the
lines in docs/reward-models.md reproduce). Only when the last prompt turn and the response alone
are too long are tokens cut: a response keeps its beginning (at most ``max_length - 16``
tokens), the prompt keeps its end (and its first token when that is CLS or BOS). The two
responses of a training pair share one prompt, the one that fits the longer response, so that a
comparison is always made on one context.
"""

from __future__ import annotations

import bisect
import json
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
    """The prompt turns as ``Role: text`` blocks ending in ``Assistant:`` (the embedding head
    embeds this text; the plain chat template renders the same)."""
    return "\n\n".join(f"{PLAIN_ROLES[m.role]}: {m.content}" for m in prompt) + "\n\nAssistant:"


def _literal(token: str | None) -> str:
    return "" if not token else "{{ " + json.dumps(token) + " }}"


def plain_chat_template(tokenizer, is_decoder: bool) -> str:
    """The ``plain`` rendering as a Jinja chat template, with this tokenizer's special tokens
    written in (an encoder's CLS and SEP; a decoder's BOS, unless it is EOS, and EOS). Text is
    emitted only through ``{{ … }}`` expressions, so the template engine's whitespace rules
    cannot change it."""
    if is_decoder:
        bos = tokenizer.bos_token if tokenizer.bos_token and tokenizer.bos_token != tokenizer.eos_token else None
        start, mid, end = _literal(bos), "", _literal(tokenizer.eos_token)
    else:
        if not tokenizer.cls_token or not tokenizer.sep_token:
            from preflab.errors import ConfigError

            raise ConfigError("the encoder's tokenizer has no CLS and SEP tokens for the plain template; give it a chat "
                              "template (tokenizer_config.json) and use --template chat")
        start, mid, end = _literal(tokenizer.cls_token), _literal(tokenizer.sep_token), _literal(tokenizer.sep_token)
    turn = "{{ '\\n\\n' if not loop.first else '' }}"
    return (
        start
        + "{% for m in messages %}"
        + "{% if loop.last and m['role'] == 'assistant' %}"
        + turn + "{{ 'Assistant:' }}" + mid + "{{ ' ' + m['content'] }}" + end
        + "{% else %}" + turn + "{{ m['role'] | capitalize }}{{ ': ' + m['content'] }}{% endif %}"
        + "{% endfor %}"
        + "{% if add_generation_prompt %}{{ '\\n\\nAssistant:' }}" + mid + "{% endif %}"
    )


def _common_prefix(seqs: list[list[int]]) -> int:
    n = min(len(s) for s in seqs)
    first = seqs[0]
    for i in range(n):
        if any(s[i] != first[i] for s in seqs[1:]):
            return i
    return n


def drop_oldest(turns: list[Message]) -> list[Message] | None:
    """The prompt with its oldest exchange dropped (a non-system turn that is not the last one,
    with the assistant turn after it unless that one is the last), or None when none can go."""
    droppable = [i for i, m in enumerate(turns[:-1]) if m.role != "system"]
    if not droppable:
        return None
    first = droppable[0]
    stop = first + 2 if first + 1 < len(turns) - 1 and turns[first + 1].role == "assistant" else first + 1
    return turns[:first] + turns[stop:]


class Renderer:
    """Renders and truncates for one tokenizer. ``template``: auto | chat | plain. With
    ``plain`` the plain chat template is written onto the tokenizer (it is what gets saved)."""

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
        if self.template == "plain":
            tokenizer.chat_template = plain_chat_template(tokenizer, is_decoder)

    # -- the text a standard loader renders ---------------------------------------------------
    def text(self, prompt: list[Message], response: str | None = None) -> str:
        """The conversation as the chat template renders it: with ``response`` as the last
        assistant turn, else the prompt with the generation prompt."""
        msgs = [{"role": m.role, "content": m.content} for m in prompt]
        if response is None:
            return self.tok.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
        return self.tok.apply_chat_template(msgs + [{"role": "assistant", "content": response}], tokenize=False)

    def _ids_many(self, texts: list[str]) -> list[list[int]]:
        # one call: a fast tokenizer encodes the batch at once. verbose=False: long texts are expected
        # here (they are cut turn by turn afterwards), so the "longer than the maximum" warning is noise
        return self.tok(texts, add_special_tokens=False, verbose=False)["input_ids"]

    def _render(self, prompt: list[Message], responses) -> tuple[list[int], list[list[int]]]:
        """(shared prompt ids, response ids): each prompt + response is exactly the tokenized
        rendering of that conversation."""
        head, *fulls = self._ids_many([self.text(prompt), *(self.text(prompt, r) for r in responses)])
        n = _common_prefix([head, *fulls])
        return fulls[0][:n], [f[n:] for f in fulls]

    # -- truncation ----------------------------------------------------------------------
    def encode(self, prompt: list[Message], responses: list[str] | tuple[str, ...]) -> Encoded:
        """Render one prompt with several responses on a common (truncated) prompt."""
        ids, resp = self._render(prompt, responses)
        if len(ids) + max(map(len, resp)) <= self.max_length:
            return Encoded(prompt=ids, responses=tuple(resp))
        variants = [list(prompt)]
        while (shorter := drop_oldest(variants[-1])) is not None:
            variants.append(shorter)
        rendered: dict[int, tuple[list[int], list[list[int]]]] = {0: (ids, resp)}

        def too_long(k: int) -> bool:  # renderings only shrink as turns are dropped: bisect
            if k not in rendered:
                rendered[k] = self._render(variants[k], responses)
            p, rs = rendered[k]
            return len(p) + max(map(len, rs)) > self.max_length

        k = bisect.bisect_left(range(len(variants)), True, key=lambda k: not too_long(k))
        if k < len(variants):
            p, rs = rendered[k]
            return Encoded(prompt=p, responses=tuple(rs), truncated=True)
        p, rs = rendered[len(variants) - 1]
        return self._cut_tokens(p, rs)

    def _cut_tokens(self, ids: list[int], resp: list[list[int]]) -> Encoded:
        """The last prompt turn and a response alone are too long: a response keeps its first
        ``max_length - 16`` tokens, the prompt its end (and a leading CLS/BOS)."""
        limit = self.max_length - MIN_PROMPT_TOKENS
        resp = [r[:limit] for r in resp]
        budget = self.max_length - max(map(len, resp))
        if len(ids) > budget:
            special = {self.tok.cls_token_id, getattr(self.tok, "bos_token_id", None)} - {None}
            head = ids[:1] if ids and ids[0] in special else []
            ids = head + ids[len(ids) - budget + len(head):]
        return Encoded(prompt=ids, responses=tuple(resp), truncated=True)

    def encode_one(self, prompt: list[Message], response: str) -> Encoded:
        return self.encode(prompt, [response])
