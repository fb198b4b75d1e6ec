"""The executor settings (:class:`Executor`) and its typed errors; see :mod:`preflab.executor`.

>>> from preflab.config import problems_of
>>> [p.render() for p in problems_of(Executor("ray", actors=0))]
['actors must be at least 1, got 0']
>>> Executor.from_config({"kind": "ray", "actors": 2}).record()["actors"]
2
>>> print(problems_of(Executor("ray", address="hostonly"))[0].render())
address must be auto, local, HOST:PORT or ray://HOST[:PORT] (what `ray start --head` prints), got 'hostonly'; leave it out to start Ray here
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from preflab.config import option, validate
from preflab.errors import ConfigError, PreflabError, Problem, about

KINDS = ("local", "ray")
#: A host name: dot-separated labels of letters, digits, '-' and '_'.
_HOST_NAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,62}))*\.?")


def parse_address(address: str) -> tuple[str, str, int | None] | None:
    """``(scheme, host, port)`` of a Ray address (scheme ``""`` for a cluster's ``HOST:PORT``,
    ``"ray"`` for a Ray client's ``ray://HOST[:PORT]``), ``("", address, None)`` for the names
    ``auto`` and ``local``, and None for anything Ray cannot join (checked here, before Ray is
    imported, so a typo is one line and not Ray's traceback).

    >>> parse_address("10.0.0.5:6379"), parse_address("ray://head.example.com"), parse_address("[::1]:6379")
    (('', '10.0.0.5', 6379), ('ray', 'head.example.com', None), ('', '::1', 6379))
    >>> [parse_address(a) for a in ("hostonly", "notahost:::", "h:99999", "http://h:1", ":6379")]
    [None, None, None, None, None]
    """
    text = address.strip()
    if text in ("auto", "local"):
        return "", text, None
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    elif scheme != "ray":
        return None
    try:
        parts = urlsplit("//" + rest)
        port = parts.port
    except ValueError:  # a port that is no number or out of range, a broken [v6] literal
        return None
    host = parts.hostname or ""
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username or parts.password:
        return None
    if port is None and (scheme != "ray" or parts.netloc.endswith(":")):
        return None
    if port == 0:
        return None
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.fullmatch(host) or ":" in host:
            return None
    return scheme, host, port


def address_problem(name: str, address: str | None) -> Problem | None:
    """The problem of a Ray address Ray cannot join, naming the option ``name``."""
    if address is None or parse_address(address) is not None:
        return None
    from preflab.redact import redact

    return about(name, f"must be auto, local, HOST:PORT or ray://HOST[:PORT] (what `ray start --head` prints), "
                       f"got {redact(address)!r}; leave it out to start Ray here")


class ExecutorError(PreflabError):
    """The Ray executor cannot run the work (cluster unreachable, not enough resources)."""


class ClusterUnreachableError(ExecutorError):
    """No Ray cluster answers at the address given."""


class ClusterResourcesError(ExecutorError):
    """The actors ask for more CPUs or GPUs than the cluster has."""


@dataclass(frozen=True)
class Executor:
    """``kind`` local or ray; for ray: the cluster ``address`` (None: join the Ray this process
    already started, else start a local one), the number of ``actors`` (None: as many as the
    cluster's CPUs hold) and each actor's CPU and GPU share."""

    kind: str = option("local", "local (this process) or ray (a pool of Ray actors).")
    address: str | None = option(None, "Ray cluster to join; None: the Ray of this process, else a local one.")
    actors: int | None = option(None, "Ray actors; None: as many as the cluster's CPUs hold.", low=1)
    cpus_per_actor: float = option(1.0, "CPUs per actor.", above=0)
    gpus_per_actor: float = option(0.0, "GPUs per actor.", low=0)

    @property
    def is_ray(self) -> bool:
        return self.kind == "ray"

    def problems(self) -> list[Problem]:
        """This config's own rules, checked before Ray is touched (the fields' ranges are
        checked by :func:`preflab.config.validate`)."""
        problems = [] if self.kind in KINDS else [about("kind", f"must be one of {', '.join(KINDS)}, got {self.kind!r}")]
        address = address_problem("address", self.address)
        return problems + ([address] if address is not None else [])

    @classmethod
    def from_config(cls, value: Any) -> "Executor":
        """From a bench file's ``executor:`` key: ``local``, ``ray``, or a block
        ``{kind, address, actors, cpus_per_actor, gpus_per_actor}``."""
        if value is None:
            return cls()
        if isinstance(value, str):
            return validate(cls(kind=value), "executor")
        if isinstance(value, cls):
            return validate(value, "executor")
        if not isinstance(value, dict):
            raise ConfigError(f"executor: expected 'local', 'ray' or a block with kind/address/actors, got {value!r}")
        allowed = {"kind", "address", "actors", "cpus_per_actor", "gpus_per_actor"}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ConfigError(f"executor: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
        return validate(cls(**value), "executor")

    def record(self) -> dict[str, Any]:
        """For run.json (the address is redacted: it may carry credentials)."""
        if not self.is_ray:
            return {"kind": "local"}
        from preflab.redact import redact

        data = asdict(self)
        data["address"] = redact(self.address) if self.address else None
        return data
