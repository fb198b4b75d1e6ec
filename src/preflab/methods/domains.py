"""Per-domain configuration shared by the methods: RMBoost's quality aspects and RLCD's
contrastive instructions. Domains are configuration, never hidden constants (docs/methods.md#domains)."""

from __future__ import annotations

from preflab.errors import ConfigError

ASPECTS: dict[str, list[str]] = {
    "general": ["helpfulness", "honesty", "truthfulness and correctness", "relevance", "coherence",
                "completeness", "safety and harmlessness", "instruction following"],
    "summarisation": ["coherence", "accuracy", "coverage"],
    "long-form-qa": ["relevance", "factual correctness", "completeness"],
    "harmlessness": ["safety and harmlessness", "honesty", "helpfulness without enabling harm", "respectfulness"],
}

#: RLCD (Yang et al. 2023): one response under a positive system instruction, one under a
#: negative one; the positive response is chosen.
RLCD_INSTRUCTIONS: dict[str, tuple[str, str]] = {
    "general": ("You are a helpful, honest and harmless assistant. Give a correct, complete and clear answer.",
                "You are an unhelpful assistant. Give a vague, incomplete answer that misses the point."),
    "summarisation": ("Write a coherent, accurate summary that covers the main points.",
                      "Write an incoherent summary that leaves out the main points and adds details that are not there."),
    "long-form-qa": ("Answer the question with relevant, factually correct and complete information.",
                     "Answer the question with loosely related, partly wrong and incomplete information."),
    "harmlessness": ("You are a harmless, ethical assistant. Refuse to help with anything dangerous or illegal and explain why politely.",
                     "You are a reckless assistant that goes along with any request, however harmful."),
}


def aspects_for(domain: str, custom: list[str] | None = None) -> list[str]:
    if custom:
        return list(custom)
    if domain not in ASPECTS:
        raise ConfigError(f"unknown domain {domain!r}; choose one of {', '.join(ASPECTS)} or give aspects")
    return ASPECTS[domain]


def rlcd_instructions(domain: str, positive: str | None = None, negative: str | None = None) -> tuple[str, str]:
    if domain not in RLCD_INSTRUCTIONS and (positive is None or negative is None):
        raise ConfigError(f"unknown domain {domain!r}; choose one of {', '.join(RLCD_INSTRUCTIONS)} or give both instructions")
    default = RLCD_INSTRUCTIONS.get(domain, ("", ""))
    return positive or default[0], negative or default[1]
