"""preflab: better preference data for reward models.

Generate synthetic preference pairs (RMBoost, West-of-N, RLAIF, RLCD), measure and repair label
noise (Secrets of RLHF II), relabel pairs into reward-augmented DPO data, and train, score and
evaluate reward models. docs/methods.md describes each method; each method module's docstring has its algorithm.

Every CLI command is also a function here (``preflab.generate``, ``preflab.train_rm``, ...; see
:mod:`preflab.api`). They are imported on first use, so ``import preflab`` loads no model
library (nor pydantic: the record types load on first use too).
"""

__version__ = "0.1.0"

#: Public name → the module that defines it (imported on first access).
_LAZY = {
    "Message": "preflab.records",
    "PreferencePair": "preflab.records",
    "PromptRecord": "preflab.records",
    "text_prompt": "preflab.records",
    "generate": "preflab.api.generate",
    "judge": "preflab.api.judge",
    "train_rm": "preflab.api.rm",
    "score": "preflab.api.rm",
    "evaluate": "preflab.api.rm",
    "best_of_n": "preflab.api.bon",
    "strength": "preflab.api.quality",
    "clean": "preflab.api.quality",
    "augment": "preflab.api.augment",
    "bench": "preflab.api.bench",
    "quickstart": "preflab.api.bench",
    "meta_set": "preflab.api.meta",
    "report_page": "preflab.api.report",
    "inspect_pairs": "preflab.api.data_commands",
    "validate_pairs": "preflab.api.data_commands",
    "convert_pairs": "preflab.api.data_commands",
    "split_pairs": "preflab.api.data_commands",
    "check_llm": "preflab.api.llm",
    "llm_cache_stats": "preflab.api.llm",
    "clear_llm_cache": "preflab.api.llm",
    "Pairs": "preflab.api.data",
    "to_dataset": "preflab.api.data",
    "read_pairs": "preflab.api.data",
    "read_prompts": "preflab.api.data",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'preflab' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next access skips this function
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
