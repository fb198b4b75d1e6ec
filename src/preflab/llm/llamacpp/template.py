"""The tokens a chat prompt becomes: the model's chat template with the generation prompt,
tokenised as llama-cpp-python's chat handler does.

Why llama.cpp's own tokenizer and template: the transformers tokenizer built from a GGUF splits
"\\n\\n" differently (scores up to 20 nats apart), and both decoders and the scorer must start
from exactly the tokens generation starts from.
"""

from __future__ import annotations

from typing import Any

from preflab.errors import ConfigError
from preflab.llm.base import message_dicts
from preflab.records import Message


class ChatTemplate:
    """Renders and tokenises prompts for one loaded model; the template is read on first use,
    so a model without one fails only when a prompt needs it."""

    def __init__(self, llama: Any, chat_format: str | None, model_name: str) -> None:
        self.llama, self.chat_format, self.model_name = llama, chat_format, model_name
        self._formatter: Any = None

    def _format(self) -> Any:
        if self._formatter is None:
            from llama_cpp import llama_chat_format as fmt

            llama = self.llama
            template = llama.metadata.get("tokenizer.chat_template")
            if self.chat_format:
                name = "format_" + self.chat_format.replace("-", "_")
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
                raise ConfigError(f"{self.model_name} has no chat template llama-cpp-python can render for scoring; "
                                  "pass #chat_format=NAME (e.g. chatml)")
        return self._formatter

    def tokens(self, messages: list[Message]) -> list[int]:
        """The exact tokens generation starts from."""
        result = self._format()(messages=message_dicts(messages))
        return self.llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True)
