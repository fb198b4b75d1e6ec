"""LoRA (peft) for reward models: adapters on the backbone, the score head fully trained.

Why merge before saving: a merged model is a plain ``save_pretrained`` folder that loads
without peft, and the reload check in :mod:`preflab.rm.save` proves the merge kept the head
(the known failure is a head silently re-initialised after merge or reload).
"""

from __future__ import annotations

from preflab.errors import require
from preflab.rm.backbone import Backbone


def add_lora(bb: Backbone, cfg) -> None:
    peft = require("peft", "train")
    head = "score" if bb.is_decoder else "classifier"
    extra = [head] + (["pooler"] if not bb.is_decoder and hasattr(bb.model, "bert") else [])
    lcfg = peft.LoraConfig(task_type=peft.TaskType.SEQ_CLS, r=cfg.lora_r, lora_alpha=cfg.lora_alpha,
                           lora_dropout=cfg.lora_dropout, target_modules="all-linear", modules_to_save=extra)
    bb.model = peft.get_peft_model(bb.model, lcfg)


def merge_lora(bb: Backbone) -> None:
    """Fold the adapters into the weights; the wrapper's saved head copy becomes the head."""
    if hasattr(bb.model, "merge_and_unload"):
        bb.model = bb.model.merge_and_unload()
