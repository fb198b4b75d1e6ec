"""A toy generation method from outside preflab, in one file: it needs a judge and declares a
post-filter. Two samples per prompt; the pairwise judge (asked in both orders) labels them;
after the run, ``keep_at_most`` caps the pairs kept.

It is registered through the ``preflab.methods`` entry point group, as an installed plugin
would be (see tests/test_method_plugin.py, which points an entry point at
:func:`register_toy`). Nothing in preflab names it.
"""

from __future__ import annotations

from dataclasses import dataclass

from preflab.config import option
from preflab.methods.base import Context, Failure, Outcome, register
from preflab.records import PreferencePair, PromptRecord

NAME = "toy-judged"


@dataclass(frozen=True)
class ToyConfig:
    temperature: float = option(0.7, "Sampling temperature.")
    max_tokens: int = option(32, "Token limit per sample.")
    keep_at_most: int | None = option(None, "After the run, keep only the first this many pairs.")


async def make(prompt: PromptRecord, cfg: ToyConfig, ctx: Context) -> Outcome:
    opts = {"temperature": cfg.temperature, "max_tokens": cfg.max_tokens, "seed": ctx.seed, "n": 2}
    first, second = (s.text.strip() for s in await ctx.llm.acomplete(prompt.prompt, opts, method=NAME))
    if first == second:
        return Failure(prompt.id, "identical")
    verdict = await ctx.judge.compare(prompt.prompt, first, second, method=NAME)
    if verdict.winner not in (0, 1):
        return Failure(prompt.id, f"judge_{verdict.winner}")
    chosen, rejected = (first, second) if verdict.winner == 0 else (second, first)
    return PreferencePair(prompt=prompt.prompt, chosen=chosen, rejected=rejected,
                          provenance={"method": NAME, "judge": ctx.judge.id, "votes": list(verdict.votes),
                                      "generator": ctx.generator(opts), "seed": ctx.seed, "prompt_id": prompt.id})


def keep_at_most(pairs: list[PreferencePair], cfg: ToyConfig) -> tuple[list[PreferencePair], dict]:
    if cfg.keep_at_most is None:
        return pairs, {}
    return pairs[: cfg.keep_at_most], {"keep_at_most": cfg.keep_at_most}


def register_toy() -> None:
    register(NAME, ToyConfig, make, needs=("judge",), post_filters=(keep_at_most,),
             summary="Toy plugin: two samples labelled by the judge.")
