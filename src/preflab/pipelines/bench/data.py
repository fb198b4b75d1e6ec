"""What a bench's data holds before any step runs: the split's parts, the labelled pairs the
generation prompts came from (the pool of the ``base+human`` rows), the evaluation sets' prompts,
and the checks on them that refuse a bench before any work (docs/bench.md#pairs-files).

The data step (:mod:`preflab.pipelines.bench.run`) and these checks cut the split with the one
function here, so the held-out part a pairs file is checked against is the one the bench
evaluates on.
"""

from __future__ import annotations

from itertools import islice
from pathlib import Path

from preflab import io
from preflab.errors import ConfigError, PreflabError, Problem
from preflab.pipelines.bench.config import BenchConfig, MethodEntry, SplitSource, resolve_path
from preflab.records import PreferencePair, prompt_id


def split_parts(split: SplitSource, root: Path) -> tuple[list[PreferencePair], list[PreferencePair], list[PreferencePair], int]:
    """(base, the pairs whose prompts are the generation prompts, held-out, pairs read): one
    labelled set cut by prompt, seeded; no prompt is in two parts."""
    pairs = list(io.read_pairs(resolve_path(split.path, root), split.format))
    rest, held_out = io.split_pairs(pairs, split.eval_fraction, split.seed)
    prompt_share = 1 - split.base_fraction - split.eval_fraction
    base, for_prompts = io.split_pairs(rest, prompt_share / (1 - split.eval_fraction), split.seed + 1)
    return base, for_prompts, held_out, len(pairs)


def labelled_prompt_pairs(cfg: BenchConfig, root: Path) -> list[PreferencePair] | None:
    """The human pairs the generation prompts were taken from: the split's prompt part, or the
    pairs of a ``prompts:`` file that holds labelled pairs; None when the prompts carry no labels
    (a plain prompt file)."""
    if cfg.split is not None:
        return split_parts(cfg.split, root)[1]
    path = resolve_path(cfg.prompts.path, root)
    report = io.ReadReport()
    next(iter(io.read_prompts(path, report=report)), None)  # the first row tells prompts from pairs
    if report.format == "prompts":  # a pair file's prompts are read as pairs: the report names their format
        return None
    return list(io.read_pairs(path, cfg.prompts.format))


def human_pool(labelled: list[PreferencePair], prompts_file: Path, budget: int) -> list[PreferencePair]:
    """The labelled pairs of the prompts the methods were given (the first ``budget`` generation
    prompts), in the order of those prompts."""
    order = {pid: i for i, pid in enumerate(dict.fromkeys(prompt_id(r.prompt) for r in io.read_prompts(prompts_file)))
             if i < budget}
    pool = [p for p in labelled if prompt_id(p.prompt) in order]
    return sorted(pool, key=lambda p: order[prompt_id(p.prompt)])


def read_pairs_entry(entry: MethodEntry, root: Path) -> list[PreferencePair]:
    """The pairs of a ``pairs:`` entry, read with its format, column map and limit."""
    pairs = io.read_pairs(resolve_path(entry.pairs, root), entry.format, column_map=entry.column_map)
    return list(islice(pairs, entry.limit))


def eval_prompt_ids(cfg: BenchConfig, root: Path) -> dict[str, set[str]]:
    """Each evaluation set's prompt ids, as the bench will evaluate it."""
    held_out = split_parts(cfg.split, root)[2] if any(e.from_split for e in cfg.eval) else []
    out = {}
    for ev in cfg.eval:
        pairs = held_out if ev.from_split else io.read_pairs(resolve_path(ev.path, root), ev.format)
        out[ev.name] = {prompt_id(p.prompt) for p in islice(pairs, ev.limit)}
    return out


def data_problems(cfg: BenchConfig, root: Path) -> list[Problem]:
    """What the bench's data refuses before any work, one problem per key path: a pairs file
    that holds no pairs, or whose prompts are in an evaluation set (leakage: the model would be
    tested on prompts it was trained on); ``base_human`` where the generation prompts have no
    labelled pairs."""
    problems: list[str] = []
    entries = [(i, m) for i, m in enumerate(cfg.methods) if m.pairs]
    evals = eval_prompt_ids(cfg, root) if entries else {}
    for i, entry in entries:
        where = f"methods.{i}.pairs"
        try:
            pairs = read_pairs_entry(entry, root)
        except PreflabError as exc:
            problems.append(f"{where}: {exc}")
            continue
        if not pairs:
            problems.append(f"{where}: {entry.pairs} holds no pairs")
            continue
        prompts = {prompt_id(p.prompt) for p in pairs}
        for name, ids in evals.items():
            if prompts & ids:
                problems.append(f"{where}: {len(prompts & ids)} of the {len(prompts)} prompts of {entry.pairs} are in the "
                                f"evaluation set {name} (leakage: the model would be tested on prompts it was trained on); "
                                "drop them from the file or evaluate on another set")
    if cfg.base_human:
        labelled = labelled_prompt_pairs(cfg, root)
        if labelled is None:
            problems.append(f"base_human: the generation prompts ({cfg.prompts.path}) have no labels, so there are no human "
                            "pairs of the same prompts; give split: or a prompts file of labelled pairs")
        elif not labelled:
            problems.append("base_human: the split left no labelled pairs for the generation prompts")
    return [Problem(p) for p in problems]


def check_data(cfg: BenchConfig, root: Path, where: str) -> None:
    """:func:`data_problems` as one :class:`ConfigError` (nothing when there are none)."""
    problems = data_problems(cfg, root)
    if problems:
        raise ConfigError(problems, where)
