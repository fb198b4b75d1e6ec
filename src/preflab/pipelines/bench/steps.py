"""Cached, resumable steps of a bench run.

A step's folder is named by a fingerprint of everything that decides its result: the
fingerprints of its inputs, the step's name and version, and the config fields that matter
(never runtime-only fields like concurrency). A finished step has ``done.json``; rerunning a
bench reuses it, and changing one method's options changes only the fingerprints downstream
of that method. An unfinished step works in ``NAME-FP.tmp/`` and is renamed when done, so a
folder without ``.tmp`` is always complete; a step that can resume (generation) picks up its
``.tmp`` folder where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any, Callable

from preflab.io.atomic import atomic_path
from preflab.io.outputs import safe_file_name

log = logging.getLogger(__name__)


def fingerprint(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Steps:
    def __init__(self, run_dir: Path) -> None:
        self.root = Path(run_dir) / "steps"
        self.root.mkdir(parents=True, exist_ok=True)
        self.reused: list[str] = []
        self.ran: list[str] = []

    def run(self, name: str, version: int, payload: dict[str, Any], work: Callable[[Path], dict[str, Any]],
            *, resumable: bool = False) -> tuple[Path, dict[str, Any]]:
        """Run ``work(folder) -> info`` unless a finished step with the same fingerprint exists.
        Returns the step folder and its info (with ``fingerprint``)."""
        fp = fingerprint({"step": name, "version": version, **payload})
        folder = self.root / f"{safe_file_name(name)}-{fp}"
        done = folder / "done.json"
        if done.exists():
            self.reused.append(folder.name)
            return folder, json.loads(done.read_text())
        tmp = folder.with_name(folder.name + ".tmp")
        if tmp.exists() and not resumable:
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True, exist_ok=True)
        log.info("step %s: running", folder.name)
        info = {**work(tmp), "fingerprint": fp, "step": name}
        with atomic_path(tmp / "done.json") as t:
            t.write_text(json.dumps(info, indent=2, default=str))
        os.replace(tmp, folder)
        self.ran.append(folder.name)
        return folder, info
