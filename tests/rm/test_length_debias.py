"""The in-loss length treatments (``length_debias`` balance and poe), against hand-computed cases."""

from __future__ import annotations

import math

import pytest

from preflab.errors import ConfigError, InputError
from preflab.records import PreferencePair, text_prompt
from preflab.rm.length_debias import balance_factors, fit_length_expert, length_directions, length_features


def _pairs(spec):
    return [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=" ".join(["w"] * c) or "", rejected=" ".join(["v"] * r))
            for i, (c, r) in enumerate(spec)]


def test_length_expert_hand_computed():
    assert fit_length_expert([1.0, -1.0, 1.0], l2=0.0) == pytest.approx(math.log(2))
    assert fit_length_expert([2.0, -2.0], l2=0.0) == pytest.approx(0.0)
    # every chosen longer: finite thanks to the ridge term, and positive
    a = fit_length_expert([1.0, 1.0, 1.0])
    assert 0 < a < 50


def test_loss_columns_fold_the_length_expert_into_the_margin():
    torch = pytest.importorskip("torch")
    from preflab.rm.config import TrainConfig
    from preflab.rm.losses import loss_columns

    pairs = _pairs([(3, 1), (1, 3), (3, 1)])
    pairs[0] = pairs[0].model_copy(update={"margin": 0.5})
    x = length_features(pairs)
    assert x[0] == pytest.approx(1.0) and x[1] == pytest.approx(-1.0)
    a = fit_length_expert(x)
    assert a == pytest.approx(math.log(2), abs=0.01)  # the ridge term barely moves it
    cols = loss_columns(pairs, TrainConfig(length_debias="poe"))
    # the Secrets margin is clipped at 0 first (0.5, 0, 0), then the expert's offset −a·x is added unclipped
    assert cols.margin.tolist() == pytest.approx([0.5 - a, a, -a], abs=1e-6)
    plain = loss_columns(pairs, TrainConfig())
    assert plain.margin.tolist() == pytest.approx([0.5, 0.0, 0.0])
    balanced = loss_columns(pairs, TrainConfig(length_debias="balance"))
    assert balanced.weight.tolist() == pytest.approx([0.5, 1.0, 0.5])
    assert torch.equal(plain.weight, torch.ones(3))


def test_length_debias_is_validated_with_the_recipe():
    from preflab.rm.config import RecipeConfig

    with pytest.raises(ConfigError, match="length_debias must be one of none, balance, poe"):
        RecipeConfig.from_dict({"recipe": "embed-head", "length_debias": "odin"})
    with pytest.raises(ConfigError, match="needs use_margin"):
        RecipeConfig.from_dict({"recipe": "finetune", "length_debias": "poe", "use_margin": False})
    assert RecipeConfig.from_dict({"recipe": "embed-head", "length-debias": "poe"}).options.length_debias == "poe"


def test_balance_factors_weigh_the_majority_direction_down():
    pairs = _pairs([(2, 1), (2, 1), (2, 1), (1, 2), (1, 1)])
    longer, shorter = length_directions(pairs)
    assert longer.tolist() == [True, True, True, False, False] and shorter.tolist() == [False, False, False, True, False]
    assert balance_factors(pairs).tolist() == pytest.approx([1 / 3, 1 / 3, 1 / 3, 1.0, 1.0])
    assert balance_factors(_pairs([(2, 1), (1, 2), (1, 1)])).tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(InputError, match="no weighting can balance"):
        balance_factors(_pairs([(2, 1), (3, 1)]))


def test_doctests():
    import doctest

    import preflab.rm.length_debias as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
