"""What every output carries about how it was made: ``run.json`` (docs/architecture.md#provenance).

A run record holds the resolved config, the versions of the libraries that shaped the numbers,
the seeds, fingerprints of the inputs (so a changed input is never mistaken for the old one),
counts, and anything else the step wants to add (token usage, timings).
"""

from __future__ import annotations

import hashlib
import platform
import sys
import time
from dataclasses import asdict, is_dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

from preflab.io.atomic import atomic_path
from preflab.io.portable import record_json

#: Distributions whose versions change results; reported when installed (never imported here).
TRACKED = ("preflab", "numpy", "pyarrow", "datasets", "pydantic", "torch", "transformers",
           "accelerate", "peft", "trl", "llama_cpp_python", "openai")


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in TRACKED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def file_fingerprint(path: str | Path, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes (a folder: of its files' names and bytes, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(str(file.relative_to(path)).encode())
        with open(file, "rb") as fh:
            while block := fh.read(chunk):
                digest.update(block)
    return digest.hexdigest()[:16]


def _plain(config: Any) -> Any:
    if is_dataclass(config):
        return asdict(config)
    if hasattr(config, "model_dump"):
        return config.model_dump(mode="json")
    return config


def run_record(step: str, config: Any, *, inputs: dict[str, str | Path] | None = None,
               counts: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """The dictionary written to ``run.json``."""
    return {
        "step": step,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": sys.argv,
        "config": _plain(config),
        "versions": versions(),
        "inputs": _inputs(inputs or {}),
        "counts": counts or {},
        **extra,
    }


def _inputs(inputs: dict[str, Any]) -> dict[str, Any]:
    """Files by path and fingerprint; rows held in memory by kind, count and fingerprint."""
    from preflab.io import memory

    return {name: memory.describe(p) if memory.is_in_memory(p) else {"path": str(p), "fingerprint": file_fingerprint(p)}
            for name, p in inputs.items() if memory.is_in_memory(p) or Path(p).exists()}


def write_run_json(path: str | Path, record: dict[str, Any]) -> Path:
    """Write a run record atomically. ``path`` is a folder (→ folder/run.json) or a file name.
    Anything that looks like a credential (a key in a URL, a token) is redacted first; an
    undefined number (NaN) is written null."""
    from preflab.redact import redact_data

    record = redact_data(record)
    path = Path(path)
    target = path / "run.json" if path.is_dir() else path
    with atomic_path(target) as tmp:
        tmp.write_text(record_json(record, indent=2, ensure_ascii=False, default=str) + "\n")
    return target


def sidecar(output: str | Path) -> Path:
    """Where a single-file output keeps its run record: ``out.jsonl`` → ``out.jsonl.run.json``."""
    output = Path(output)
    return output / "run.json" if output.is_dir() else output.with_name(output.name + ".run.json")
