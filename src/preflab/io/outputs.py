"""The output guard: no command destroys an input or a folder preflab did not write.

Every command that writes files describes its outputs and inputs and calls
:func:`output_problems` (through :class:`preflab.api.preflight.Preflight`) before any work:

* an output that is an input, or a folder output that holds an input, is refused;
* a folder output that is the working folder, or holds it, is refused;
* an existing, non-empty folder that is not preflab's own is refused unless ``--overwrite``
  is given. A folder is preflab's own when it holds preflab's marker file
  ``.preflab-output.json`` (written into every folder preflab makes), or, for folders of
  versions before the marker, a ``run.json`` whose content is a preflab run record
  (:func:`is_run_record`). Any other file, a ``run.json`` of another tool included, makes
  the folder someone else's;
* a file output needs a name preflab can write (pair files: ``.jsonl[.gz]``, ``.parquet`` or
  a folder name).

Replacing a folder replaces only what preflab wrote: the marker lists the entries preflab
put there, and :func:`preflab.io.atomic.atomic_path` moves every other entry into the new
folder (in a folder with no marker, every entry the new output does not write is kept).
Folders filled step by step (``eval``'s report folder, a bench run) are only ever added to,
never emptied.

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> (root / "pairs.jsonl").write_text("{}")
2
>>> output_problems(pairs_output(root / "pairs.jsonl"), [root / "pairs.jsonl"])  # doctest: +ELLIPSIS
['...pairs.jsonl is also an input; write the output somewhere else']
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

from preflab.errors import ConfigError

MARKER = ".preflab-output.json"
#: The keys of every run record preflab writes (:func:`preflab.provenance.run_record`).
RUN_RECORD_KEYS = frozenset({"step", "created", "command", "config", "versions", "inputs", "counts"})

Kind = Literal["file", "folder", "workdir"]


@dataclass(frozen=True)
class Output:
    """One path a command writes. ``folder``: written whole and swapped in atomically;
    ``workdir``: a folder the command fills over time (claimed with the marker up front)."""

    path: Path
    kind: Kind = "file"
    problem: str | None = None  # a name the writer cannot write, found before any work


def _nameless(path: Path) -> Output | None:
    """A problem output for a path with no file name (``""``, ``.``, ``..``, ``/``), else None."""
    if path.name in ("", ".", ".."):
        return Output(path, "file", f"the output {str(path)!r} has no file name (it names a folder such as . or /); "
                                    "give it one, e.g. out.jsonl")
    return None


def file_output(path: str | os.PathLike, *suffixes: str) -> list[Output]:
    """A single-file output and its sidecars (``OUT`` + ``OUT.run.json`` ...)."""
    path = Path(path)
    nameless = _nameless(path)
    if nameless is not None:
        return [nameless]
    return [Output(path)] + [Output(path.with_name(path.name + s)) for s in suffixes]


def output_container(path: str) -> str:
    """``jsonl``, ``parquet`` or ``hf`` (a datasets folder) for an output name; any other
    extension is a :class:`ConfigError` (checked before the work)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if "." in name:
        raise ConfigError(f"{path}: write .jsonl, .jsonl.gz, .parquet, or a folder name (datasets)")
    return "hf"


def pairs_output(path: str | os.PathLike, *suffixes: str) -> list[Output]:
    """An output written by :func:`preflab.io.write_pairs`: a file, or a ``datasets`` folder
    when the name has no extension; a name with another extension is a problem now, not after
    the work."""
    path = Path(path)
    nameless = _nameless(path)
    if nameless is not None:
        return [nameless]
    try:
        kind: Kind = "folder" if output_container(str(path)) == "hf" else "file"
        problem = None
    except ConfigError as exc:
        kind, problem = "file", str(exc)
    return [Output(path, kind, problem)] + file_output(path, *suffixes)[1:]


def folder_output(path: str | os.PathLike) -> list[Output]:
    return [Output(Path(path), "folder")]


