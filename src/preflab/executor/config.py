"""The executor settings (:class:`Executor`) and its typed errors; see :mod:`preflab.executor`.

>>> from preflab.config import problems_of
>>> [p.render() for p in problems_of(Executor("ray", actors=0))]
['actors must be at least 1, got 0']
>>> Executor.from_config({"kind": "ray", "actors": 2}).record()["actors"]
2
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from preflab.config import option, validate
from preflab.errors import ConfigError, PreflabError, Problem, about

KINDS = ("local", "ray")


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
        return [] if self.kind in KINDS else [about("kind", f"must be one of {', '.join(KINDS)}, got {self.kind!r}")]

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
