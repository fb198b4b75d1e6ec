"""preflab from Python: generate pairs, train reward models, evaluate, and compare base-only with
base + a method (what `preflab quickstart` does, in a script or a notebook cell).

    python examples/python_api.py                 # the embedded SmolLM2 via llama.cpp, offline
    python examples/python_api.py --llm "fake#seeded=true"   # no model: checks the plumbing (CI)
"""

import argparse
from importlib.resources import files
from pathlib import Path

import preflab

here, data = Path(__file__).parent, files("preflab") / "data"
parser = argparse.ArgumentParser()
parser.add_argument("--llm", default="llamacpp", help="generator spec: llamacpp, openai:MODEL, hf:smollm2, fake#seeded=true")
parser.add_argument("--base", default=str(here / "pairs_small.jsonl"), help="labelled pairs to start from")
parser.add_argument("--eval", default=str(data / "quickstart_eval.jsonl"), help="held-out labelled pairs")
parser.add_argument("--limit", type=int, default=20, help="prompts to generate from")
args = parser.parse_args()

base, held_out = preflab.read_pairs(args.base), preflab.read_pairs(args.eval)
synthetic = preflab.generate("rlcd", str(data / "example_prompts.txt"), llm=args.llm, limit=args.limit, max_tokens=120)
print(f"rlcd: {len(synthetic)} pairs, {len(synthetic.failures)} failed prompts, "
      f"{synthetic.usage['total']['calls']} LLM calls")
dataset = synthetic.to_dataset()  # TRL's layout (prompt/chosen/rejected + provenance), for RewardTrainer or DPOTrainer

for name, train in {"base-only": base, "base + rlcd": base + synthetic}.items():
    rm = preflab.train_rm(train, cheap=True)  # a head on frozen MiniLM: seconds on a CPU
    model = preflab.evaluate(rm, held_out, n_boot=500)["model"]
    low, high = model["ci95"]
    print(f"{name:12} {len(train):3} pairs  accuracy {model['accuracy']:.3f}  95% CI [{low:.3f}, {high:.3f}]")
