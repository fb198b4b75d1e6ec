"""Human-facing outputs: the self-contained HTML report of a bench run."""
