"""Prove that a refactor changed no output: run preflab's commands on fixed inputs, hash every file.

What it checks. One pass runs a fixed list of ``python -m preflab ...`` commands (``sys.executable``,
``PYTHONPATH=--src``) with a fixed seed, an empty cache (``PREFLAB_CACHE`` and ``--cache-path``
point at a fresh folder inside ``--work``) and the Hugging Face libraries offline:

- ``generate``: rlcd, random-label and west-of-n (scored by the cheap RM, a confidence filter that
  fails about half the prompts) on the ``fake#seeded=true`` backend; rlcd on the embedded
  llama.cpp model (``--llm llamacpp``, 3 prompts, 32 tokens);
- ``train-rm``: ``--cheap`` (frozen MiniLM + head) and a 2-step MiniLM fine-tune;
- ``score`` (pairs with both RMs, and prompt + responses rows), ``eval``;
- ``strength`` (embed-head, seeds and heads modes, 3 members), ``clean`` (flip/drop/smooth/margin,
  and a length rebalance);
- ``bench``: a tiny config on the fake backend (split of HH base pairs, embed-head RM, one seed).

The inputs are the small files shipped in the repo (``examples/pairs_small.jsonl`` and
``src/preflab/data/*``, found relative to this script's repo root, else under ``--src``), copied
into ``WORK/inputs`` first; every command runs in ``WORK/out`` with relative paths.

Afterwards every file under ``WORK/out`` and in the cache (``$PREFLAB_CACHE/...``: the LLM call
cache, the frozen-encoder embeddings, the Q8_0 copy of SmolLM2) is hashed (sha256) into the
manifest (``--out``): pairs, failures, run records, model weights, scores, eval and bench results,
plots, caches. Before hashing:

- text files have the absolute paths of the pass (the work folder, ``--src``, the repo root, the
  Python prefix, the home folder) replaced by ``<WORK>``, ``<SRC>``, ``<REPO>``, ``<PREFIX>``, ``<HOME>``;
- every JSON file (run records, results, step records, model metadata) and the training metrics
  JSONL lose the keys that differ between two runs of the same code (timestamps, wall times,
  speeds, library versions: ``VOLATILE_KEYS``, ``VOLATILE_KEY_PATTERN``), and a run record's input
  fingerprint of a folder (a saved model, whose own run.json holds its creation time) is replaced
  by a placeholder; the reports' printed wall times become ``<N>`` (``VOLATILE_TEXT``);
- SQLite files (the caches) are hashed as a dump of their rows, sorted, without ``created_at``
  and without the volatile keys of the JSON they hold (the call's latency).

The manifest says, per file, which of these changed it (``normalised``), describes each rule
(``normalisation``) and lists the files left out with the reason (``excluded``, from ``EXCLUDE``:
files that differ even between two runs of the same code). ``--keep-normalised`` also writes the
normalised bytes of every file to ``WORK/normalised/`` so that two passes can be diffed file by file.

Usage (from the repo root; one pass takes about 2 minutes on 2 cores)::

    python scripts/same_outputs.py --src /path/to/old/src --work /tmp/same_a --out a.json
    python scripts/same_outputs.py --src /path/to/new/src --work /tmp/same_b --out b.json
    python scripts/same_outputs.py --compare a.json b.json      # table of differing files; exit 1 if any

Use one interpreter (a virtual environment with every extra: torch, transformers, llama-cpp-python,
the embedded models) and one machine for both passes (the manifest records the versions and the
CPU count; ``--compare`` warns when they differ). ``--work`` is created fresh (an existing one is
deleted only if it is empty or an earlier pass made it). A pass exits 1 if a
command failed (its return code and the tail of its log are in the manifest; the logs are in
``WORK/logs``). Run the same tree twice and compare to see that the manifest is deterministic.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SEED = 0

#: Inputs: name in WORK/inputs -> path relative to the repo root (fallback: relative to --src).
INPUTS = {
    "prompts.txt": "src/preflab/data/example_prompts.txt",
    "pairs_small.jsonl": "examples/pairs_small.jsonl",
    "check_pairs.jsonl": "src/preflab/data/quickstart_eval.jsonl",
    "hh_base.jsonl.gz": "src/preflab/data/hh_harmless_base.jsonl.gz",
}

FAKE = "fake#seeded=true"
CACHE = "../cache/llm-calls.sqlite3"  # relative to WORK/out, inside PREFLAB_CACHE

BENCH_YAML = f"""\
# A tiny bench on the fake LLM (written by scripts/same_outputs.py).
name: tiny
seed: {SEED}
llm: "{FAKE}"
split: {{path: hh_base_80.jsonl, format: hh-rlhf, base_fraction: 0.25, eval_fraction: 0.25, seed: {SEED}}}
budget_prompts: 4
samples_per_method: 4
methods:
  - {{name: random-label, options: {{max_tokens: 32}}}}
  - {{name: rlcd, options: {{max_tokens: 32}}}}
