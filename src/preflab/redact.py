"""One redaction function for everything preflab shows or stores: error messages, log lines,
run records (``run.json``), server error bodies.

What looks like a secret is replaced by ``***``: the user-info of a URL
(``https://user:pass@host`` → ``https://***@host``), ``Bearer`` tokens, well-known key
shapes (OpenAI ``sk-…``, Hugging Face ``hf_…``, GitHub ``ghp_…``, Slack ``xox…-``, AWS
``AKIA…``), the value of ``key=…`` / ``"api_key": "…"`` style assignments, and every secret
preflab itself was handed (:func:`add_secret`: the key a backend read from its ``key_env``
variable), wherever it shows and whatever its shape (a 32-hex Azure key, a proxy's token). Hashes
that preflab writes itself (16 or 64 hex digits) are left alone unless they are such a secret:
they are not secrets and provenance needs them.

>>> redact("HTTP 401 (bad key: Bearer sk-abc123def456ghi789)")
'HTTP 401 (bad key: Bearer ***)'
>>> redact("openai:https://bob:s3cret@api.example.com/v1#model=m")
'openai:https://***@api.example.com/v1#model=m'
>>> redact("Incorrect API key provided: sk-proj-AbC123xyz987abcd")
'Incorrect API key provided: ***'
>>> redact_data({"llm_spec": "openai:http://u:p@h/v1", "fingerprint": "0123456789abcdef"})
{'llm_spec': 'openai:http://***@h/v1', 'fingerprint': '0123456789abcdef'}
>>> add_secret("0f1e2d3c4b5a69788796a5b4c3d2e1f0")
>>> redact("401: key 0f1e2d3c4b5a69788796a5b4c3d2e1f0 is not valid")
'401: key *** is not valid'
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

MASK = "***"
#: The shortest value :func:`add_secret` takes: a shorter one would mask ordinary words.
MIN_SECRET = 4

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_secrets_pattern: re.Pattern[str] | None = None

_PATTERNS = [
    # scheme://user[:password]@host  → scheme://***@host
    (re.compile(r"(?P<keep>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@#?]+@"), rf"\g<keep>{MASK}@"),
    (re.compile(r"(?P<keep>\bBearer\s+)[A-Za-z0-9._~+/=-]+", re.IGNORECASE), rf"\g<keep>{MASK}"),
    (re.compile(r"\b(?:sk|rk|pk)-[A-Za-z0-9_-]{8,}"), MASK),
    (re.compile(r"\bhf_[A-Za-z0-9]{16,}"), MASK),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{16,}"), MASK),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{8,}"), MASK),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), MASK),
    # api_key=VALUE, "token": "VALUE", password: VALUE (not key_env=VAR: that names a variable)
    (re.compile(r"(?P<keep>\b(?:api[_-]?key|access[_-]?token|auth[_-]?token|secret|password|passwd|token)"
                r"[\"']?\s*[:=]\s*[\"']?)(?!\*\*\*)[^\s\"'&,;)}]{4,}", re.IGNORECASE), rf"\g<keep>{MASK}"),
]


def add_secret(value: str | None) -> None:
    """Redact this exact value from now on, in this process, wherever it appears (errors, log
    lines, run records): a key preflab read is a secret whatever its shape. Values shorter than
    :data:`MIN_SECRET` characters are ignored."""
    global _secrets_pattern
    if not isinstance(value, str) or len(value.strip()) < MIN_SECRET:
        return
    with _secrets_lock:
        if value in _secrets:
            return
        _secrets.add(value)
        # longest first, so a secret that contains another is masked whole
        _secrets_pattern = re.compile("|".join(re.escape(s) for s in sorted(_secrets, key=len, reverse=True)))


def redact(text: str) -> str:
    """``text`` with everything that looks like a credential, and every secret preflab was
    handed (:func:`add_secret`), replaced by ``***``."""
    if not isinstance(text, str) or not text:
        return text
    known = _secrets_pattern
    if known is not None:
        text = known.sub(MASK, text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_data(value: Any) -> Any:
    """The same redaction applied to every string inside dicts, lists and tuples (keys too)."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(redact_data(v) for v in value)
    return value


class RedactingFilter(logging.Filter):
    """A logging filter that redacts the rendered message of every record it passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format string is logging's own problem
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def install_log_redaction() -> None:
    """Redact every record that reaches the root logger's handlers."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())
