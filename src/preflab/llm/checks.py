"""Checks of an LLM spec that need no model loaded: run before any work starts.

:func:`spec_problem` builds the backend a spec names (backends load their weights lazily, so
this parses the options, finds the files and reads no more than a file header) and returns
the one-line problem, if any. :func:`check_gguf` is the header check ``llamacpp:PATH`` uses.

>>> spec_problem("fake#concurrency=2") is None
True
>>> spec_problem("nosuch:thing").startswith("unknown LLM backend kind 'nosuch'")
True
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from preflab.errors import ConfigError, PreflabError, Problem

GGUF_MAGIC = b"GGUF"


def check_gguf(path: str | os.PathLike) -> None:
    """Refuse a file that is not GGUF before llama.cpp tries (and fails with a traceback)."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(4)
    except OSError as exc:
        raise ConfigError(f"cannot read the model file {path}: {exc.strerror}") from None
    if head != GGUF_MAGIC:
        raise ConfigError(
            f"{path} is not a GGUF model file (it starts with {head!r}, not b'GGUF'); llamacpp:PATH needs a .gguf "
            "file: convert the model with llama.cpp's convert_hf_to_gguf.py, or use hf:FOLDER for a transformers model"
        )


def spec_problem(spec: Any, usage: Any = None) -> str | Problem | None:
    """Why ``spec`` cannot work (a line), or ``None``; with ``usage`` (a
    :class:`~preflab.llm.Usage`), also when its cost budget has no price for the spec's model
    (a :class:`~preflab.errors.Problem` naming ``max_cost``)."""
    from preflab.llm.spec import create_backend

    try:
        backend = create_backend(spec)
    except PreflabError as exc:
        return str(exc)
    executor = getattr(backend, "_executor", None)
    if executor is not None:  # built lazily by the backend; nothing ran on it
        executor.shutdown(wait=False)
    return usage.price_problem(backend.model_id) if usage is not None else None
