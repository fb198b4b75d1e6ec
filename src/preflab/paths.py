"""Where preflab keeps what it can recompute: one folder for every cache.

``$PREFLAB_CACHE`` if set, else ``$XDG_CACHE_HOME/preflab``, else ``~/.cache/preflab``. Inside:
``llm-calls.sqlite3`` (the LLM call cache), ``models/`` (backbones converted once, e.g. SmolLM2
from its GGUF) and ``embeddings/`` (frozen-encoder vectors). One variable moves all of them,
so a clean run (``PREFLAB_CACHE=$(mktemp -d) preflab quickstart``) really starts cold.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The cache folder (not created here: each user makes its own subfolder)."""
    if os.environ.get("PREFLAB_CACHE"):
        return Path(os.environ["PREFLAB_CACHE"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "preflab"
