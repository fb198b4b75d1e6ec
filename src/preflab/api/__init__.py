"""The Python API: one function per CLI command (``preflab.generate``, ``preflab.train_rm``,
...), exported lazily from :mod:`preflab`. Each CLI command parses its options and calls the
function here, so the shell and a notebook run the same code with the same checks, caches,
budgets and provenance.
"""
