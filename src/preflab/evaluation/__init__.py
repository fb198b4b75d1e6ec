"""Evaluate reward models on held-out human preferences: accuracy with bootstrap intervals,
per category, on a high-confidence subset, calibration, reward gaps, and null baselines.

>>> from preflab.evaluation import evaluate_deltas
>>> evaluate_deltas([1.0, -1.0, 2.0, 0.5], n_boot=200)["accuracy"]
0.75
"""

from preflab.evaluation.baselines import first_position_deltas, longer_response_deltas, null_baselines
from preflab.evaluation.detection import auc, detection_auc
from preflab.evaluation.metrics import (
    bootstrap_ci,
    calibration,
    correctness,
    evaluate_deltas,
    gap_stats,
    paired_difference,
    pairwise_accuracy,
    seed_summary,
)

__all__ = [
    "bootstrap_ci", "calibration", "correctness", "evaluate_deltas", "gap_stats", "paired_difference",
    "pairwise_accuracy", "seed_summary", "first_position_deltas", "longer_response_deltas",
    "null_baselines", "auc", "detection_auc",
]
