"""``preflab data``: inspect, validate, convert and split preference files, as functions
(``preflab.inspect_pairs``, ``preflab.validate_pairs``, ``preflab.convert_pairs``,
``preflab.split_pairs``). Each reads its input like every other command
(:func:`preflab.io.read_pairs`: a file, a datasets folder, ``hf:OWNER/NAME`` or rows in
memory) and returns what the command prints, so a script gets the numbers without parsing a
table.

>>> import preflab
>>> from preflab import PreferencePair, text_prompt
>>> pairs = [PreferencePair(prompt=text_prompt(f"Question {i}?"), chosen=f"A long answer {i}.", rejected="No.")
...          for i in range(4)]
>>> seen = preflab.inspect_pairs(pairs)
>>> seen.stats.records, seen.stats.prompts, seen.read.format
(4, 4, 'pairs')
>>> halves = preflab.split_pairs(pairs, test_fraction=0.5, seed=1)
>>> len(halves.first), len(halves.second)
(2, 2)
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Any, Literal, Optional

from preflab import io
from preflab.api.data import Pairs
from preflab.api.options import ALLOW_EMPTY_HELP, SEED_HELP, fmt_option, overwrite_option, signed
from preflab.api.preflight import Preflight, nonempty, require_records
from preflab.config import option
from preflab.evaluation.data_stats import PairStats, pair_stats
from preflab.errors import Problem, about
from preflab.io.outputs import Output, file_output, pairs_output, workdir_output


@dataclasses.dataclass(frozen=True)
class ReadOptions:
    """How every ``preflab data`` command reads its input pairs."""

    fmt: str = fmt_option()
    column_map: Optional[str] = option(None, "Rename source columns first: 'question=prompt,good=chosen,bad=rejected'.")
    split: Optional[str] = option(None, "Split of a datasets folder or hub dataset (default: train).")
    strict: bool = option(True, "Stop at the first bad row (strict) or skip bad rows and write them to a rejects file "
                          "(lenient).", flag="--strict/--lenient")
    rejects: Optional[Path] = option(None, "Where lenient mode writes bad rows with reasons (default: "
                                     "INPUT.rejects.jsonl).")

    def problems(self) -> list[Problem]:
        from preflab.io.schemas import column_map_problems

        return column_map_problems(self.column_map)


@dataclasses.dataclass(frozen=True)
class ValidateOptions:
    """``preflab data validate``'s own options."""

    allow_empty: bool = option(False, ALLOW_EMPTY_HELP)


@dataclasses.dataclass(frozen=True)
class ConvertOptions:
    """``preflab data convert``'s own options."""

    to: Literal["preflab", "trl", "trl-chat"] = option("preflab", "Output layout: preflab (all columns), trl "
                                                       "(standard), trl-chat (conversational).")
    overwrite: bool = overwrite_option()
    allow_empty: bool = option(False, ALLOW_EMPTY_HELP)


@dataclasses.dataclass(frozen=True)
class SplitOptions:
    """``preflab data split``'s own options."""

    out_dir: Optional[Path] = option(None, "Folder for the two outputs (in Python, without it nothing is written).",
                                     flag=("--out-dir", "-o"))
    test_fraction: float = option(0.5, "Share of prompts on the second side.", unbounded=True)
    seed: int = option(0, SEED_HELP)
    mode: Literal["train-test", "base-prompts"] = option(
        "train-test", "train-test: train.EXT + test.EXT. base-prompts: labelled base.EXT + unlabelled prompts.EXT "
        "(West-of-N's HF50% setting).")
    ext: Literal["jsonl", "parquet"] = option("jsonl", "File type of both outputs.")
    overwrite: bool = overwrite_option()

    def problems(self) -> list[Problem]:
        if not 0 < self.test_fraction < 1:  # both ends open: each side keeps at least a share of the prompts
            return [about("test_fraction", f"must lie strictly between 0 and 1, got {self.test_fraction}")]
        return []


@dataclasses.dataclass(frozen=True)
class Inspection:
    """What ``preflab data inspect`` shows: the statistics of the pairs and what the reader saw."""

    stats: PairStats
    read: io.ReadReport


@dataclasses.dataclass(frozen=True)
class Validation:
    """What ``preflab data validate`` found; ``rejects``: where lenient mode wrote the bad rows."""

    read: io.ReadReport
    rejects: Optional[Path]

    @property
    def ok(self) -> bool:
        return not self.read.rejected


@dataclasses.dataclass(frozen=True)
class Conversion:
    """What ``preflab data convert`` wrote: how many pairs in which layout, and what the reader saw."""

    written: int
    layout: str
    read: io.ReadReport


@dataclasses.dataclass(frozen=True)
class Split:
    """The two sides of ``preflab data split``: ``first`` (train, or the labelled base pairs)
    and ``second`` (test pairs, or the unlabelled prompts), and the files written."""

    first: Pairs
    second: list
    mode: str
    paths: dict[str, Path]
    read: io.ReadReport


