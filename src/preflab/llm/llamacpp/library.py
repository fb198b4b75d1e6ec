"""Loading llama-cpp-python's library, once, with the OpenMP setting preflab needs.

Its own module so that both the backend and the Q8_0 conversion (:mod:`preflab.llm.requantize`)
load llama.cpp the same way without importing each other.
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