rm:
  recipe: embed-head
  seeds: [{SEED}]
  options: {{epochs: 5}}
eval:
  - {{name: heldout, from_split: true}}
  - {{name: check, path: ../inputs/check_pairs.jsonl}}
"""


def _gen(method: str, out: str, *extra: str, llm: str = FAKE) -> list[str]:
    return ["generate", method, "--llm", llm, "--prompts", "../inputs/prompts.txt", "--out", out,
            "--seed", str(SEED), "--cache-path", CACHE, *extra]


#: (step name, preflab arguments), run in this order in WORK/out.
STEPS: list[tuple[str, list[str]]] = [
    ("generate-rlcd-fake", _gen("rlcd", "gen/rlcd_fake.jsonl", "--limit", "8", "--max-tokens", "48")),
    ("generate-random-label-fake", _gen("random-label", "gen/random_label_fake.jsonl", "--limit", "8",
                                        "--max-tokens", "48")),
    ("generate-rlcd-llamacpp", _gen("rlcd", "gen/rlcd_llamacpp.jsonl", "--limit", "3", "--max-tokens", "32",
                                    "--keep-truncated", llm="llamacpp")),
    ("train-rm-cheap", ["train-rm", "../inputs/hh_base_80.jsonl", "--format", "hh-rlhf", "--lenient", "--cheap",
                        "--max-length", "256", "--seed", str(SEED), "--output-dir", "rm/cheap"]),
    ("train-rm-finetune", ["train-rm", "../inputs/check_pairs.jsonl", "--model", "minilm", "--max-steps", "2",
                           "--batch-size", "4", "--max-length", "128", "--seed", str(SEED), "--threads", "2",
                           "--log-every", "1", "--no-progress", "--output-dir", "rm/finetune"]),
    ("generate-west-of-n-fake", _gen("west-of-n", "gen/west_of_n_fake.jsonl", "--limit", "6", "--n", "4",
                                     "--max-tokens", "48", "--scorer", "rm/cheap",
                                     "--min-confidence", "0.61")),  # about half fail: a failures file with rows
    ("score-cheap", ["score", "rm/cheap", "../inputs/check_pairs.jsonl", "--output", "score/check_cheap.jsonl"]),
    ("score-finetune", ["score", "rm/finetune", "../inputs/pairs_small.jsonl", "--output",
                        "score/small_finetune.jsonl"]),
    ("score-responses", ["score", "rm/cheap", "../inputs/responses.jsonl", "--output", "score/responses_cheap.jsonl"]),
    ("eval-cheap", ["eval", "rm/cheap", "../inputs/check_pairs.jsonl", "--output-dir", "eval/cheap",
                    "--bootstrap", "200", "--seed", str(SEED)]),
    ("strength-seeds", ["strength", "../inputs/check_pairs.jsonl", "quality/strength_seeds.jsonl", "--mode", "seeds",
                        "--recipe", "embed-head", "--members", "3", "--head-epochs", "50", "--seed", str(SEED)]),
    ("strength-heads", ["strength", "gen/rlcd_fake.jsonl", "quality/strength_heads.jsonl", "--mode", "heads",
                        "--recipe", "embed-head", "--members", "3", "--head-epochs", "50", "--seed", str(SEED)]),
    ("clean-repair", ["clean", "quality/strength_seeds.jsonl", "quality/clean_repair.jsonl", "--flip-fraction", "0.1",
                      "--drop-below", "0.05", "--smooth-alpha", "0.1", "--smooth-fraction", "0.3", "--margin"]),
    ("clean-balance", ["clean", "../inputs/check_pairs.jsonl", "quality/clean_balance.jsonl", "--balance-length",
                       "drop", "--seed", str(SEED)]),
    ("bench-tiny", ["bench", "../inputs/bench_tiny.yaml", "--out", "bench/tiny"]),
]

#: Keys dropped (at any depth) from JSON files, metrics JSONL rows and JSON held in SQLite cells before
#: hashing: they hold wall times, timestamps, speeds, versions and host details that differ between two
#: runs of the same code. Found by diffing two passes of the same tree (``--keep-normalised``).
VOLATILE_KEYS = {
    "created", "created_at", "wall_s", "train_s", "latency_s", "total_seconds", "trunk_seconds", "member_seconds",
    "pairs_per_second", "time", "versions",
}
#: Any other key that names a duration or a speed (``*_s``, ``*_seconds``, ``*_per_second``) is dropped too.
VOLATILE_KEY_PATTERN = re.compile(r"(_s|_seconds|_per_second)$")
#: Text substitutions (after the path ones) in reports: the wall times they print.
VOLATILE_TEXT = [
    (re.compile(r"wall time [0-9.]+ s"), "wall time <N> s"),  # report.html header
    (re.compile(r"<td>[0-9.]+ s</td>"), "<td><N> s</td>"),   # report.html cost table
    (re.compile(r"\| [0-9.]+ s \|"), "| <N> s |"),            # results.md cost table
]
#: SQLite columns dropped before hashing (the call cache's time of each call).
VOLATILE_COLUMNS = {"created_at"}
#: Files whose JSON (or JSONL rows) get VOLATILE_KEYS dropped: every JSON file (run records, results,
#: done.json, model metadata) and training-metrics JSONL; never a pairs file.
METADATA = re.compile(r"(\.json|metrics\.jsonl)$")
#: In ``inputs`` of a run record, the fingerprint of a FOLDER (a model saved by train-rm) covers its
#: run.json, whose creation time differs run to run: it is dropped (a file's fingerprint is kept).
FOLDER_FINGERPRINT = "fingerprint of a folder input"
#: Files left out of the comparison: relative path regex -> reason.
EXCLUDE: dict[str, str] = {
    r"\.sqlite3?-(wal|shm|journal)$": "SQLite's transient journal of a connection left open (its rows are in the "
                                      "database file, which is compared)",
}
TEXT_SUFFIXES = (".json", ".jsonl", ".md", ".html", ".txt", ".yaml", ".yml", ".csv", ".svg", ".log")


def _find_input(rel: str, src: Path) -> Path:
    for base in (REPO, src.parent):
        if (base / rel).is_file():
            return base / rel
    if rel.startswith("src/") and (src / rel[len("src/"):]).is_file():
        return src / rel[len("src/"):]
    raise SystemExit(f"input {rel} not found under {REPO} or {src.parent}")


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def prepare_inputs(src: Path, work: Path) -> dict[str, Any]:
    inputs = work / "inputs"
    inputs.mkdir(parents=True)
    found = {}
    for name, rel in INPUTS.items():
        path = _find_input(rel, src)
        shutil.copyfile(path, inputs / name)
        found[name] = {"from": rel, "sha256": _sha((inputs / name).read_bytes())}
    # The first 80 HH-RLHF base pairs, lines unchanged (the cheap RM's and the bench's data).
    with gzip.open(inputs / "hh_base.jsonl.gz", "rt", encoding="utf-8") as fh:
        head = [next(fh) for _ in range(80)]
    (inputs / "hh_base_80.jsonl").write_text("".join(head), encoding="utf-8")
    # Prompt + responses rows (score's other input), made from pairs_small.
    rows = [json.loads(line) for line in (inputs / "pairs_small.jsonl").read_text(encoding="utf-8").splitlines() if line]
    with open(inputs / "responses.jsonl", "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps({"prompt": row["prompt"], "responses": [row["chosen"], row["rejected"]]}) + "\n")
    (inputs / "bench_tiny.yaml").write_text(BENCH_YAML, encoding="utf-8")
    for name in ("hh_base_80.jsonl", "responses.jsonl", "bench_tiny.yaml"):
        found[name] = {"from": "made by this script", "sha256": _sha((inputs / name).read_bytes())}
    return found


def child_env(src: Path, work: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFLAB_")}
    env.update({
        "PYTHONPATH": str(src), "PREFLAB_CACHE": str(work / "cache"),
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1",
        "PYTHONHASHSEED": "0", "TOKENIZERS_PARALLELISM": "false", "COLUMNS": "160", "NO_COLOR": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
    })
    return env


MARKER = ".same_outputs-work"


def run_pass(src: Path, work: Path) -> tuple[dict[str, Any], bool]:
    if work.exists():
        if not (work / MARKER).exists() and any(work.iterdir()):
            raise SystemExit(f"--work {work} exists and was not made by this script; give a new folder")
        shutil.rmtree(work)
    for sub in ("out", "cache", "logs"):
        (work / sub).mkdir(parents=True)
    (work / MARKER).write_text("scratch folder of scripts/same_outputs.py; deleted by its next pass\n")
    inputs = prepare_inputs(src, work)
    env = child_env(src, work)
    where = subprocess.run([sys.executable, "-c", "import preflab; print(preflab.__file__)"], env=env,
                           cwd=work / "out", capture_output=True, text=True, check=True).stdout.strip()
    if not Path(where).resolve().is_relative_to(src.resolve()):
        raise SystemExit(f"preflab imports from {where}, not from --src {src}")
    steps, ok, start = [], True, time.time()
    for name, args in STEPS:
        t0 = time.time()
        log = work / "logs" / f"{name}.log"
        with open(log, "w", encoding="utf-8") as fh:
            rc = subprocess.run([sys.executable, "-m", "preflab", *args], env=env, cwd=work / "out",
                                stdout=fh, stderr=subprocess.STDOUT).returncode
        wall = time.time() - t0
        entry = {"step": name, "command": "preflab " + " ".join(args), "rc": rc, "wall_s": round(wall, 1)}
        if rc != 0:
            ok = False
            entry["log_tail"] = log.read_text(encoding="utf-8", errors="replace")[-2000:]
        steps.append(entry)
        print(f"{'ok ' if rc == 0 else 'FAIL'} {name:28s} {wall:6.1f} s", file=sys.stderr, flush=True)
    return {"inputs": inputs, "steps": steps, "wall_s": round(time.time() - start, 1)}, ok


def _volatile(key: str) -> bool:
    return key in VOLATILE_KEYS or bool(VOLATILE_KEY_PATTERN.search(key))


def _drop_volatile(data: Any, dropped: set[str], out_dir: Path | None = None) -> Any:
    """``data`` without its volatile keys (their names go to ``dropped``)."""
    if isinstance(data, dict):
        result = {}
        for key, value in data.items():
            if _volatile(key):
                dropped.add(key)
                continue
            result[key] = _drop_volatile(value, dropped, out_dir)
        if out_dir is not None and set(result) >= {"path", "fingerprint"} and isinstance(result["path"], str):
            where = Path(result["path"].replace("<WORK>", str(out_dir.parent)))
            if (where if where.is_absolute() else out_dir / where).is_dir():
                result["fingerprint"] = f"<{FOLDER_FINGERPRINT}>"
                dropped.add(FOLDER_FINGERPRINT)
        return result
    if isinstance(data, list):
        return [_drop_volatile(v, dropped, out_dir) for v in data]
    return data


def _path_subs(src: Path, work: Path) -> list[tuple[str, str]]:
    pairs = {str(work.resolve()): "<WORK>", str(work): "<WORK>", str(src.resolve()): "<SRC>", str(src): "<SRC>",
             str(REPO): "<REPO>", sys.prefix: "<PREFIX>", sys.base_prefix: "<BASE_PREFIX>",
             str(Path.home()): "<HOME>"}
    return sorted(((k, v) for k, v in pairs.items() if len(k) > 1), key=lambda kv: -len(kv[0]))


def normalise(rel: str, data: bytes, subs: list[tuple[str, str]], out_dir: Path) -> tuple[bytes, list[str]]:
    """The bytes to hash for file ``rel`` and what was done to them."""
    done: list[str] = []
    if rel.endswith(".gz"):
        return data, done
    if not rel.endswith(TEXT_SUFFIXES):
        return data, done
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return data, done
    new = text
    for old, placeholder in subs:
        new = new.replace(old, placeholder)
    if new != text:
        done.append("paths")
    text = new
    new = text
    for pattern, placeholder in VOLATILE_TEXT:
        new = pattern.sub(placeholder, new)
    if new != text:
        done.append("wall times in the text")
    text = new
    if METADATA.search(rel):
        dropped: set[str] = set()
        if rel.endswith(".jsonl"):
            lines = [json.dumps(_drop_volatile(json.loads(line), dropped, out_dir), sort_keys=True)
                     for line in text.splitlines() if line.strip()]
            text = "\n".join(lines) + "\n"
        else:
            text = json.dumps(_drop_volatile(json.loads(text), dropped, out_dir), indent=1, sort_keys=True) + "\n"
        if dropped:
            done.append("dropped keys: " + ", ".join(sorted(dropped)))
    return text.encode("utf-8"), done


def _cell(value: Any, dropped: set[str]) -> Any:
    """A SQLite cell to hash: a blob by its sha256, JSON text without its volatile keys."""
    if isinstance(value, bytes):
        return _sha(value)
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.dumps(_drop_volatile(json.loads(value), dropped), sort_keys=True)
        except ValueError:
            pass
    return value


def sqlite_dump(path: Path) -> tuple[bytes, list[str]]:
    """A SQLite file as text: every table's schema and rows (sorted), ``created_at`` columns dropped,
    blobs by sha256. The file's own bytes (page order, free pages, times) vary run to run."""
    import sqlite3

    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        lines, dropped = [], set()
        for name, sql in db.execute("SELECT name, sql FROM sqlite_master WHERE type IN ('table', 'index') "
                                    "ORDER BY type, name"):
            lines.append(json.dumps({"schema": name, "sql": sql}))
            if not sql or not sql.lstrip().upper().startswith("CREATE TABLE"):
                continue
            cols = [c[1] for c in db.execute(f'PRAGMA table_info("{name}")')]
            keep = [c for c in cols if c not in VOLATILE_COLUMNS]
            dropped |= {f"column {c}" for c in set(cols) - set(keep)}
            select = ", ".join(f'"{c}"' for c in keep)
            rows = [[_cell(v, dropped) for v in row] for row in db.execute(f'SELECT {select} FROM "{name}"')]
            for row in sorted(rows, key=lambda r: json.dumps(r, sort_keys=True, default=str)):
                lines.append(json.dumps(dict(zip(keep, row)), sort_keys=True, default=str))
    finally:
        db.close()
    done = ["sqlite dump: schema + rows sorted, blobs by sha256"]
    if dropped:
        done.append("dropped: " + ", ".join(sorted(dropped)))
    return ("\n".join(lines) + "\n").encode("utf-8"), done


