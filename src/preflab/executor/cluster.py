"""Joining (or starting) a Ray cluster and sizing the actors to it.

Every check here runs before any work: a wrong address fails in seconds (a short TCP connect
before ``ray.init``), and actors that cannot fit fail with the numbers to change.
"""

from __future__ import annotations

import os
import socket
import sys
from typing import Any

from preflab.errors import require
from preflab.executor.config import (ClusterResourcesError, ClusterUnreachableError, Executor, ExecutorError,
                                     parse_address)

#: Ray restarts a dead actor this many times and re-runs its unfinished calls as often.
MAX_RESTARTS = 4
CONNECT_TIMEOUT_S = 3.0


def ray_module():
    """``ray``, or a one-line error naming the extra that installs it."""
    return require("ray", "ray")


def _host_port(address: str) -> tuple[str, int] | None:
    """``(host, port)`` of a Ray address to probe, or None for the special names (``auto``,
    ``local``) and a Ray client address without a port (:func:`~preflab.executor.config.parse_address`).

    >>> _host_port("ray://10.0.0.5:10001"), _host_port("10.0.0.5:6379"), _host_port("auto")
    (('10.0.0.5', 10001), ('10.0.0.5', 6379), None)
    """
    parsed = parse_address(address)
    if parsed is None or parsed[2] is None:
        return None
    return parsed[1], parsed[2]


def _unreachable(address: str, reason: str) -> ClusterUnreachableError:
    from preflab.redact import redact

    return ClusterUnreachableError(
        f"cannot reach a Ray cluster at {redact(address)} ({reason}); start one with `ray start --head` "
        "and pass the address it prints to --ray-address, or leave --ray-address out to start Ray here")


def start_ray(address: str | None = None, **init: Any) -> None:
    """``ray.init`` as preflab does it: no dashboard, no usage stats, and worker processes at
    the driver's priority. Ray starts its workers at niceness 15 by default (to keep its own
    daemons responsive), which on a machine shared with other jobs starves the actors doing the
    work (seen in ``benchmarks/ray_executor.py`` on this project's shared 2-core machine). A
    cluster started with ``ray start`` keeps its own setting (``RAY_worker_niceness=0 ray start``
    changes it)."""
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_worker_niceness", "0")
    ray_module().init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False, **init)


def connect(executor: Executor) -> dict[str, float]:
    """Join (or start) Ray and check the actors fit the cluster; returns its resources. The
    address is checked (a malformed one is a :class:`~preflab.errors.ConfigError`) and probed
    with a short TCP connect first, so a wrong one fails in seconds."""
    from preflab.config import validate

    validate(executor, "executor")
    ray = ray_module()
    target = _host_port(executor.address) if executor.address else None
    if target is not None:
        try:
            socket.create_connection(target, timeout=CONNECT_TIMEOUT_S).close()
        except OSError as exc:
            raise _unreachable(executor.address, exc.strerror or type(exc).__name__) from None
    if not ray.is_initialized():
        try:
            start_ray(executor.address)
        except (ConnectionError, RuntimeError, TimeoutError, ValueError) as exc:
            if executor.address:
                raise _unreachable(executor.address, str(exc).splitlines()[0][:200]) from None
            raise ExecutorError(f"could not start a local Ray: {str(exc).splitlines()[0][:200]}") from None
    resources = {k: float(v) for k, v in ray.cluster_resources().items()}
    _check_fits(executor, resources, [n.get("Resources", {}) for n in ray.nodes() if n.get("Alive")])
    return resources


def _check_fits(executor: Executor, total: dict[str, float], nodes: list[dict[str, float]]) -> None:
    where = executor.address or "the local Ray"
    for what, per_actor in (("GPU", executor.gpus_per_actor), ("CPU", executor.cpus_per_actor)):
        if per_actor <= 0:
            continue
        largest = max((float(n.get(what, 0)) for n in nodes), default=0.0)
        if per_actor > largest:
            raise ClusterResourcesError(
                f"--ray-{what.lower()}s-per-actor {per_actor:g} is more than any node of {where} has "
                f"(largest: {largest:g} {what}s, cluster total: {total.get(what, 0):g}); lower it or add nodes")
        if executor.actors is not None and executor.actors * per_actor > total.get(what, 0):
            raise ClusterResourcesError(
                f"--ray-actors {executor.actors} × --ray-{what.lower()}s-per-actor {per_actor:g} needs "
                f"{executor.actors * per_actor:g} {what}s; {where} has {total.get(what, 0):g}; use fewer actors")


def actor_count(executor: Executor, resources: dict[str, float]) -> int:
    """``--ray-actors``, else as many actors as the cluster's CPUs (and GPUs) hold."""
    if executor.actors is not None:
        return executor.actors
    fits = [resources.get("CPU", 0) / executor.cpus_per_actor]
    if executor.gpus_per_actor > 0:
        fits.append(resources.get("GPU", 0) / executor.gpus_per_actor)
    return max(1, int(min(fits)))


def actor_threads(executor: Executor) -> int:
    return max(1, int(executor.cpus_per_actor))


def limit_threads(threads: int) -> None:
    """Keep this worker process to its CPU share (OpenMP, BLAS, torch)."""
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)
