"""Bench rows beyond generated methods: a pairs file in place of a method (generate somewhere,
compare here), the base+human row, mix scaling with capped rows and its plot; the refusals
before any work; what each step's fingerprint reruns. Through ``preflab.bench`` with real HH-RLHF
pairs and the real embed-head recipe on frozen MiniLM; a fake LLM stands in for the generator."""

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import preflab
from preflab.errors import ConfigError
from preflab.io import read_pairs, write_pairs
from preflab.llm.fake import FakeBackend
from preflab.llm.spec import register_backend
from preflab.pipelines.bench.config import load_bench_config
from preflab.pipelines.bench.data import human_pool, labelled_prompt_pairs, split_parts
from preflab.pipelines.bench.rows import build_rows, draw
from preflab.provenance import file_fingerprint
from preflab.records import PreferencePair, prompt_id, text_prompt

HERE = Path(__file__).parent
DATA = HERE.parents[1] / "src" / "preflab" / "data"
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()


def _answer(messages, options, seed):
    """Distinct answers per conversation and sample, so RLCD's two prompts give two responses."""
    h = int(hashlib.sha256(("|".join(m.content for m in messages) + str(seed)).encode()).hexdigest(), 16)
    return " ".join(WORDS[(h >> (4 * i)) % 10] for i in range(3 + h % 6))


register_backend("rows-varied", lambda target, params: FakeBackend(default=_answer))


def _hh_lines():
    with gzip.open(DATA / "hh_harmless_eval.jsonl.gz", "rt", encoding="utf-8") as fh:
        return fh.read().splitlines()


def _files(folder: Path) -> None:
    """A 60-pair HH split (18 base, 24 prompts, 18 held out) and 40 other HH pairs, none of
    whose prompts is in the split."""
    lines = _hh_lines()
    (folder / "split.jsonl").write_text("\n".join(lines[:60]) + "\n", encoding="utf-8")
    (folder / "other.jsonl").write_text("\n".join(lines[100:140]) + "\n", encoding="utf-8")


def _config(folder: Path, name: str = "bench.yaml", **changes) -> Path:
    cfg = {"name": "rows", "llm": "rows-varied", "seed": 0,
           "split": {"path": "split.jsonl", "format": "hh-rlhf", "base_fraction": 0.3, "eval_fraction": 0.3},
           "budget_prompts": 10,
           "methods": [{"name": "rlcd", "options": {"max_tokens": 16}},
                       {"name": "other", "pairs": "other.jsonl", "format": "hh-rlhf"}],
           "base_human": True,
           "rm": {"recipe": "embed-head", "seeds": [0], "mix": [0.5, 4], "options": {"epochs": 3}},
           "eval": [{"name": "held", "from_split": True}], **changes}
    path = folder / name
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def _bench(config: Path, run_dir: Path) -> dict:
    return preflab.bench(config, run_dir=run_dir, progress=False)


@pytest.fixture(scope="module")
def first(tmp_path_factory):
    """One bench with a generated method, a pairs file, base+human and mix [0.5, 4], shared:
    a test that reruns it works on a copy of its folder."""
    folder = tmp_path_factory.mktemp("rows")
    _files(folder)
    return folder, _bench(_config(folder), folder / "run")


def _copy(first, tmp_path) -> tuple[Path, Path]:
    shutil.copytree(first[0], tmp_path / "f")
    return tmp_path / "f", tmp_path / "f" / "run"


def _kinds(ran: list[str]) -> list[str]:
    return sorted(step.rsplit("-", 1)[0] for step in ran)