def hash_outputs(src: Path, work: Path, keep: bool) -> tuple[dict[str, Any], dict[str, str]]:
    """Every file under WORK/out (named by its path there) and WORK/cache (``$PREFLAB_CACHE/...``)."""
    subs = _path_subs(src, work)
    files, excluded = {}, {}
    for root, prefix in ((work / "out", ""), (work / "cache", "$PREFLAB_CACHE/")):
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            rel = prefix + path.relative_to(root).as_posix()
            reason = next((why for pattern, why in EXCLUDE.items() if re.search(pattern, rel)), None)
            if reason:
                excluded[rel] = reason
                continue
            raw = path.read_bytes()
            if raw[:16] == b"SQLite format 3\x00":
                data, done = sqlite_dump(path)
            else:
                data, done = normalise(rel, raw, subs, work / "out")
            entry: dict[str, Any] = {"sha256": _sha(data), "bytes": len(raw)}
            if done:
                entry["normalised"] = done
            files[rel] = entry
            if keep:
                target = work / "normalised" / rel.replace("$", "")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
    return files, excluded


def environment() -> dict[str, Any]:
    from importlib import metadata

    found = {"python": platform.python_version(), "machine": platform.machine(), "cpu_count": os.cpu_count()}
    for name in ("torch", "transformers", "numpy", "llama_cpp_python", "safetensors", "matplotlib"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def make_manifest(args: argparse.Namespace) -> int:
    src, work = Path(args.src).absolute(), Path(args.work).absolute()
    run, ok = run_pass(src, work)
    files, excluded = hash_outputs(src, work, args.keep_normalised)
    manifest = {
        "what": "sha256 of every output file of scripts/same_outputs.py's commands (normalised where noted)",
        "seed": SEED,
        "environment": environment(),
        "normalisation": {
            "paths": "text files: absolute paths of the pass replaced by <WORK>, <SRC>, <REPO>, <PREFIX>, <HOME>",
            "wall times in the text": f"reports: {[p.pattern for p, _ in VOLATILE_TEXT]} replaced by <N>",
            "dropped keys": f"files matching {METADATA.pattern} (and JSON in SQLite cells): keys {sorted(VOLATILE_KEYS)} "
                            f"and keys matching {VOLATILE_KEY_PATTERN.pattern} dropped at any depth (wall times, "
                            "timestamps, speeds, versions), then dumped with sorted keys",
            FOLDER_FINGERPRINT: "run records' input fingerprint of a folder (a saved model: it covers the model's "
                                "run.json, whose 'created' time differs run to run) replaced by a placeholder; "
                                "file fingerprints are kept",
            "sqlite dump": f"SQLite files (caches): schema and rows, sorted; columns {sorted(VOLATILE_COLUMNS)} dropped; "
                           "blobs by sha256 (the raw bytes hold page order and times)",
        },
        "excluded_patterns": EXCLUDE,
        **run,
        "files": files,
        "excluded": excluded,
    }
    Path(args.out).write_text(json.dumps(manifest, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"{len(files)} files hashed, {len(excluded)} excluded, {run['wall_s']} s → {args.out}", file=sys.stderr)
    return 0 if ok else 1


def compare(a_path: str, b_path: str) -> int:
    a, b = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (a_path, b_path))
    rows = []
    for rel in sorted(set(a["files"]) | set(b["files"])):
        fa, fb = a["files"].get(rel), b["files"].get(rel)
        if fa is None or fb is None:
            rows.append((rel, "only in " + ("B" if fa is None else "A"), (fa or fb)["sha256"][:12], ""))
        elif fa["sha256"] != fb["sha256"]:
            rows.append((rel, "differs", fa["sha256"][:12], fb["sha256"][:12]))
    steps_a = {s["step"]: s for s in a["steps"]}
    steps_b = {s["step"]: s for s in b["steps"]}
    for name in sorted(set(steps_a) | set(steps_b)):
        sa, sb = steps_a.get(name), steps_b.get(name)
        if sa is None or sb is None or sa["command"] != sb["command"] or sa["rc"] != sb["rc"]:
            rows.append((f"[step] {name}", "step differs",
                         "-" if sa is None else f"rc={sa['rc']}", "-" if sb is None else f"rc={sb['rc']}"))
    for name in sorted(set(a["inputs"]) | set(b["inputs"])):
        if a["inputs"].get(name, {}).get("sha256") != b["inputs"].get(name, {}).get("sha256"):
            rows.append((f"[input] {name}", "input differs", "", ""))
    env_diff = {k: (a["environment"].get(k), b["environment"].get(k))
                for k in set(a["environment"]) | set(b["environment"])
                if a["environment"].get(k) != b["environment"].get(k)}
    if env_diff:
        print(f"note: the environments differ (outputs may differ for that reason): {env_diff}")
    if a.get("normalisation") != b.get("normalisation") or a.get("excluded_patterns") != b.get("excluded_patterns"):
        print("note: the manifests were made with different normalisation or exclusion rules")
    if set(a.get("excluded", {})) != set(b.get("excluded", {})):
        print("note: the excluded files differ:", sorted(set(a["excluded"]) ^ set(b["excluded"])))
    print(f"A: {a_path} ({len(a['files'])} files)\nB: {b_path} ({len(b['files'])} files)")
    if not rows:
        print("no differences")
        return 0
    width = max(len(r[0]) for r in rows)
    print(f"{'file':{width}s}  {'status':13s}  {'A':12s}  {'B':12s}")
    for rel, status, ha, hb in rows:
        print(f"{rel:{width}s}  {status:13s}  {ha:12s}  {hb:12s}")
    print(f"{len(rows)} difference(s)")
    return 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", help="The src folder of the checkout to test (its preflab is imported).")
    parser.add_argument("--work", help="Scratch folder (deleted and created fresh).")
    parser.add_argument("--out", help="Manifest JSON to write.")
    parser.add_argument("--keep-normalised", action="store_true",
                        help="Also write each file's normalised bytes to WORK/normalised/ (to diff two passes).")
    parser.add_argument("--compare", nargs=2, metavar=("A.json", "B.json"), help="Compare two manifests.")
    args = parser.parse_args(argv)
    if args.compare:
        return compare(*args.compare)
    if not (args.src and args.work and args.out):
        parser.error("give --src, --work and --out (or --compare A.json B.json)")
    return make_manifest(args)


if __name__ == "__main__":
    sys.exit(main())
