"""The call cache: every finished LLM call in SQLite, keyed by a hash of the canonical request.

Why: a rerun of the same job must cost nothing for the calls that already finished, so an
interrupted job resumes for free, and the table doubles as an audit log of what was asked
(simonw/llm ``logs.py``). Only successful calls are written — a failure never poisons a rerun.

Safety: WAL mode lets several processes read and write at once (writers queue on SQLite's
lock, ``busy_timeout`` waits instead of failing); each finished call is committed on its own
so a SIGKILL loses at most the calls in flight. The schema carries ``PRAGMA user_version``
and an append-only list of migrations (simonw/llm ``migrations.py``): never edit one, add one.

The key covers backend kind, model id, messages, the sampling options that change the output,
the sample index and its seed. API keys, endpoints' credentials, concurrency and timeouts are
never part of a key or a row. (The ``openai`` backend's model id names its endpoint, so two
servers that serve the same model name do not share answers.)

A damaged file ("database disk image is malformed", or not SQLite at all) is never deleted or
repaired silently: every command stops with a :class:`~preflab.errors.CacheError` that names
the file and says to move it aside or run without the cache.

>>> import tempfile, os
>>> cache = CallCache(os.path.join(tempfile.mkdtemp(), "c.sqlite3"))
>>> key = request_key({"kind": "complete", "model": "m", "messages": [["user", "hi"]]})
>>> cache.get(key) is None
True
>>> cache.put(key, {"kind": "complete", "backend": "fake", "model": "m"}, {"text": "yo"})
>>> cache.get(key)
{'text': 'yo'}
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any, Callable

from preflab.errors import CacheError, ConfigError

log = logging.getLogger(__name__)


def _m001_calls(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE calls (
            key TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            backend TEXT NOT NULL,
            model TEXT NOT NULL,
            request TEXT NOT NULL,
            response TEXT NOT NULL,
            created_at REAL NOT NULL
        )"""
    )


def _m002_tokens_and_index(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE calls ADD COLUMN prompt_tokens INTEGER NOT NULL DEFAULT 0")
    db.execute("ALTER TABLE calls ADD COLUMN completion_tokens INTEGER NOT NULL DEFAULT 0")
    db.execute("CREATE INDEX calls_backend_model ON calls (backend, model)")


#: Append-only. The schema version of a database is the number of migrations applied to it.
MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_m001_calls, _m002_tokens_and_index]
SCHEMA_VERSION = len(MIGRATIONS)


def default_cache_path() -> Path:
    """``llm-calls.sqlite3`` in preflab's cache folder (:func:`preflab.paths.cache_dir`)."""
    from preflab.paths import cache_dir

    return cache_dir() / "llm-calls.sqlite3"


def canonical_json(data: Any) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _damaged(path: Path, exc: BaseException) -> CacheError:
    return CacheError(
        f"the LLM call cache {path} is damaged ({exc}); preflab leaves it as it is: move it aside "
        f"(mv {path} {path}.broken) and rerun to start a fresh cache, or run without the cache (--no-cache)"
    )


def request_key(request: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of a request (sorted keys, no whitespace)."""
    return hashlib.sha256(canonical_json(request).encode("utf-8", "surrogatepass")).hexdigest()


class CallCache:
    """SQLite-backed map from request key to response. Thread-safe within a process (one
    connection behind a lock); process-safe through SQLite's own locking."""

    def __init__(self, path: str | os.PathLike, *, timeout_s: float = 60.0) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, timeout=timeout_s, isolation_level=None, check_same_thread=False)
            self._db.execute(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.OperationalError as exc:
            raise CacheError(f"cannot open the LLM call cache {self.path}: {exc}; pass another cache file "
                             "(--cache-path FILE) or run without the cache (--no-cache)") from None
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from None
        self._guarded(self._migrate)

    def _guarded(self, func: Callable[..., Any], *args: Any) -> Any:
        """Run a database operation; a damaged file becomes one :class:`CacheError`."""
        try:
            return func(*args)
        except sqlite3.OperationalError:
            raise
        except sqlite3.DatabaseError as exc:
            raise _damaged(self.path, exc) from None

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise ConfigError(
                    f"the LLM call cache {self.path} has schema version {version}, newer than this "
                    f"preflab knows ({SCHEMA_VERSION}); upgrade preflab or use another cache file (--cache-path FILE)"
                )
            if version == SCHEMA_VERSION:
                return
            self._db.execute("BEGIN IMMEDIATE")  # one process migrates; the others wait here
            try:
                version = self._db.execute("PRAGMA user_version").fetchone()[0]
                for number, migration in enumerate(MIGRATIONS[version:], start=version + 1):
                    log.info("migrating LLM call cache %s to schema %d (%s)", self.path, number, migration.__name__)
                    migration(self._db)
                    self._db.execute(f"PRAGMA user_version = {number}")
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    @property
    def schema_version(self) -> int:
        with self._lock:
            return self._db.execute("PRAGMA user_version").fetchone()[0]

    def get(self, key: str) -> Any | None:
        return self._guarded(self._get, key)

    def _get(self, key: str) -> Any | None:
        with self._lock:
            row = self._db.execute("SELECT response FROM calls WHERE key = ?", (key,)).fetchone()
        return None if row is None else json.loads(row[0])

    def put(self, key: str, request: dict[str, Any], response: Any, *, prompt_tokens: int = 0, completion_tokens: int = 0) -> None:
        """Store one finished call (its own transaction: durable once this returns)."""
        self._guarded(self._put, key, request, response, prompt_tokens, completion_tokens)

    def _put(self, key: str, request: dict[str, Any], response: Any, prompt_tokens: int, completion_tokens: int) -> None:
        row = (
            key, request.get("kind", "complete"), request.get("backend", ""), request.get("model", ""),
            canonical_json(request), canonical_json(response), time.time(), prompt_tokens, completion_tokens,
        )
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO calls (key, kind, backend, model, request, response, created_at,"
                " prompt_tokens, completion_tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def stats(self) -> dict[str, Any]:
        """Entries and tokens per (kind, backend, model), plus the file size."""
        return self._guarded(self._stats)

    def _stats(self) -> dict[str, Any]:
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, backend, model, COUNT(*), SUM(prompt_tokens), SUM(completion_tokens),"
                " MIN(created_at), MAX(created_at) FROM calls GROUP BY kind, backend, model ORDER BY 4 DESC"
            ).fetchall()
        groups = [
            {"kind": r[0], "backend": r[1], "model": r[2], "entries": r[3], "prompt_tokens": r[4] or 0,
             "completion_tokens": r[5] or 0, "first": r[6], "last": r[7]}
            for r in rows
        ]
        size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {"path": str(self.path), "schema_version": SCHEMA_VERSION, "entries": sum(g["entries"] for g in groups),
                "bytes": size, "groups": groups}

    def clear(self, *, backend: str | None = None, model: str | None = None) -> int:
        """Delete entries (all, or those of one backend and/or model); returns how many."""
        return self._guarded(self._clear, backend, model)

    def _clear(self, backend: str | None, model: str | None) -> int:
        where, args = [], []
        if backend is not None:
            where.append("backend = ?")
            args.append(backend)
        if model is not None:
            where.append("model = ?")
            args.append(model)
        sql = "DELETE FROM calls" + (" WHERE " + " AND ".join(where) if where else "")
        with self._lock:
            deleted = self._db.execute(sql, args).rowcount
            if not where:
                self._db.execute("VACUUM")
        return deleted

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> "CallCache":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
