"""West-of-N on HH-RLHF harmless with the embedded SmolLM2 and a MiniLM scorer.

The scorer (frozen MiniLM embeddings + a trained head) learns from one seeded half of the
human pairs; West-of-N (N = 8) makes pairs for prompts of the other half. A reference model of
the same recipe trained on that other half's own human labels judges the synthetic labels
(agreement = share of synthetic pairs where the reference also prefers the chosen response).
Then the cost against N: the same prompts with N = 2, 4, 8 and no cache, timed in one run.

    .venv/bin/python benchmarks/gen_west_of_n_hh.py --prompts 30 --timing-prompts 8
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DATA = HERE.parent.parent / "shared" / "data"


def main() -> None:
    from preflab import io
    from preflab.evaluation.metrics import bootstrap_ci, correctness
    from preflab.llm.client import open_llm
    from preflab.methods import Context, stream_outcomes
    from preflab.methods.west_of_n import WestOfNConfig
    from preflab.rm.embed_head import EmbedHeadConfig, train_embed_head
    from preflab.rm.scorer import score_pairs
    import numpy as np

    parser = argparse.ArgumentParser()
    parser.add_argument("--prompts", type=int, default=30)
    parser.add_argument("--timing-prompts", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=160)
    args = parser.parse_args()
    work = HERE / "results" / "gen_west_of_n_hh"
    work.mkdir(parents=True, exist_ok=True)

    pairs = list(io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz"))
    half_a, half_b = io.split_pairs(pairs, 0.5, seed=0)
    emb = EmbedHeadConfig(cache_dir=str(work / "embeddings"))
    scorer = train_embed_head(half_a, emb)
    reference = train_embed_head(half_b, EmbedHeadConfig(cache_dir=str(work / "embeddings"), seed=1))
    held = correctness([c - r for c, r in score_pairs(scorer, half_b)])
    prompts = list(io.prompts_of(half_b))[: args.prompts]

    result: dict = {"scorer_accuracy_on_other_half": float(held.mean()), "scorer_ci95": bootstrap_ci(held)}
    with open_llm("llamacpp", cache=work / "calls.sqlite") as llm:
        started = time.perf_counter()
        cfg = WestOfNConfig(n=8, max_tokens=args.max_tokens)
        outcomes = [o for _, o in stream_outcomes(prompts, "west-of-n", cfg, Context(llm=llm, scorer=scorer, seed=0))]
        made = [o for o in outcomes if hasattr(o, "chosen")]
        agree = correctness([c - r for c, r in score_pairs(reference, made)]) if made else np.array([])
        result.update({
            "prompts": len(prompts), "n": 8, "pairs": len(made),
            "failures": [o.reason for o in outcomes if not hasattr(o, "chosen")],
            "reference_agreement": float(agree.mean()) if len(agree) else None,
            "reference_agreement_ci95": bootstrap_ci(agree) if len(agree) else None,
            "mean_confidence": float(np.mean([p.provenance["confidence"] for p in made])) if made else None,
            "generation_wall_s": time.perf_counter() - started,
        })
    timing = {}
    with open_llm("llamacpp", cache=False) as llm:  # no cache: every sample is paid
        subset = prompts[: args.timing_prompts]
        list(stream_outcomes(subset[:1], "west-of-n", WestOfNConfig(n=2, max_tokens=8), Context(llm=llm, scorer=scorer)))  # warm-up
        for n in (2, 4, 8):
            started = time.perf_counter()
            out = [o for _, o in stream_outcomes(subset, "west-of-n", WestOfNConfig(n=n, max_tokens=args.max_tokens),
                                                 Context(llm=llm, scorer=scorer, seed=100 + n))]
            tokens = llm.usage.summary()["total"]["completion_tokens"]
            timing[n] = {"wall_s": time.perf_counter() - started, "pairs": sum(hasattr(o, "chosen") for o in out),
                         "completion_tokens_so_far": tokens}
    result["cost_vs_n"] = timing
    result["wall_ratio_8_over_2"] = timing[8]["wall_s"] / timing[2]["wall_s"]
    result["command"] = "python benchmarks/gen_west_of_n_hh.py " + " ".join(f"--{k.replace('_', '-')} {v}" for k, v in vars(args).items())
    (HERE / "results" / "gen_west_of_n_hh.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
