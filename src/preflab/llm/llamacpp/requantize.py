"""Re-encode a GGUF's weights as Q8_0 once, for fast batched decoding with llama.cpp
(``#weights=auto``, the embedded model's default; ``#weights=q8_0`` converts any GGUF,
``#weights=file`` decodes from the file as shipped).

Why: the embedded SmolLM2 ships as Q4_1, a type llama.cpp multiplies one (weight row, sequence)
pair at a time, unpacking the 4-bit weights again for every sequence of a decode step; so a step
with 8 sequences costs ~4x a step with one (``benchmarks/README.md``, "Batched decoding"). Q8_0
weights take llama.cpp's tiled matmul (tinyBLAS), which reuses each weight block across the
sequences of a step: 8 sequences cost ~3x one. Measured here, it gives the same bits whatever
the batch (``tests/llm/test_llamacpp_batch.py``), which keeps samples reproducible. Q8_0 holds
every Q4_1 value to within half a step of an 8-bit grid, so the model barely changes (the
likelihood of human-written responses under both files is compared in ``benchmarks/q8_quality.py``).

The file is written once per source file (keyed by its :func:`~preflab.llm.llamacpp.backend.file_model_id`)
into ``models/`` of preflab's cache folder, atomically: a killed conversion leaves only a
temporary file that is never mistaken for a finished one. Converting SmolLM2-135M takes ~2 s.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from preflab.io.atomic import atomic_path
from preflab.llm.base import BackendError
from preflab.llm.llamacpp.library import import_llama_cpp
from preflab.paths import cache_dir


def q8_0_path(source: Path, source_id: str) -> Path:
    """Where the Q8_0 copy of ``source`` lives in the cache (one per source content)."""
    digest = hashlib.sha256(source_id.encode()).hexdigest()[:12]
    return cache_dir() / "models" / f"{source.stem}.{digest}.Q8_0.gguf"


def requantized_q8_0(source: Path, source_id: str, threads: int, verbose: bool = False) -> Path:
    """The Q8_0 copy of ``source``, converted now if the cache does not hold it yet."""
    target = q8_0_path(source, source_id)
    if target.is_file():
        return target
    llama_cpp = import_llama_cpp()
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0
    params.allow_requantize = True  # the source is already quantised (Q4_1 for the embedded model)
    params.nthread = threads
    chatter = logging.getLogger("llama-cpp-python")  # llama-cpp-python prints llama.cpp's log below this level
    level = chatter.level
    if not verbose:
        chatter.setLevel(logging.ERROR)
    try:
        with atomic_path(target) as tmp:
            rc = llama_cpp.llama_model_quantize(str(source).encode(), str(tmp).encode(), params)
            if rc != 0:
                raise BackendError(f"{source}: llama.cpp could not convert the weights to Q8_0 (code {rc}); "
                                   "load the file as it is with #weights=file")
    finally:
        chatter.setLevel(level)
    return target
