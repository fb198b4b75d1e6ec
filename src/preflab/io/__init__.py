"""Read and write preference pairs and prompts in every format preflab supports.

>>> from preflab.io import read_pairs, write_pairs                      # doctest: +SKIP
>>> report = ReadReport()                                               # doctest: +SKIP
>>> pairs = list(read_pairs("hh.jsonl.gz", fmt="hh-rlhf", report=report))  # doctest: +SKIP

The public names, each from the module that does its job: :mod:`~preflab.io.reading` (readers
that validate every row), :mod:`~preflab.io.degenerate` (rows that are valid but cannot train
or test as usual), :mod:`~preflab.io.writing` (atomic writers) and :mod:`~preflab.io.pair_sets`
(the distinct prompts of pairs, the split that keeps a prompt on one side).
"""

from preflab.io.containers import Location
from preflab.io.degenerate import DEGENERATE_RULE, degenerate_counts
from preflab.io.outputs import output_container
from preflab.io.pair_sets import prompts_of, split_pairs
from preflab.io.reading import PAIR_ALIASES, PAIR_FORMATS, ReadReport, read_pairs, read_prompts
from preflab.io.writing import WRITE_FORMATS, write_pairs, write_prompts

__all__ = [
    "ReadReport", "read_pairs", "read_prompts", "write_pairs", "write_prompts", "split_pairs",
    "prompts_of", "output_container", "degenerate_counts", "PAIR_FORMATS", "PAIR_ALIASES", "WRITE_FORMATS",
    "DEGENERATE_RULE", "Location",
]
