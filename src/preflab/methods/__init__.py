"""Generation methods, one module each, registered by name (``preflab methods`` lists them)."""

from preflab.methods import baselines, rlaif, rlcd, rmboost, west_of_n  # noqa: F401  (registration)
from preflab.methods.base import Context, Failure, get_method, methods, stream_outcomes

__all__ = ["Context", "Failure", "get_method", "methods", "stream_outcomes"]
