"""One redaction function for everything preflab shows or stores: error messages, log lines,
run records (``run.json``), server error bodies.

What looks like a secret is replaced by ``***``: the user-info of a URL
(``https://user:pass@host`` → ``https://***@host``), ``Bearer`` tokens, well-known key
shapes (OpenAI ``sk-…``, Hugging Face ``hf_…``, GitHub ``ghp_…``, Slack ``xox…-``, AWS
``AKIA…``), and the value of ``key=…`` / ``"api_key": "…"`` style assignments. Hashes that
preflab writes itself (16 or 64 hex digits) are left alone: they are not secrets and
provenance needs them.

>>> redact("HTTP 401 (bad key: Bearer sk-abc123def456ghi789)")
'HTTP 401 (bad key: Bearer ***)'
>>> redact("openai:https://bob:s3cret@api.example.com/v1#model=m")
'openai:https://***@api.example.com/v1#model=m'
>>> redact("Incorrect API key provided: sk-proj-AbC123xyz987abcd")
'Incorrect API key provided: ***'
>>> redact_data({"llm_spec": "openai:http://u:p@h/v1", "fingerprint": "0123456789abcdef"})
{'llm_spec': 'openai:http://***@h/v1', 'fingerprint': '0123456789abcdef'}
"""

from __future__ import annotations

import logging
import re
from typing import Any

MASK = "***"

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


def redact(text: str) -> str:
    """``text`` with everything that looks like a credential replaced by ``***``."""
    if not isinstance(text, str) or not text:
        return text
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
