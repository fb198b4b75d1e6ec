"""Does the Q8_0 copy the embedded model now decodes from (``preflab.llm.llamacpp.requantize``) model
language as well as the shipped Q4_1 file? Greedy paths of a 135M model part after a few tokens
under any change of weights, so equal greedy text is no measure of quality; the likelihood of
real responses is.

Both weight files score the same human-written responses (HH-RLHF harmless test, chosen and
rejected, the first ``--pairs`` pairs) given their dialogue, with llama.cpp's own log-softmax;
reported: mean negative log-likelihood per token (and perplexity) of each file, their paired
difference with a bootstrap interval over responses, and how often the two files agree on which
response of a pair is more likely.

    python benchmarks/q8_quality.py --pairs 150     # writes benchmarks/results/q8_quality.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
DATA = Path(os.environ.get("PREFLAB_SHARED_DATA", HERE.parent.parent / "shared" / "data"))


def main() -> None:
    from preflab import io
    from preflab.llm import open_llm

    parser = argparse.ArgumentParser()
    parser.add_argument("--pairs", type=int, default=150)
    parser.add_argument("--out", default=str(HERE / "results" / "q8_quality.json"))
    args = parser.parse_args()
    pairs = list(io.read_pairs(DATA / "hh_rlhf_harmless_base_test.jsonl.gz"))[: args.pairs]
    files = {"q4_1 (shipped)": "llamacpp#weights=file&batch=1", "q8_0 (default)": "llamacpp#batch=1"}
    scores: dict[str, list] = {}
    for name, spec in files.items():
        with open_llm(spec, cache=False) as llm:
            scores[name] = [llm.loglikelihoods(p.prompt, [p.chosen, p.rejected]) for p in pairs]
    a, b = (scores[n] for n in files)
    per_token = {n: np.array([[x.sum / x.n_tokens for x in pair] for pair in s if all(x.n_tokens for x in pair)])
                 for n, s in scores.items()}
    tokens = sum(x.n_tokens for pair in a for x in pair)
    nll = {n: -sum(x.sum for pair in s for x in pair) / tokens for n, s in scores.items()}
    diff = (per_token[list(files)[1]] - per_token[list(files)[0]]).ravel()  # log-prob per token, q8 minus q4
    rng = np.random.default_rng(0)
    boot = [rng.choice(diff, diff.size).mean() for _ in range(2000)]
    agree = np.mean([(pa[0].sum > pa[1].sum) == (pb[0].sum > pb[1].sum) for pa, pb in zip(a, b)])
    result = {"pairs": len(pairs), "responses": 2 * len(pairs), "tokens": tokens, "specs": files,
              "nll_per_token": nll, "perplexity": {n: math.exp(v) for n, v in nll.items()},
              "mean_logprob_per_token_diff_q8_minus_q4": float(diff.mean()),
              "diff_95ci": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))],
              "same_more_likely_response": float(agree),
              "command": f"python benchmarks/q8_quality.py --pairs {args.pairs}"}
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