def test_pairs_file_and_base_human_rows_at_each_mix_ratio(first):
    folder, results = first
    table = results["table"]
    assert list(table) == ["base-only", "base+rlcd ×0.5", "base+other ×0.5", "base+human ×0.5",
                           "base+rlcd ×4", "base+other ×4", "base+human ×4"]
    assert table["base-only"]["_train_pairs"] == 18 and results["mix"] == {"ratios": [0.5, 4.0], "base_pairs": 18}
    made = results["methods"]["rlcd"]["pairs"]
    assert 9 <= made <= 10  # the fake LLM's RLCD pairs from the 10 budget prompts
    mix = {row: cells["_mix"] for row, cells in table.items() if "_mix" in cells}
    assert mix["base+other ×0.5"] == {"ratio": 0.5, "from": "other", "added": 9, "asked": 9, "capped": False}
    assert mix["base+other ×4"] == {"ratio": 4.0, "from": "other", "added": 40, "asked": 72, "capped": True}
    assert mix["base+rlcd ×4"] == {"ratio": 4.0, "from": "rlcd", "added": made, "asked": 72, "capped": True}
    # as many human pairs as the largest method row of the ratio; the pool (the 10 prompts' pairs) caps it
    assert mix["base+human ×0.5"] == {"ratio": 0.5, "from": "human", "added": 9, "asked": 9, "capped": False}
    assert mix["base+human ×4"] == {"ratio": 4.0, "from": "human", "added": 10, "asked": 40, "capped": True}
    assert results["human"] == {"pool": 10, "prompts": 10, "seed": 0}
    for row, cells in table.items():
        assert cells["held"]["n"] == 18 and 0 <= cells["held"]["accuracy"] <= 1
        if row != "base-only":
            assert {"delta", "ci95"} <= set(cells["held"]["vs_base"])
    md = (folder / "run" / "results.md").read_text(encoding="utf-8")
    assert "| base+other ×4 | 58 (capped: 40 of 72 asked) |" in md and "| base+other ×0.5 | 27 |" in md
    assert "base+human adds as many human pairs" in md
    source = results["methods"]["other"]["source"]
    assert source["fingerprint"] == file_fingerprint(folder / "other.jsonl") and source["run"] is None
    assert results["methods"]["other"]["tokens_in"] is None and "| other | 40 | 40 |" in md
    assert (folder / "run" / "mix.png").read_bytes()[:4] == b"\x89PNG"
    page = Path(results["report"]).read_text(encoding="utf-8")
    assert 'alt="accuracy against the pairs added"' in page and 'id="sources"' in page


def test_the_human_rows_hold_human_pairs_of_the_prompts_the_methods_were_given(first):
    folder, results = first
    steps = folder / "run" / "steps"
    generated = list(read_pairs(folder / "run" / results["methods"]["rlcd"]["pairs_file"]))
    failures = [json.loads(line) for line in
                (folder / "run" / (results["methods"]["rlcd"]["pairs_file"] + ".failures.jsonl")).read_text().splitlines()]
    assert len(generated) + len(failures) == 10
    pool = list(read_pairs(next(steps.glob("human-*")) / "human.jsonl"))
    _, for_prompts, held_out, _ = split_parts(load_bench_config(folder / "bench.yaml")[0].split, folder)
    labelled = {p.id for p in for_prompts}
    assert {p.id for p in pool} <= labelled  # the split's human labels, not synthetic pairs
    assert {prompt_id(p.prompt) for p in generated} <= {prompt_id(p.prompt) for p in pool}  # the same prompts
    assert not {prompt_id(p.prompt) for p in pool} & {prompt_id(p.prompt) for p in held_out}


def test_generate_elsewhere_then_compare_from_the_pairs_file(first, tmp_path):
    """``preflab generate`` on the bench's generation prompts (as on a cluster), its file named
    by a pairs: entry: the rows the bench's own generation gave, with the generation's cost and
    run record."""
    folder, run_dir = _copy(first, tmp_path)
    results = first[1]
    prompts = next(run_dir.glob("steps/data-*/prompts.jsonl"))
    made = preflab.generate("rlcd", prompts=prompts, out=folder / "cluster" / "rlcd.jsonl", limit=10, llm="rows-varied",
                            max_tokens=16, cache=False, progress=False)  # every call paid, as in the bench
    assert len(made) == results["methods"]["rlcd"]["pairs"]
    config = _config(folder, "local.yaml", methods=[{"name": "rlcd-cluster", "pairs": "cluster/rlcd.jsonl"},
                                                    {"name": "other", "pairs": "other.jsonl", "format": "hh-rlhf"}])
    local = _bench(config, run_dir)
    assert _kinds(local["steps"]["ran"]) == ["pairs-rlcd-cluster", "rm", "rm"]  # no generation; its two rows
    for row, cells in results["table"].items():
        assert local["table"][row.replace("rlcd", "rlcd-cluster")]["held"] == cells["held"]
    here, there = local["methods"]["rlcd-cluster"], results["methods"]["rlcd"]
    assert {k: here[k] for k in ("pairs", "prompts", "failures", "tokens_in", "tokens_out")} == \
        {k: there[k] for k in ("pairs", "prompts", "failures", "tokens_in", "tokens_out")}
    assert here["source"]["run"]["step"] == "generate/rlcd"
    assert here["source"]["fingerprint"] == file_fingerprint(folder / "cluster" / "rlcd.jsonl")
    assert "generate/rlcd fake-model" in (run_dir / "results.md").read_text(encoding="utf-8")