def _name(data: Any) -> str:
    return io.memory.NAME if io.memory.is_in_memory(data) else str(data)


def rejects_path(data: Any, read: ReadOptions) -> Optional[Path]:
    """Where lenient mode writes bad rows: ``rejects``, else INPUT.rejects.jsonl in the working
    folder; rows held in memory have no such file unless ``rejects`` names one."""
    if read.strict:
        return None
    if read.rejects is not None:
        return Path(read.rejects)
    return None if io.memory.is_in_memory(data) else Path(f"{Path(data).name}.rejects.jsonl")


def _checked(data: Any, options: dict[str, Any], *own: type, outputs=lambda parsed: []) -> dict[type, Any]:
    """The parsed options, every output (the rejects file included) checked against the input
    before the first row is read."""
    check = Preflight()
    parsed = check.options(options, ReadOptions, *own)
    found: list[Output] = list(outputs(parsed))
    rejects = rejects_path(data, parsed[ReadOptions])
    if rejects is not None:
        found += file_output(rejects)
    overwrite = any(getattr(parsed[cls], "overwrite", False) for cls in own)
    check.outputs(found, [data], overwrite=overwrite)
    check.done()
    return parsed


def _read(data: Any, read: ReadOptions, report: io.ReadReport):
    return io.read_pairs(data, read.fmt, column_map=read.column_map, split=read.split, strict=read.strict,
                         rejects=rejects_path(data, read), report=report)


@signed(ReadOptions)
def inspect_pairs(data: Any, **options: Any) -> Inspection:
    """Counts, length statistics, duplicates, ties and flags of preference pairs
    (``preflab data inspect``), in one streaming pass."""
    read = _checked(data, options)[ReadOptions]
    report = io.ReadReport()
    return Inspection(pair_stats(_read(data, read, report)), report)


@signed(ReadOptions, ValidateOptions)
def validate_pairs(data: Any, **options: Any) -> Validation:
    """Check every row (``preflab data validate``): strict mode raises
    :class:`~preflab.errors.InputError` at the first problem (file, line and field); lenient
    mode writes the bad rows to the rejects file and returns them in ``read.rejected``. An
    input without pairs is an :class:`~preflab.errors.EmptyInputError` unless ``allow_empty``."""
    parsed = _checked(data, options, ValidateOptions)
    read = parsed[ReadOptions]
    report = io.ReadReport()
    for _ in _read(data, read, report):
        pass
    if not report.rejected:
        require_records(report.records, "pairs", _name(data), parsed[ValidateOptions].allow_empty)
    return Validation(report, rejects_path(data, read))


@signed(ReadOptions, ConvertOptions)
def convert_pairs(data: Any, dst: str | Path, **options: Any) -> Conversion:
    """Write the pairs of ``data`` to ``dst`` (.jsonl, .jsonl.gz, .parquet or a datasets folder)
    in the layout ``to`` (``preflab data convert``); the output appears only when complete.
    An input without pairs writes nothing and raises unless ``allow_empty``."""
    if not isinstance(dst, (str, os.PathLike)):
        check = Preflight()
        check.path("dst", dst, "the output's path (.jsonl, .jsonl.gz, .parquet or a folder name)")
        check.done()
    parsed = _checked(data, options, ConvertOptions, outputs=lambda parsed: pairs_output(dst))
    own = parsed[ConvertOptions]
    report = io.ReadReport()
    pairs = nonempty(_read(data, parsed[ReadOptions], report), "pairs", _name(data), own.allow_empty)
    return Conversion(io.write_pairs(pairs, dst, fmt=own.to), own.to, report)


@signed(ReadOptions, SplitOptions)
def split_pairs(data: Any, **options: Any) -> Split:
    """A seeded split by prompt, no prompt on both sides (``preflab data split``): train and
    test pairs, or (``mode="base-prompts"``) labelled base pairs and the other side's prompts
    without labels. With ``out_dir`` both sides are written there (``train.EXT`` + ``test.EXT``,
    or ``base.EXT`` + ``prompts.EXT``)."""
    parsed = _checked(data, options, SplitOptions,
                      outputs=lambda parsed: [] if parsed[SplitOptions].out_dir is None
                      else workdir_output(parsed[SplitOptions].out_dir))
    own = parsed[SplitOptions]
    report = io.ReadReport()
    first, second = io.split_pairs(_read(data, parsed[ReadOptions], report), own.test_fraction, own.seed)
    names = ("train", "test") if own.mode == "train-test" else ("base", "prompts")
    rest: list = second if own.mode == "train-test" else list(io.prompts_of(second))
    paths: dict[str, Path] = {}
    if own.out_dir is not None:
        paths = {name: Path(own.out_dir) / f"{name}.{own.ext}" for name in names}
        io.write_pairs(first, paths[names[0]])
        if own.mode == "train-test":
            io.write_pairs(rest, paths[names[1]])
        else:
            io.write_prompts(rest, paths[names[1]])
    return Split(Pairs(first), Pairs(rest) if own.mode == "train-test" else rest, own.mode, paths, report)
