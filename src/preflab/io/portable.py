"""Values every file preflab reads or writes can hold: finite numbers, valid Unicode text and
rows of a bounded depth.

JSON has no NaN or Infinity (Python's ``json`` reads and writes them as bare tokens that
strict parsers, ``JSON.parse`` and Arrow's readers reject), and an infinite weight or a NaN
margin trains a model whose every reward is NaN. A lone surrogate (``"x\\ud800y"`` in JSON)
is no Unicode character: UTF-8 cannot encode it, so the row passes a reader and crashes the
first writer. A row nested thousands of levels deep exhausts Python's recursion. So:

* readers refuse such a row as a row error naming the field (:func:`check_row`,
  :func:`loads`); the pydantic records refuse non-finite numbers too;
* data writers refuse to write one (:func:`unwritable` names the row and field) and leave
  no file behind;
* run records and reports (``run.json``, ``eval.json``) write a number that is undefined
  (the accuracy of an empty subset) as ``null``, JSON's missing value (:func:`record_json`).

>>> problem_in({"prompt": "q", "weight": float("inf")})
('weight', 'Infinity is not a finite number (JSON has no NaN or Infinity; write null for a missing value)')
>>> problem_in({"provenance": {"raw": ["ok", "x\\ud800y"]}})[0]
'provenance.raw.1'
>>> record_json({"accuracy": float("nan")})
'{"accuracy": null}'
"""

from __future__ import annotations

import json
import re
from typing import Any

#: How deep a row may nest (objects and lists); real data nests a few levels.
MAX_DEPTH = 100

_JSON_NAMES = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}
#: a ``\\uD800``-``\\uDFFF`` escape: only a row with one can decode to a lone surrogate
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
#: a high surrogate escape and the low one after it: one character outside the BMP
_SURROGATE_PAIR = re.compile(r"\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2}")


def _number_reason(value: float) -> str:
    name = _JSON_NAMES.get(repr(value), repr(value))
    return f"{name} is not a finite number (JSON has no NaN or Infinity; write null for a missing value)"


def _text_reason(value: str) -> str:
    bad = next(c for c in value if 0xD800 <= ord(c) <= 0xDFFF)
    return f"text holds a lone surrogate \\u{ord(bad):04x} (half of a UTF-16 pair), which no UTF-8 file can hold"


def _valid_text(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def problem_in(value: Any, max_depth: int = MAX_DEPTH) -> tuple[str | None, str] | None:
    """(field path, reason) of the first value in ``value`` that no file can hold, or None.
    The path joins keys and list positions with dots (``provenance.scores.1``); walked without
    recursion, so a deep row cannot exhaust the stack here."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        kind = type(item)
        if kind is str or isinstance(item, str):
            if not _valid_text(item):
                return ".".join(path) or None, _text_reason(item)
        elif kind is float or isinstance(item, float):
            if item - item != 0:
                return ".".join(path) or None, _number_reason(item)
        elif isinstance(item, (dict, list, tuple)):
            if len(path) >= max_depth:
                return ".".join(path[:3]) or None, f"nested more than {max_depth} levels deep"
            if isinstance(item, dict):
                for key, child in item.items():
                    if isinstance(key, str) and not _valid_text(key):
                        return ".".join(path) or None, _text_reason(key)
                    stack.append((child, (*path, str(key))))
            else:
                stack.extend((child, (*path, str(i))) for i, child in enumerate(item))
    return None


class Unportable(ValueError):
    """A value no file can hold, with the field it is in (``None``: the row itself)."""

    def __init__(self, field: str | None, reason: str) -> None:
        super().__init__(reason)
        self.field, self.reason = field, reason


def check_row(row: Any) -> None:
    """Raise :class:`Unportable` for a row holding a value no file can hold."""
    found = problem_in(row)
    if found is not None:
        raise Unportable(*found)


class _Constant(Exception):
    pass


def _refuse_constant(token: str) -> Any:
    raise _Constant(token)


#: One decoder for every row (``json.loads`` with an option builds a new one per call).
_STRICT = json.JSONDecoder(parse_constant=_refuse_constant)


def loads(text: str) -> Any:
    """``json.loads`` that refuses what :func:`problem_in` refuses, as :class:`Unportable`
    naming the field. Fast on good rows: NaN and Infinity tokens are caught while parsing, and
    only a row with ``\\u`` escapes or deep brackets is walked for lone surrogates and depth."""
    try:
        value = _STRICT.decode(text)
    except _Constant:
        value = json.loads(text)  # the token's field, named below
        found = problem_in(value)
        raise Unportable(*(found or (None, "NaN or Infinity is not a finite number"))) from None
    except RecursionError:
        raise Unportable(None, f"nested more than {MAX_DEPTH} levels deep") from None
    if _maybe_lone_surrogate(text) or text.count("[") + text.count("{") > MAX_DEPTH:
        check_row(value)
    return value


def _maybe_lone_surrogate(text: str) -> bool:
    """Whether JSON text may decode to a lone surrogate: a surrogate escape left once every
    high escape directly followed by a low one (an emoji as ``json.dumps`` writes it) is taken
    out. An escaped backslash before a ``u`` makes that reading unsure: then the row is walked.
    Two passes of the regex engine, no Python loop over the escapes."""
    if not _SURROGATE_ESCAPE.search(text):
        return False
    if "\\\\u" in text:
        return True
    return _SURROGATE_ESCAPE.search(_SURROGATE_PAIR.sub("", text)) is not None


def dumps(value: Any, **kwargs: Any) -> str:
    """JSON text of data (a row, a pair's provenance), refusing NaN and Infinity
    (``ValueError``; :func:`unwritable` turns it into a message that names the field)."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, **kwargs)


def unwritable(row: Any, exc: BaseException) -> Unportable:
    """Why ``row`` could not be written (its field and the reason), from the error a writer
    got (``ValueError`` from :func:`dumps`, ``UnicodeEncodeError`` from the file)."""
    found = problem_in(row)
    if found is not None:
        return Unportable(*found)
    return Unportable(None, " ".join(str(exc).split()))


def finite_or_none(value: Any) -> Any:
    """``value`` with every NaN or infinite float as None (walked without recursion limits
    that matter for records, which nest a few levels)."""
    if isinstance(value, float):
        return value if value - value == 0 else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def record_json(value: Any, **kwargs: Any) -> str:
    """JSON text of a run record or a report (``run.json``, ``eval.json``): an undefined number
    (the accuracy of an empty subset) is written ``null``, never a bare NaN token."""
    return json.dumps(finite_or_none(value), allow_nan=False, **kwargs)
