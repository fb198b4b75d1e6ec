"""One reward-model recipe: RecipeConfig validation (every problem at once), train_scorer for both
recipes with its run.json, and the embedding head honouring the trainer's loss options."""

import json

import pytest
import torch

from preflab.config import validate
from preflab.errors import ConfigError
from preflab.records import PreferencePair, text_prompt
from preflab.rm.config import EmbedHeadConfig, RecipeConfig, TrainConfig, recipe_problems
from preflab.rm.embed_head import fit_head
from preflab.rm.recipes import train_scorer

from .conftest import make_pairs


def test_from_dict_reports_every_problem_at_once():
    with pytest.raises(ConfigError) as err:
        RecipeConfig.from_dict({"epochs": -1, "lr": 0, "batch_size": 0, "precision": "fp8", "nope": 1, "seed": "x"})
    message = str(err.value)
    for part in ("epochs must be > 0", "lr must be > 0", "batch_size must be at least 1", "precision must be one of",
                 "nope: unknown option of the finetune recipe", "seed: 'x' is not a valid"):
        assert part in message
    assert message.startswith("invalid finetune recipe:") and "\n" not in message


def test_from_dict_builds_each_recipe_with_its_own_defaults():
    head = RecipeConfig.from_dict({"recipe": "embed-head", "max-length": 64, "label_smoothing": 0.1, "lr": 1})
    assert isinstance(head.options, EmbedHeadConfig) and head.options.max_length == 64
    assert head.options.label_smoothing == 0.1 and head.options.lr == 1.0 and head.options.epochs == 200
    tuned = RecipeConfig.from_dict({"model": "m", "epochs": 2})
    assert tuned.recipe == "finetune" and isinstance(tuned.options, TrainConfig) and tuned.options.epochs == 2.0
    assert recipe_problems({"recipe": "embed-head", "hidden": 8}) == []


def test_embed_head_refuses_what_it_cannot_honour():
    problems = [p.render() for p in recipe_problems({"recipe": "embed-head", "contrastive": "pair", "meta_set": "m.jsonl",
                                                     "lora_r": 8, "label_smoothing": 0.7})]
    assert any(p.startswith("contrastive: the embed-head recipe cannot honour") and "frozen" in p for p in problems)
    assert any(p.startswith("meta_set: the embed-head recipe cannot honour") for p in problems)
    assert any(p.startswith("lora_r: the embed-head recipe cannot honour") for p in problems)
    assert any(p.startswith("label_smoothing must lie in") for p in problems)
    # speed/logging options of fine-tuning, and a fine-tuning option left at its default, are no-ops
    assert recipe_problems({"recipe": "embed-head", "progress": False, "threads": 2, "contrastive": "none"}) == []
    assert [p.render() for p in recipe_problems({"recipe": "dpo"})] == ["recipe: unknown recipe 'dpo' (known: finetune, embed-head)"]


def test_validate_checks_a_directly_built_recipe():
    with pytest.raises(ConfigError, match="hidden must be at least 1"):
        validate(RecipeConfig("embed-head", EmbedHeadConfig(hidden=0)))
    with pytest.raises(ConfigError, match="takes EmbedHeadConfig options"):
        validate(RecipeConfig("embed-head", TrainConfig()))


def _features(n=120, seed=0):
    gen = torch.Generator().manual_seed(seed)
    fc, fr = torch.randn(n, 8, generator=gen), torch.randn(n, 8, generator=gen)
    fc[:, 0] += 2.0
    return fc, fr


def _cfg(**options):
    return EmbedHeadConfig(**{"epochs": 100, "hidden": 16, "lr": 1e-2, **options})


def _deltas(head, fc, fr):
    with torch.no_grad():
        return (head(fc) - head(fr)).squeeze(-1)


def _pairs(n, **columns):
    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen="a", rejected="b", **{k: v[i] for k, v in columns.items()})
            for i in range(n)]


def test_head_honours_label_smoothing():
    fc, fr = _features()
    sharp, _ = fit_head(fc, fr, _pairs(120), _cfg())
    smooth, _ = fit_head(fc, fr, _pairs(120), _cfg(label_smoothing=0.5))
    # α = 0.5 is a coin-flip target: the loss is lowest at Δ = 0
    assert _deltas(smooth, fc, fr).abs().mean() < 0.2 * _deltas(sharp, fc, fr).abs().mean()


