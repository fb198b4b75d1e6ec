"""``data inspect``'s statistics use the one length owner: the same unit and tie rule as the
generation summary and the length-controlled metrics."""

from preflab.evaluation.data_stats import generation_length_stats, pair_stats
from preflab.evaluation.length import length_metrics
from preflab.evaluation.response_length import pair_lengths
from preflab.records import PreferencePair, text_prompt


def _pairs(spec):
    return [PreferencePair(prompt=text_prompt(f"q{i} extra words"), chosen=c, rejected=r) for i, (c, r) in enumerate(spec)]


def test_equal_lengths_are_their_own_side_and_every_summary_agrees():
    # words: 3>1, 2=2 (more characters on the chosen side), 1<3, 2>1, 4=4
    pairs = _pairs([("a b c", "d"), ("aaaa bbbb", "c d"), ("a", "b c d"), ("a b", "c"), ("a b c d", "e f g h")])
    stats = pair_stats(pairs)
    assert (stats.chosen_longer, stats.chosen_shorter, stats.same_length) == (2, 1, 2)
    assert stats.share_chosen_longer == 2 / 3
    assert generation_length_stats(pairs)["share_chosen_longer"] == round(2 / 3, 3)
    labels = length_metrics([1.0] * len(pairs), *pair_lengths(pairs), n_boot=10)["human_length_agreement"]
    assert labels["n"] == 3 and labels["accuracy"] == stats.share_chosen_longer
    assert stats.lengths["chosen"]["max"] == 4 and stats.lengths["prompt"]["min"] == 3  # words, not characters


def test_no_share_when_every_pair_has_equal_lengths():
    stats = pair_stats(_pairs([("a", "b"), ("a b", "c d")]))
    assert stats.same_length == 2 and stats.share_chosen_longer is None
    assert generation_length_stats(_pairs([("a", "b")]))["share_chosen_longer"] is None
