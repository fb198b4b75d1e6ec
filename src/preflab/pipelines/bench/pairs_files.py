"""A bench entry that names a pairs file instead of a method (docs/bench.md#pairs-files).

Its pairs are read once into a cached step, keyed on the file's bytes and its run record's, and
then trained and evaluated like a generated method's. What the bench reports about it comes from
the file itself (pairs, prompts, length) and from the run record beside it (``FILE.run.json``,
written by ``preflab generate`` or ``clean`` wherever the file was made): its failures, tokens
and wall time. So pairs generated on a cluster are compared locally with their cost known.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any, Callable

from preflab import io
from preflab.pipelines.bench.config import MethodEntry, resolve_path
from preflab.pipelines.bench.data import read_pairs_entry
from preflab.pipelines.bench.steps import Steps
from preflab.provenance import file_fingerprint, sidecar
from preflab.records import prompt_id


def source_record(entry: MethodEntry, root: Path) -> dict[str, Any]:
    """The file a pairs entry reads: its path, fingerprint (sha256 of its bytes), how it is read,
    and the run record beside it (None when it has none)."""
    path = resolve_path(entry.pairs, root)
    local = not str(entry.pairs).startswith("hf:")
    run_file = sidecar(path) if local else None
    run = None
    if run_file is not None and run_file.is_file():
        try:
            run = json.loads(run_file.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            run = {"unreadable": str(run_file)}
    return {"path": str(path.resolve()) if local else entry.pairs, "given": entry.pairs,
            "fingerprint": file_fingerprint(path) if local else entry.pairs, "format": entry.format,
            "column_map": entry.column_map, "limit": entry.limit, "run": run,
            "run_fingerprint": file_fingerprint(run_file) if run is not None else None}


def _usage(run: dict[str, Any] | None) -> dict[str, Any]:
    """Tokens and wall time from a generation's run record; None where it does not say."""
    total = ((run or {}).get("usage") or {}).get("total") or {}
    return {"tokens_in": total.get("prompt_tokens"), "tokens_out": total.get("completion_tokens"),
            "tokens_cached": total.get("cached_tokens", 0) if total else 0, "wall_s": (run or {}).get("wall_s")}


def pairs_step(steps: Steps, entry: MethodEntry, root: Path, say: Callable[[str], None]) -> dict[str, Any]:
    """The cached step of a pairs entry: ``pairs.jsonl`` (the pairs as read) with the file's
    failures and run record beside it for the report's browser; returns what
    ``_generate_step`` returns for a method, plus ``source``."""
    from preflab.evaluation.data_stats import generation_length_stats
    from preflab.pipelines.generation import failure_reasons

    source = source_record(entry, root)
    payload = {key: source[key] for key in ("fingerprint", "format", "column_map", "limit", "run_fingerprint")}

    def work(folder: Path) -> dict[str, Any]:
        pairs = read_pairs_entry(entry, root)
        out = folder / "pairs.jsonl"
        io.write_pairs(pairs, out)
        path = Path(source["path"])
        failures = path.with_name(path.name + ".failures.jsonl")
        if failures.is_file():
            shutil.copyfile(failures, out.with_name(out.name + ".failures.jsonl"))
        if source["run"] is not None:
            shutil.copyfile(sidecar(path), sidecar(out))
        counts = (source["run"] or {}).get("counts") or {}
        return {"pairs": len(pairs), "prompts": counts.get("prompts", len({prompt_id(p.prompt) for p in pairs})),
                "failures": failure_reasons(counts), **_usage(source["run"]), "length": generation_length_stats(pairs),
                "source": source}

    folder, info = steps.run(f"pairs-{entry.key}", 1, payload, work)
    say(f"pairs: {entry.key}: {info['pairs']} pairs from {entry.pairs}")
    return {"folder": folder, **info}