def test_head_honours_weights_and_can_ignore_them():
    fc, fr = _features()
    fc[:60], fr[:60] = fr[:60].clone(), fc[:60].clone()  # half the pairs say the opposite ...
    weights = [0.0] * 60 + [1.0] * 60  # ... with weight 0
    pairs = _pairs(120, weight=weights)
    weighted, _ = fit_head(fc, fr, pairs, _cfg())
    ignored, _ = fit_head(fc, fr, pairs, _cfg(use_weights=False))
    assert (_deltas(weighted, fc, fr)[60:] > 0).float().mean() > 0.9
    assert (_deltas(ignored, fc, fr)[60:] > 0).float().mean() < (_deltas(weighted, fc, fr)[60:] > 0).float().mean()


def test_head_honours_margin_and_centering():
    fc, fr = _features()
    plain, _ = fit_head(fc, fr, _pairs(120), _cfg())
    margin, _ = fit_head(fc, fr, _pairs(120, margin=[3.0] * 120), _cfg())
    off, _ = fit_head(fc, fr, _pairs(120, margin=[3.0] * 120), _cfg(use_margin=False))
    assert _deltas(margin, fc, fr).mean() > _deltas(plain, fc, fr).mean() + 0.5
    assert torch.allclose(_deltas(off, fc, fr), _deltas(plain, fc, fr))
    centred, _ = fit_head(fc, fr, _pairs(120), _cfg(center_rewards=1.0))
    with torch.no_grad():
        assert centred(torch.cat([fc, fr])).pow(2).mean() < plain(torch.cat([fc, fr])).pow(2).mean()


def test_head_stops_at_a_target_loss():
    fc, fr = _features()
    _, full = fit_head(fc, fr, _pairs(120), _cfg(epochs=80))
    _, early = fit_head(fc, fr, _pairs(120), _cfg(epochs=80), stop_at_loss=0.6)
    assert full == 80 and 0 < early < 80


@pytest.mark.parametrize("recipe", ["finetune", "embed-head"])
def test_train_scorer_trains_saves_and_records(recipe, tiny_encoder, tmp_path):
    from preflab.rm.loading import load_scorer
    from preflab.rm.scorer import score_pairs

    train = make_pairs(16)
    data = tmp_path / "train.jsonl"
    data.write_text("stand-in for the training file\n")
    options = {"batch_size": 4, "lr": 2e-3, "progress": False} if recipe == "finetune" else {"epochs": 20}
    trained = train_scorer(train, {"recipe": recipe, "model": tiny_encoder, "max_length": 48, **options}, seed=5,
                           output_dir=tmp_path / "rm", val_pairs=make_pairs(6, seed=3), cache_dir=tmp_path / "emb",
                           inputs={"pairs": data})
    assert trained.path == str(tmp_path / "rm") and trained.recipe.options.seed == 5
    assert 0 <= trained.val_accuracy <= 1
    run = json.loads((tmp_path / "rm" / "run.json").read_text())
    assert run["step"] == "train-rm" and run["seed"] == 5 and run["config"]["recipe"] == recipe
    assert run["config"]["options"]["max_length"] == 48 and run["counts"] == {"pairs": 16, "val_pairs": 6}
    assert len(run["inputs"]["pairs"]["fingerprint"]) == 16 and "torch" in run["versions"]
    assert len(run["data_fingerprint"]) == 16
    again = [r for pair in score_pairs(load_scorer(str(tmp_path / "rm")), train[:4]) for r in pair]
    assert again == pytest.approx([r for pair in score_pairs(trained.scorer, train[:4]) for r in pair], abs=1e-4)


def test_train_scorer_refuses_too_few_pairs():
    with pytest.raises(Exception, match="at least 2 training pairs"):
        train_scorer(make_pairs(1), {"recipe": "embed-head"})


@pytest.mark.parametrize("module", ["preflab.rm.config", "preflab.rm.recipes", "preflab.quality.strength",
                                    "preflab.quality.strength_stats"])
def test_doctests(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module))
    assert result.attempted > 0 and result.failed == 0
