"""LLM judges: pairwise verdicts asked in both orders, and tournaments built on them."""

from preflab.judges.pairwise import JudgeConfig, PairwiseJudge, Verdict, parse_verdict

__all__ = ["JudgeConfig", "PairwiseJudge", "Verdict", "parse_verdict"]