def test_a_rerun_reuses_every_step_and_a_changed_entry_reruns_what_depends_on_it(first, tmp_path):
    folder, run_dir = _copy(first, tmp_path)
    again = _bench(_config(folder), run_dir)
    assert again["steps"]["ran"] == [] and again["table"] == first[1]["table"]

    methods = [{"name": "rlcd", "options": {"max_tokens": 16}},
               {"name": "other", "pairs": "other.jsonl", "format": "hh-rlhf", "limit": 30}]
    changed = _bench(_config(folder, methods=methods), run_dir)
    # the file's step and its two rows; base+human ×4 still adds the pool's 10 pairs, so it is reused
    assert _kinds(changed["steps"]["ran"]) == ["pairs-other", "rm", "rm"]
    assert changed["table"]["base+human ×4"]["_mix"]["asked"] == 30

    (folder / "other.jsonl").write_text("\n".join(_hh_lines()[100:135]) + "\n", encoding="utf-8")  # new bytes
    edited = _bench(_config(folder, methods=methods), run_dir)
    assert _kinds(edited["steps"]["ran"]) == ["pairs-other", "rm", "rm"]

    more = _bench(_config(folder, methods=methods, rm={"recipe": "embed-head", "seeds": [0], "mix": [0.5, 2, 4],
                                                       "options": {"epochs": 3}}), run_dir)
    # ×2 asks 36 pairs: rlcd (10), other (30) and the human pool (10) are all capped at what their ×4 rows
    # already trained on, so the new ratio's rows are known training sets and train nothing
    assert [r for r in more["table"] if "×2" in r] == ["base+rlcd ×2", "base+other ×2", "base+human ×2"]
    assert more["steps"]["ran"] == []
    assert all(more["table"][f"base+{s} ×2"]["held"] == more["table"][f"base+{s} ×4"]["held"] for s in ("rlcd", "other"))


def test_changing_the_mix_retrains_only_rows_whose_pairs_change(tmp_path):
    """Was: every RM step was keyed on ``rm.mix``, so changing the ratio retrained base-only,
    whose pairs do not depend on it."""
    _files(tmp_path)
    methods = [{"name": "rlcd", "options": {"max_tokens": 16}}]
    rm = {"recipe": "embed-head", "seeds": [0], "options": {"epochs": 3}}
    first = _bench(_config(tmp_path, methods=methods, base_human=False, rm={**rm, "mix": 1.0}), tmp_path / "run")
    assert list(first["table"]) == ["base-only", "base+rlcd"]
    assert first["table"]["base+rlcd"]["_mix"]["capped"]  # 18 asked, at most 10 made
    half = _bench(_config(tmp_path, methods=methods, base_human=False, rm={**rm, "mix": 0.25}), tmp_path / "run")
    assert _kinds(half["steps"]["ran"]) == ["rm"]  # base+rlcd now adds 4 (of its pairs); base-only is reused
    assert half["table"]["base-only"] == first["table"]["base-only"]


# -- refusals before any work ---------------------------------------------------------------
def _refused(config: Path, tmp_path: Path) -> str:
    with pytest.raises(ConfigError) as info:
        _bench(config, tmp_path / "run")
    assert not (tmp_path / "run").exists()  # nothing claimed, nothing written
    return str(info.value)


def test_a_pairs_file_that_shares_prompts_with_an_evaluation_set_is_refused(tmp_path):
    _files(tmp_path)
    held_out = split_parts(load_bench_config(_config(tmp_path))[0].split, tmp_path)[2]
    leaky = held_out[:3] + list(read_pairs(tmp_path / "other.jsonl", "hh-rlhf"))[:5]
    write_pairs(leaky, tmp_path / "leaky.jsonl")
    methods = [{"name": "rlcd"}, {"name": "leaky", "pairs": "leaky.jsonl"}]
    text = _refused(_config(tmp_path, methods=methods), tmp_path)
    assert text.endswith("bench.yaml: methods.1.pairs: 3 of the 8 prompts of leaky.jsonl are in the evaluation set held "
                         "(leakage: the model would be tested on prompts it was trained on); drop them from the file or "
                         "evaluate on another set")
    evals = [{"name": "held", "from_split": True}, {"name": "ext", "path": "other.jsonl", "format": "hh-rlhf", "limit": 5}]
    text = _refused(_config(tmp_path, methods=[{"name": "o", "pairs": "other.jsonl", "format": "hh-rlhf"}], eval=evals),
                    tmp_path)
    assert "methods.0.pairs: 5 of the 40 prompts of other.jsonl are in the evaluation set ext" in text
    assert "evaluation set held" not in text