def workdir_output(path: str | os.PathLike) -> list[Output]:
    return [Output(Path(path), "workdir")]


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def _inside(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def _json_file(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def marker_of(folder: Path) -> dict[str, Any] | None:
    """The content of preflab's marker in ``folder``; None when there is none, or the file of
    that name is not one preflab wrote."""
    data = _json_file(folder / MARKER)
    return data if isinstance(data, dict) and data.get("written_by") == "preflab" else None


def is_run_record(data: Any) -> bool:
    """Whether parsed JSON is a run record preflab wrote: an object with every key of one."""
    return isinstance(data, dict) and RUN_RECORD_KEYS <= data.keys() and isinstance(data.get("step"), str)


def is_own_folder(path: Path) -> bool:
    """Preflab wrote ``path``: its marker is there, or (folders older than the marker) a
    ``run.json`` that is a preflab run record. Another tool's ``run.json`` is no proof."""
    return marker_of(path) is not None or is_run_record(_json_file(path / "run.json"))


def _folder_problem(out: Output, real: Path, overwrite: bool) -> str | None:
    if _inside(_real(Path.cwd()), real):
        return f"{out.path} is the current folder or holds it; name a new folder for the output"
    if not real.exists():
        return None
    if not real.is_dir():
        return f"{out.path} exists and is a file, not a folder; name a new folder for the output"
    if overwrite or is_own_folder(real) or not any(real.iterdir()):
        return None
    return (f"{out.path} exists and was not written by preflab (no {MARKER} or preflab run.json in it); "
            "pass --overwrite to write into it (files preflab does not write are kept) or name a new folder")


def output_problems(outputs: Iterable[Output], inputs: Iterable[str | os.PathLike | None], *,
                    overwrite: bool = False) -> list[str]:
    """Everything wrong with writing ``outputs`` given ``inputs``; empty when all is well.
    Hub ids (``hf:...``) and missing inputs are not files to protect."""
    real_inputs = [(str(p), _real(p)) for p in inputs if p is not None and not str(p).startswith("hf:")]
    problems: list[str] = []
    for out in outputs:
        if out.problem:
            problems.append(out.problem)
            continue
        real = _real(out.path)
        folder = out.kind != "file" or real.is_dir()
        for shown, inp in real_inputs:
            if real == inp:
                problems.append(f"{out.path} is also an input; write the output somewhere else")
                break
            if folder and _inside(inp, real):
                problems.append(f"{out.path} holds the input {shown}; writing the output there would replace it, "
                                "name another folder")
                break
        else:
            if folder:
                problem = _folder_problem(out, real, overwrite)
                if problem:
                    problems.append(problem)
    return problems


def claim(outputs: Iterable[Output]) -> None:
    """Create every ``workdir`` output with preflab's marker (after validation passed)."""
    from preflab.io.refusals import writing

    for out in outputs:
        if out.kind == "workdir":
            with writing(out.path):
                out.path.mkdir(parents=True, exist_ok=True)
                if marker_of(out.path) is None:
                    write_marker(out.path, entries=None)


def write_marker(folder: Path, entries: list[str] | None | Literal["auto"] = "auto") -> None:
    """Mark ``folder`` as preflab's, listing the entries preflab wrote (``None``: a folder
    filled over time, whose entries are never deleted)."""
    from preflab import __version__

    if entries == "auto":
        entries = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    (folder / MARKER).write_text(json.dumps({"written_by": "preflab", "version": __version__, "entries": entries},
                                            indent=1) + "\n", encoding="utf-8")


def foreign_entries(folder: Path) -> list[str]:
    """Entries of an existing folder that preflab did not write (kept when it is replaced):
    those its marker does not list. A marker without a list (a folder filled over time) keeps
    every entry, and so does a folder without a marker (an older preflab's, or one written
    into with ``--overwrite``): only what the new output writes replaces an entry there."""
    marker = marker_of(folder)
    entries = marker.get("entries") if marker is not None else None
    listed = {e for e in entries if isinstance(e, str)} if isinstance(entries, list) else set()
    return sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name != MARKER)


_UNSAFE = re.compile(r"[^A-Za-z0-9._+=-]+")


def safe_file_name(label: str, limit: int = 100) -> str:
    """A user label (a bench method's ``label``) as one safe path component: no separators,
    no leading dot, no ``..``, bounded length.

    >>> safe_file_name("x/../../../ESCAPED")
    'x_.._.._.._ESCAPED'
    >>> safe_file_name("../up"), safe_file_name("rmboost n=8")
    ('_up', 'rmboost_n=8')
    """
    name = _UNSAFE.sub("_", label).lstrip(".")
    return (name or "_")[:limit]
