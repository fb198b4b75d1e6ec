"""Score conversations with a saved reward model the way other tools do, in a subprocess that
cannot import preflab: the model card's own transformers lines (and its ``fit`` lines for
conversations longer than the model takes), and TRL's reward-function path, written out from
``trl/trainer/grpo_trainer.py`` (``GRPOTrainer.__init__`` loading ``reward_funcs=[path]``, then
``_calculate_rewards`` for conversational prompts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from preflab.rm.card import CARD_FILE, FIT_MARK, MODEL_PLACEHOLDER, TRANSFORMERS_MARK

TRL_PATH = '''
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer
from trl.data_utils import apply_chat_template as trl_apply_chat_template, is_conversational
from trl.trainer.utils import get_config_model_id


def trl_rewards(path, prompts, completions, batch_size=8):
    # GRPOTrainer.__init__, a reward model given as a path
    reward_func = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    processing_class = AutoTokenizer.from_pretrained(get_config_model_id(reward_func.config))
    if processing_class.pad_token_id is None:
        processing_class.pad_token = processing_class.eos_token
    reward_func.config.get_text_config().pad_token_id = processing_class.pad_token_id
    reward_func.eval()
    # GRPOTrainer._calculate_rewards, one generation batch at a time
    out = []
    for start in range(0, len(prompts), batch_size):
        ps, cs = prompts[start:start + batch_size], completions[start:start + batch_size]
        assert is_conversational({"prompt": ps[0]})
        messages = [{"messages": p + c} for p, c in zip(ps, cs)]
        texts = [trl_apply_chat_template(x, processing_class)["text"] for x in messages]
        reward_inputs = processing_class(text=texts, return_tensors="pt", padding=True, padding_side="right",
                                         add_special_tokens=False)
        with torch.inference_mode():
            out += reward_func(**reward_inputs).logits[:, 0].tolist()
    return out
'''

MAIN = '''
data = json.load(open(sys.argv[1]))
convs = data["conversations"]
todo = [fit(c) for c in convs] if data["fit"] else convs
result = {"transformers": [r for s in range(0, len(todo), 8) for r in rewards(todo[s:s + 8])]}
if data["trl"]:
    try:
        result["trl"] = trl_rewards(MODEL, [c[:-1] for c in convs], [[c[-1]] for c in convs])
    except Exception as err:
        result["trl_error"] = f"{type(err).__name__}: {err}"
json.dump(result, open(sys.argv[2], "w"))
'''


def card_block(card: str, mark: str) -> str:
    """The ```python block of the card whose first line is ``mark``."""
    start = card.index("```python\n" + mark) + len("```python\n")
    return card[start:card.index("```", start)]


def outside_scores(folder: Path, conversations: list[list[dict]], work: Path, *, fit: bool = False,
                   trl: bool = True) -> dict:
    """{"transformers": [...], "trl": [...] or "trl_error": "..."} for ``conversations``."""
    card = (folder / CARD_FILE).read_text(encoding="utf-8")
    code = card_block(card, TRANSFORMERS_MARK).replace(MODEL_PLACEHOLDER, str(folder))
    script = "\n".join([
        "import json, sys",
        "sys.modules['preflab'] = None  # these lines must stand alone: importing preflab now fails",
        code, card_block(card, FIT_MARK), TRL_PATH, MAIN,
    ])
    work.mkdir(parents=True, exist_ok=True)
    (work / "outside.py").write_text(script)
    (work / "in.json").write_text(json.dumps({"conversations": conversations, "fit": fit, "trl": trl}))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, str(work / "outside.py"), str(work / "in.json"), str(work / "out.json")],
                          capture_output=True, text=True, env=env, cwd=work, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads((work / "out.json").read_text())
