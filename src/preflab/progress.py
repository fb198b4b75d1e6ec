"""preflab's one progress bar, for the public functions and for the parts that report their own
progress (the reward-model trainer, scorers): rich, on stderr (rich draws it in a Jupyter cell
as well), labelled with what it counts, and off with ``progress=False``.

>>> with Bar("Scoring", enabled=False) as bar:
...     bar(3, 10)
>>> bar.started
False
"""

from __future__ import annotations

from typing import Any


class Bar:
    """A ``(done, total)`` callback that shows a bar once work is under way (not during checks)."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label, self.enabled, self.started = label, enabled, False
        self._bar: Any = None
        self._task: Any = None

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if self._bar is None:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                                       TimeRemainingColumn)

            self._bar = Progress(TextColumn(self.label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                 TimeRemainingColumn(), console=Console(stderr=True))
            self._task = self._bar.add_task(self.label, total=total)
            self._bar.start()
            self.started = True
        self._bar.update(self._task, completed=done, total=total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None

    def __enter__(self) -> "Bar":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
