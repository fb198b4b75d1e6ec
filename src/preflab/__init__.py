"""preflab: better preference data for reward models.

Generate synthetic preference pairs (RMBoost, West-of-N, RLAIF, RLCD), measure and repair label
noise (Secrets of RLHF II), relabel pairs into reward-augmented DPO data, and train, score and
evaluate reward models. ``../SPEC.md``-level method definitions live in each module's docstring.
"""

__version__ = "0.1.0"

from preflab.records import Message, PreferencePair, PromptRecord, text_prompt  # noqa: E402

__all__ = ["Message", "PreferencePair", "PromptRecord", "text_prompt", "__version__"]
