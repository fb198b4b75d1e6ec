"""Loading llama-cpp-python's library, once, with the OpenMP setting preflab needs, and the one
per-eval switch of a loaded model that both decoding and scoring flip.

Why ``OMP_WAIT_POLICY=PASSIVE``: OpenMP threads that spin while waiting collapse on a shared
CPU (with another job running on this project's 2-core machine, SmolLM2 fell from ~30 to 4-11
tokens/s). It is set, unless already set, before llama.cpp first loads; ``#omp_passive=false``
skips it. Its own module so that the backend and the Q8_0 conversion
(:mod:`preflab.llm.llamacpp.requantize`) load llama.cpp the same way.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from preflab.errors import require


def import_llama_cpp(omp_passive: bool = True) -> Any:
    """``llama_cpp``, with ``OMP_WAIT_POLICY=PASSIVE`` set first (unless set already, or
    ``omp_passive`` is false): OpenMP reads it once, when llama.cpp's libraries load."""
    if omp_passive and "llama_cpp" not in sys.modules:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    return require("llama_cpp", "local")


def set_logits_all(llama: Any, on: bool) -> None:
    """Keep logits at every position (scoring) or only the last (generation, at raw speed).
    llama-cpp-python reads this flag per eval; the buffer was sized at load time
    (``logits_all=True``)."""
    if hasattr(llama, "_logits_all"):
        llama._logits_all = on
