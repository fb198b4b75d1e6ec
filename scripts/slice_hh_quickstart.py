"""Cut the quickstart's real human data out of HH-RLHF (harmless-base, test split).

The quickstart ships three disjoint parts of one human set inside the package
(``src/preflab/data/``), split by prompt so that no evaluation prompt is seen in training:

* ``hh_harmless_eval.jsonl.gz``    the evaluation pairs (>= 600), HH's own lines, unchanged;
* ``hh_harmless_base.jsonl.gz``    the labelled base pairs the base-only RM trains on, unchanged;
* ``hh_harmless_prompts.jsonl``    prompts for generation (single-turn only, so the small
  embedded model reads them quickly), as preflab prompt records ``{"id", "prompt"}``.

How: every line of ``hh_rlhf_harmless_base_test.jsonl.gz`` (github anthropics/hh-rlhf @ 354e5c3,
MIT) is parsed with preflab's HH adapter; the 5 lines whose two transcripts diverge before the
last assistant turn are left out. Lines are grouped by prompt (a prompt with several pairs stays
in one part), the prompt groups are shuffled with ``random.Random(SEED)`` in sorted-id order, and
taken in that order: eval groups until EVAL_PAIRS pairs, then base groups until BASE_PAIRS
pairs, then single-turn prompts until PROMPTS prompts. The gzip files carry no timestamp, so a
rerun writes the same bytes (``--check`` verifies the shipped files against a fresh cut)::

    python scripts/slice_hh_quickstart.py            # rewrite src/preflab/data/hh_harmless_*
    python scripts/slice_hh_quickstart.py --check    # exit 1 if the shipped files differ
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import random
import sys
from pathlib import Path

from preflab.io.sources import Notes, hh_rlhf_pair
from preflab.records import prompt_id

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT.parent / "shared" / "data" / "hh_rlhf_harmless_base_test.jsonl.gz"
OUT = ROOT / "src" / "preflab" / "data"
SEED, EVAL_PAIRS, BASE_PAIRS, PROMPTS = 15, 640, 320, 120
FILES = ("hh_harmless_eval.jsonl.gz", "hh_harmless_base.jsonl.gz", "hh_harmless_prompts.jsonl")


def groups(source: Path) -> dict[str, list[tuple[str, object]]]:
    """Prompt id → [(raw line, parsed pair)], mismatched-prefix lines left out."""
    out: dict[str, list[tuple[str, object]]] = {}
    with gzip.open(source, "rt", encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            pair = hh_rlhf_pair(json.loads(line), Notes())
            if pair.provenance.get("hh_prefix") == "mismatch":
                continue
            out.setdefault(prompt_id(pair.prompt), []).append((line.rstrip("\n"), pair))
    return out


def cut(source: Path) -> dict[str, bytes]:
    """The three files' bytes."""
    by_prompt = groups(source)
    keys = sorted(by_prompt)
    random.Random(SEED).shuffle(keys)
    parts: dict[str, list[str]] = {"eval": [], "base": [], "prompts": []}
    for key in keys:
        lines = [line for line, _ in by_prompt[key]]
        if len(parts["eval"]) < EVAL_PAIRS:
            parts["eval"] += lines
        elif len(parts["base"]) < BASE_PAIRS:
            parts["base"] += lines
        elif len(parts["prompts"]) < PROMPTS:
            prompt = by_prompt[key][0][1].prompt
            if len(prompt) == 1:  # a single user turn
                parts["prompts"].append(json.dumps({"id": key, "prompt": [m.model_dump() for m in prompt]}, ensure_ascii=False))
    return {FILES[0]: _gzip(parts["eval"]), FILES[1]: _gzip(parts["base"]),
            FILES[2]: ("\n".join(parts["prompts"]) + "\n").encode("utf-8")}


def _gzip(lines: list[str]) -> bytes:
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, filename="") as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    return buffer.getvalue()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", type=Path, default=SOURCE)
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--check", action="store_true", help="compare with the files in --out instead of writing")
    args = ap.parse_args(argv)
    files = cut(args.source)
    if args.check:
        differ = [name for name, data in files.items() if not (args.out / name).is_file() or (args.out / name).read_bytes() != data]
        print("differ: " + ", ".join(differ) if differ else "the shipped slice matches a fresh cut")
        return 1 if differ else 0
    for name, data in files.items():
        (args.out / name).write_bytes(data)
        print(f"{name}: {len(data):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