def test_an_empty_pairs_file_is_refused(tmp_path):
    _files(tmp_path)
    (tmp_path / "empty.jsonl").write_text("", encoding="utf-8")
    text = _refused(_config(tmp_path, methods=[{"name": "e", "pairs": "empty.jsonl"}]), tmp_path)
    assert text.endswith("methods.0.pairs: empty.jsonl holds no pairs")


def test_base_human_without_labels_for_the_generation_prompts_is_refused_in_one_line(tmp_path):
    _files(tmp_path)
    shutil.copyfile(DATA / "example_prompts.txt", tmp_path / "prompts.txt")
    config = _config(tmp_path, split=None, prompts={"path": "prompts.txt"}, methods=[{"name": "rlcd"}], llm="fake",
                     base={"path": "split.jsonl", "format": "hh-rlhf"},
                     eval=[{"name": "e", "path": "other.jsonl", "format": "hh-rlhf"}])
    text = _refused(config, tmp_path)
    assert "\n" not in text and text.endswith(
        "bench.yaml: base_human: the generation prompts (prompts.txt) have no labels, so there are no human pairs of the "
        "same prompts; give split: or a prompts file of labelled pairs")
    shell = subprocess.run([sys.executable, str(HERE / "launcher.py"), "bench", str(config), "--out", str(tmp_path / "run")],
                           capture_output=True, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    assert shell.returncode == 2 and shell.stderr.strip() == f"error: {text}"  # the shell: exit 2, the same one line
    assert not (tmp_path / "run").exists()


def test_bench_file_problems_of_the_new_keys_are_reported_together(tmp_path):
    _files(tmp_path)
    bad = yaml.safe_load(_config(tmp_path).read_text(encoding="utf-8"))
    bad.update(split=None, prompts={"path": "other.jsonl"}, eval=[{"name": "e", "path": "other.jsonl"}],
               methods=[{"name": "x", "pairs": "missing.jsonl"}, {"name": "y", "pairs": "other.jsonl", "options": {"n": 2}},
                        {"name": "rlcd", "format": "hh-rlhf", "limit": 3}])
    with pytest.raises(ConfigError) as info:
        load_bench_config(tmp_path / "b.yaml", data=bad)
    text = str(info.value)
    assert "methods.1: a pairs: entry takes no method options (its pairs are already made)" in text
    assert "methods.2: format, limit only go with pairs: (a pairs file); a method takes options" in text
    assert f"methods.0.pairs: {tmp_path / 'missing.jsonl'} does not exist" in text  # in the same round
    bad["methods"] = [{"name": "o", "pairs": "other.jsonl"}]
    with pytest.raises(ConfigError, match="base_human needs labelled base data \\(base or split\\)"):
        load_bench_config(tmp_path / "b.yaml", data=bad)
    bad.update(base={"path": "split.jsonl"}, methods=[{"name": "human", "pairs": "other.jsonl"}])
    with pytest.raises(ConfigError, match="base_human adds the row base\\+human; give the method labelled human"):
        load_bench_config(tmp_path / "b.yaml", data=bad)
    for mix in ([], [1, 1], [0.5, -1]):
        with pytest.raises(ConfigError, match="rm.mix"):
            load_bench_config(tmp_path / "b.yaml", data={**bad, "base_human": False, "rm": {"mix": mix}})
    with pytest.raises(ConfigError, match="rm.mix with several ratios needs labelled base data"):
        load_bench_config(tmp_path / "b.yaml", data={**bad, "base": None, "base_human": False, "rm": {"mix": [1, 2]}})


def test_a_bench_of_pairs_files_needs_no_generator_model(tmp_path, monkeypatch):
    """Comparing pairs made elsewhere checks no generator spec (the default llamacpp needs a
    model file) and opens none."""
    import preflab.llm.checks

    monkeypatch.setattr(preflab.llm.checks, "spec_problem", lambda spec: f"no model for {spec}")
    _files(tmp_path)
    cfg = yaml.safe_load(_config(tmp_path).read_text(encoding="utf-8"))
    cfg.pop("llm")
    cfg["methods"] = [{"name": "other", "pairs": "other.jsonl", "format": "hh-rlhf"}]
    load_bench_config(tmp_path / "b.yaml", data=cfg)  # no problem
    with pytest.raises(ConfigError, match="llm: no model for llamacpp"):
        load_bench_config(tmp_path / "b.yaml", data={**cfg, "methods": [{"name": "rlcd"}]})


# -- the rows' pure parts ---------------------------------------------------------------------
def _pairs(tag: str, n: int) -> list[PreferencePair]:
    return [PreferencePair(prompt=text_prompt(f"{tag} prompt {i}"), chosen=f"good {i}", rejected=f"bad {i}")
            for i in range(n)]


def test_draws_are_nested_and_rows_share_a_fingerprint_when_their_pairs_are_the_same():
    pairs = _pairs("s", 30)
    small, large = draw(pairs, 5, seed=3), draw(pairs, 12, seed=3)
    assert large[:5] == small and len({p.id for p in large}) == 12  # the larger draw holds the smaller one
    assert draw(pairs, 99, seed=3) == pairs and draw(pairs, 5, seed=4) != small
    base, human = _pairs("b", 10), (_pairs("h", 8), "fp-h")
    rows = build_rows(base, "fp-d", {"a": (pairs, "fp-a"), "b": (_pairs("x", 4), "fp-b")}, [0.5, 2, 4], 3, human)
    assert [(r, v["mix"]["added"], v["mix"]["asked"], v["mix"]["capped"]) for r, v in rows.items() if "mix" in v] == [
        ("base+a ×0.5", 5, 5, False), ("base+b ×0.5", 4, 5, True), ("base+human ×0.5", 5, 5, False),
        ("base+a ×2", 20, 20, False), ("base+b ×2", 4, 20, True), ("base+human ×2", 8, 20, True),
        ("base+a ×4", 30, 40, True), ("base+b ×4", 4, 40, True), ("base+human ×4", 8, 30, True)]
    assert rows["base+b ×0.5"]["fp"] == rows["base+b ×4"]["fp"] and rows["base+a ×2"]["fp"] != rows["base+a ×4"]["fp"]
    assert rows["base+human ×2"]["pairs"] == rows["base+human ×4"]["pairs"] == base + human[0]
    one = build_rows(base, "fp-d", {"a": (pairs, "fp-a")}, [1.0], 3)
    assert list(one) == ["base-only", "base+a"]  # one ratio: the rows keep their plain names
    alone = build_rows([], "fp-d", {"a": (pairs, "fp-a")}, [1.0], 3)
    assert list(alone) == ["a"] and alone["a"]["pairs"] == pairs


def test_the_human_pool_of_a_labelled_prompts_file(tmp_path):
    _files(tmp_path)
    cfg, root = load_bench_config(_config(tmp_path, split=None, prompts={"path": "other.jsonl", "format": "hh-rlhf"},
                                          base={"path": "split.jsonl", "format": "hh-rlhf"},
                                          eval=[{"name": "e", "path": "split.jsonl", "limit": 2}]))
    labelled = labelled_prompt_pairs(cfg, root)
    assert [p.id for p in labelled] == [p.id for p in read_pairs(tmp_path / "other.jsonl", "hh-rlhf")]
    from preflab.io import prompts_of, write_prompts

    write_prompts(list(prompts_of(labelled))[::-1], tmp_path / "prompts.jsonl")  # the generation prompts, reversed
    pool = human_pool(labelled, tmp_path / "prompts.jsonl", budget=4)
    assert [p.id for p in pool] == [p.id for p in labelled[::-1][:4]]  # the first 4 prompts, in their order


def test_a_pairs_entry_reads_its_file_with_format_column_map_and_limit(tmp_path):
    _files(tmp_path)
    rows = [{"q": f"Question {i}?", "good": f"a fine answer {i}", "bad": f"no {i}"} for i in range(5)]
    (tmp_path / "vendor.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    entry = {"name": "vendor", "pairs": "vendor.jsonl", "column_map": "q=prompt,good=chosen,bad=rejected", "limit": 3}
    cfg, root = load_bench_config(_config(tmp_path, methods=[entry]))
    from preflab.pipelines.bench.data import data_problems, read_pairs_entry

    pairs = read_pairs_entry(cfg.methods[0], root)
    assert [(p.chosen, p.rejected) for p in pairs] == [(f"a fine answer {i}", f"no {i}") for i in range(3)]
    assert data_problems(cfg, root) == []
    cfg, root = load_bench_config(_config(tmp_path, methods=[{**entry, "column_map": None}]))
    assert [p.render() for p in data_problems(cfg, root)][0].startswith("methods.0.pairs: ")  # unreadable: named, not raised
