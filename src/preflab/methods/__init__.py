"""Generation methods, one module each, registered by name (``preflab methods`` lists them)."""

from preflab.methods import baselines, rlaif, rlcd, rmboost, west_of_n  # noqa: F401  (registration)
from preflab.methods.base import Context, Failure, generate, get_method, methods

__all__ = ["Context", "Failure", "generate", "get_method", "methods"]
