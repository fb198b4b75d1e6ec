"""The executor settings (:class:`Executor`) and its typed errors; see :mod:`preflab.executor`.

>>> Executor("ray", actors=0).problems()
['--ray-actors must be at least 1 (got 0)']
>>> Executor.from_config({"kind": "ray", "actors": 2}).record()["actors"]
2
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from preflab.errors import ConfigError, PreflabError

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

    kind: str = "local"
    address: str | None = None
    actors: int | None = None
    cpus_per_actor: float = 1.0
    gpus_per_actor: float = 0.0

    @property
    def is_ray(self) -> bool:
        return self.kind == "ray"

    def problems(self) -> list[str]:
        """Everything wrong with these settings, checked before Ray is touched."""
        out = []
        if self.kind not in KINDS:
            out.append(f"--executor must be one of {', '.join(KINDS)} (got {self.kind!r})")
        if self.actors is not None and self.actors < 1:
            out.append(f"--ray-actors must be at least 1 (got {self.actors})")
        if not self.cpus_per_actor > 0:
            out.append(f"--ray-cpus-per-actor must be more than 0 (got {self.cpus_per_actor})")
        if self.gpus_per_actor < 0:
            out.append(f"--ray-gpus-per-actor must be 0 or more (got {self.gpus_per_actor})")
        return out

    def check(self) -> "Executor":
        problems = self.problems()
        if problems:
            raise ConfigError("; ".join(problems))
        return self

    @classmethod
    def from_config(cls, value: Any) -> "Executor":
        """From a bench file's ``executor:`` key: ``local``, ``ray``, or a block
        ``{kind, address, actors, cpus_per_actor, gpus_per_actor}``."""
        if value is None:
            return cls()
        if isinstance(value, str):
            return cls(kind=value).check()
        if isinstance(value, cls):
            return value.check()
        if not isinstance(value, dict):
            raise ConfigError(f"executor: expected 'local', 'ray' or a block with kind/address/actors, got {value!r}")
        allowed = {"kind", "address", "actors", "cpus_per_actor", "gpus_per_actor"}
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise ConfigError(f"executor: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")
        return cls(**value).check()

    def record(self) -> dict[str, Any]:
        """For run.json (the address is redacted: it may carry credentials)."""
        if not self.is_ray:
            return {"kind": "local"}
        from preflab.redact import redact

        data = asdict(self)
        data["address"] = redact(self.address) if self.address else None
        return data
