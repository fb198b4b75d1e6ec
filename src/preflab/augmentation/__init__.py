"""Relabelling scored pairs into goal-conditioned DPO data (reward-augmented preferences)."""

from preflab.augmentation.reward_augmented import AugmentConfig, augment_pairs, goal_prompt, refuse_test_split

__all__ = ["AugmentConfig", "augment_pairs", "goal_prompt", "refuse_test_split"]
