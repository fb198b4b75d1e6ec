"""The output guard: no command destroys an input or a folder preflab did not write.

Every command that writes files describes its outputs and inputs and calls
:func:`output_problems` (through :class:`preflab.api.preflight.Preflight`) before any work:

* an output that is an input, or a folder output that holds an input, is refused;
* a folder output that is the working folder, or holds it, is refused;
* an existing, non-empty folder that is not preflab's own is refused unless ``--overwrite``
  is given. A folder is preflab's own when it holds the marker file ``.preflab-output.json``
  (written into every folder preflab makes) or a run record (``run.json``; a saved reward
  model's ``preflab_rm.json`` / ``preflab_embed_head.json``);
* a file output needs a name preflab can write (pair files: ``.jsonl[.gz]``, ``.parquet`` or
  a folder name).

Replacing a folder replaces only what preflab wrote: the marker lists the entries preflab
put there, and :func:`preflab.io.atomic.atomic_path` moves every other entry into the new
folder. Folders filled step by step (``eval``'s report folder, a bench run) are only ever
added to, never emptied.

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
from typing import Iterable, Literal

from preflab.errors import ConfigError

MARKER = ".preflab-output.json"
#: Files whose presence says a folder was written by preflab (older versions had no marker).
OWN_FILES = (MARKER, "run.json", "preflab_rm.json", "preflab_embed_head.json")

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


def is_own_folder(path: Path) -> bool:
    return any((path / name).exists() for name in OWN_FILES)


def _folder_problem(out: Output, real: Path, overwrite: bool) -> str | None:
    if _inside(_real(Path.cwd()), real):
        return f"{out.path} is the current folder or holds it; name a new folder for the output"
    if not real.exists():
        return None
    if not real.is_dir():
        return f"{out.path} exists and is a file, not a folder; name a new folder for the output"
    if overwrite or is_own_folder(real) or not any(real.iterdir()):
        return None
    return (f"{out.path} exists and was not written by preflab (no {MARKER} or run.json in it); "
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
    for out in outputs:
        if out.kind == "workdir":
            out.path.mkdir(parents=True, exist_ok=True)
            if not (out.path / MARKER).exists():
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
    """Entries of an existing folder that preflab did not write (kept when it is replaced).
    A marker without a list (a folder filled over time) or one that cannot be read keeps every
    entry; a folder of an older preflab with no marker at all (only ``run.json``) is all
    preflab's."""
    marker = folder / MARKER
    listed: set[str] = set()
    if marker.exists():
        try:
            entries = json.loads(marker.read_text(encoding="utf-8")).get("entries")
            listed = set(entries) if isinstance(entries, list) else set()
        except (OSError, ValueError, AttributeError):
            listed = set()
    elif is_own_folder(folder):
        return []
    return sorted(p.name for p in folder.iterdir() if p.name not in listed and p.name not in OWN_FILES)


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
