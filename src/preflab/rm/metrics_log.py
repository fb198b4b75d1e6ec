"""Training metrics as JSON lines (one object per log event, TRL's metric names), flushed
at once so a crashed run still leaves its curve behind."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from preflab.io.refusals import writing
from preflab.io.portable import record_json

log = logging.getLogger(__name__)


class MetricsLog:
    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        self.rows: list[dict[str, Any]] = []
        if self.path:
            with writing(self.path):
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self.path.write_text("", encoding="utf-8")

    def write(self, row: dict[str, Any]) -> None:
        row = {"time": round(time.time(), 3), **row}
        self.rows.append(row)
        log.info("%s", row)
        if self.path:
            with writing(self.path), open(self.path, "a", encoding="utf-8") as fh:
                fh.write(record_json(row) + "\n")
