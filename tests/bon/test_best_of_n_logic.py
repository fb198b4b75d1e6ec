"""The numbers of best-of-N (:mod:`preflab.evaluation.best_of_n`) on hand-made scores: nested
seeded subsets, picks, the random and oracle picks, win rates and their intervals."""

import math

import numpy as np

from preflab.evaluation.best_of_n import (best_of, bon_curves, default_ns, gold_of, gold_wins, kl_best_of_n,
                                          oracle_gold, random_gold, subset_orders, win_summary)


def test_subsets_are_seeded_permutations_independent_of_prompt_order():
    orders = subset_orders(["a", "b", "c"], 8, 3, seed=0)
    assert orders.shape == (3, 3, 8)
    assert all(sorted(o) == list(range(8)) for o in orders.reshape(-1, 8).tolist())
    again = subset_orders(["c", "a"], 8, 3, seed=0)
    assert (again[0] == orders[2]).all() and (again[1] == orders[0]).all()
    assert not (subset_orders(["a"], 8, 3, seed=1)[0] == orders[0]).all()
    assert len({tuple(o) for o in orders[0].tolist()}) == 3  # the draws differ


def test_picks_come_from_the_first_k_of_the_order_and_ties_go_to_the_earlier_one():
    orders = np.array([[[3, 1, 0, 2]]])
    proxy = np.array([[5.0, 1.0, 9.0, 1.0]])
    assert [int(best_of(proxy, orders, k)[0, 0]) for k in (1, 2, 3, 4)] == [3, 3, 0, 2]
    tied = np.array([[1.0, 1.0, 0.0, 1.0]])
    assert int(best_of(tied, orders, 2)[0, 0]) == 3  # 3 comes before 1 in the order


def test_random_is_the_subset_mean_and_the_oracle_its_best():
    orders = np.array([[[2, 0, 1, 3]]])
    gold = np.array([[0.0, 4.0, 2.0, 10.0]])
    assert [float(random_gold(gold, orders, k)[0, 0]) for k in (1, 2, 3, 4)] == [2.0, 1.0, 2.0, 4.0]
    assert [float(oracle_gold(gold, orders, k)[0, 0]) for k in (1, 2, 3, 4)] == [2.0, 2.0, 4.0, 10.0]


def test_wins_count_a_tie_as_half():
    gold = np.array([[1.0, 2.0, 2.0]])
    a, b = np.array([[1, 0, 1, 1]]), np.array([[0, 1, 2, 1]])
    assert gold_wins(gold, a, b).tolist() == [[1.0, 0.0, 0.5, 0.5]]
    summary = win_summary([gold_wins(gold, a, b)], n_boot=50)
    assert summary["win_rate"] == 0.5 and summary["ties"] == 0.5 and summary["n"] == 1


def test_curves_by_hand_on_two_prompts():
    gold = np.array([[0.0, 1.0, 2.0, 3.0], [3.0, 2.0, 1.0, 0.0]])
    good = gold.copy()          # ranks like the gold scorer
    bad = -gold                 # ranks the other way
    orders = np.array([[[0, 1, 2, 3]], [[0, 1, 2, 3]]])
    result = bon_curves(gold, {"good": [good], "bad": [bad]}, orders, [1, 2, 4], n_boot=100)
    curves = result["curves"]
    # prompt 1: subsets {0}, {0,1}, all; prompt 2 likewise, its gold reversed
    assert [curves["good"][k]["mean"] for k in ("1", "2", "4")] == [1.5, 2.0, 3.0]
    assert [curves["bad"][k]["mean"] for k in ("1", "2", "4")] == [1.5, 1.0, 0.0]
    assert [result["random"][k]["mean"] for k in ("1", "2", "4")] == [1.5, 1.5, 1.5]
    assert [result["oracle"][k]["mean"] for k in ("1", "2", "4")] == [1.5, 2.0, 3.0]
    assert curves["good"]["4"]["vs_random"]["delta"] == 1.5 and curves["bad"]["4"]["vs_random"]["delta"] == -1.5
    assert curves["good"]["1"]["vs_random"]["ci95"] == [0.0, 0.0]
    assert curves["bad"]["4"]["proxy"] == 0.0 and curves["good"]["4"]["proxy"] == 3.0
    assert result["kl_nats"]["1"] == 0.0 and math.isclose(result["kl_nats"]["4"], math.log(4) - 0.75)


def test_seeds_average_per_prompt_before_the_interval():
    gold = np.array([[0.0, 1.0], [0.0, 1.0]])
    orders = np.array([[[0, 1]], [[0, 1]]])
    one, other = np.array([[0.0, 1.0], [0.0, 1.0]]), np.array([[1.0, 0.0], [1.0, 0.0]])
    cell = bon_curves(gold, {"rm": [one, other]}, orders, [2], n_boot=100)["curves"]["rm"]["2"]
    assert cell["mean"] == 0.5 and cell["seed_std"] == 0.5 and cell["seeds"] == 2 and cell["ci95"] == [0.5, 0.5]


def test_default_ns_and_kl():
    assert default_ns(1) == [1] and default_ns(16) == [1, 2, 4, 8, 16] and default_ns(6) == [1, 2, 4, 6]
    assert kl_best_of_n(1) == 0.0 and kl_best_of_n(16) > kl_best_of_n(8)
    assert gold_of(np.array([[5.0, 6.0]]), np.array([[1, 0]])).tolist() == [[6.0, 5.0]]


def test_the_worked_examples_run():
    import doctest

    import preflab.evaluation.best_of_n as module

    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
