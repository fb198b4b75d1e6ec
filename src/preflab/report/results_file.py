"""A bench's ``results.json`` as the report reads it: a file of the right keys but the wrong
shapes (a table that is a list, a cell without its interval) is one
:class:`~preflab.errors.InputError` naming the file, the field and the fix, never a
``KeyError`` from deep inside the page.

:func:`shape_problem` checks the sections every page shows (what ``run_bench`` writes:
``name`` text; ``table``, ``baselines`` and ``methods`` objects of objects; ``eval_sets`` an
object of counts; ``steps`` with its ``reused`` and ``ran`` lists); :func:`rendering` turns what
a deeper cell still lacks into the same one line.

>>> shape_problem({"name": "b", "table": [], "baselines": {}, "methods": {}, "eval_sets": {}, "steps": {}})
'field table: expected an object, got a list'
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any, Iterator

from preflab.errors import InputError

_KINDS = {dict: "an object", list: "a list", str: "text", int: "a whole number"}


def _kind(value: Any) -> str:
    return next((name for kind, name in _KINDS.items() if isinstance(value, kind) and not isinstance(value, bool)),
                "null" if value is None else type(value).__name__)


def _expect(value: Any, kind: type, field: str) -> str | None:
    ok = isinstance(value, kind) and not isinstance(value, bool)
    return None if ok else f"field {field}: expected {_KINDS[kind]}, got {_kind(value)}"


def shape_problem(results: dict[str, Any]) -> str | None:
    """What is wrong with the sections of ``results`` the report reads, or None."""
    missing = [key for key in ("name", "table", "baselines", "methods", "eval_sets", "steps") if key not in results]
    if missing:
        return f"missing {', '.join(missing)}"
    checks: list[tuple[Any, type, str]] = [(results["name"], str, "name")]
    checks += [(results[key], dict, key) for key in ("table", "baselines", "methods", "eval_sets", "steps")]
    for value, kind, field in checks:
        problem = _expect(value, kind, field)
        if problem:
            return problem
    for section in ("table", "baselines", "methods"):
        for key, value in results[section].items():
            problem = _expect(value, dict, f"{section}.{key}")
            if problem:
                return problem
    for key, value in results["eval_sets"].items():
        problem = _expect(value, int, f"eval_sets.{key}")
        if problem:
            return problem
    for key in ("reused", "ran"):
        problem = _expect(results["steps"].get(key), list, f"steps.{key}")
        if problem:
            return problem
    return None


def check_shape(results: dict[str, Any], path: Path, fix: str) -> dict[str, Any]:
    """``results``, or one :class:`InputError` naming ``path``, what is wrong and ``fix``."""
    problem = shape_problem(results)
    if problem:
        raise InputError(f"not a bench results file ({problem}); {fix}", path=str(path))
    return results


@contextlib.contextmanager
def rendering(path: Path, fix: str) -> Iterator[None]:
    """Render a page from a checked ``results.json``; a cell that still lacks what the page
    shows (a value without its key, a number that is text) is one :class:`InputError`."""
    try:
        yield
    except KeyError as exc:
        raise InputError(f"not a bench results file (a value lacks its {exc.args[0]!r}); {fix}", path=str(path)) from None
    except (TypeError, AttributeError, ValueError, IndexError) as exc:
        raise InputError(f"not a bench results file (a value has the wrong shape: {exc}); {fix}",
                         path=str(path)) from None
