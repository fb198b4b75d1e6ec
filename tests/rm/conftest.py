"""Tiny random backbones built in the test session (an encoder and a decoder with a chat
template), sharing MiniLM's tokenizer so nothing is downloaded, plus synthetic pairs whose
label a model can learn (the chosen response contains 'good')."""

from __future__ import annotations

import random

import pytest

from preflab.records import Message, PreferencePair, text_prompt

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|> {{ m['content'] }} [SEP] {% endfor %}"
    "{% if add_generation_prompt %}<|assistant|> {% endif %}"
)


def _tokenizer():
    from transformers import AutoTokenizer

    from preflab.rm.backbone import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model("minilm"))


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    tok = _tokenizer()
    cfg = BertConfig(vocab_size=tok.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=512)
    model = BertForSequenceClassification(cfg)
    path = tmp_path_factory.mktemp("tiny_bert")
    model.bert.save_pretrained(path)  # a base encoder: no classifier weights, like a real checkpoint
    tok.save_pretrained(path)
    return str(path)


@pytest.fixture(scope="session")
def tiny_decoder(tmp_path_factory):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    tok = _tokenizer()
    tok.chat_template = CHAT_TEMPLATE
    cfg = LlamaConfig(vocab_size=tok.vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512, tie_word_embeddings=True)
    model = LlamaForCausalLM(cfg)
    path = tmp_path_factory.mktemp("tiny_llama")
    model.save_pretrained(path)
    tok.save_pretrained(path)
    return str(path)


WORDS = "the cat sat on a mat while rain fell over quiet hills and rivers ran".split()


def make_pairs(n: int, seed: int = 0, multi_turn: bool = False) -> list[PreferencePair]:
    rng = random.Random(seed)
    pairs = []
    for i in range(n):
        q = f"question {i} " + " ".join(rng.choices(WORDS, k=rng.randint(3, 12)))
        prompt = text_prompt(q)
        if multi_turn and i % 2:
            prompt = [Message(role="user", content="earlier " + q), Message(role="assistant", content="ok"),
                      Message(role="user", content=q)]
        body = " ".join(rng.choices(WORDS, k=rng.randint(2, 15)))
        pairs.append(PreferencePair(prompt=prompt, chosen=f"good good {body}", rejected=f"bad bad {body} {i}"))
    return pairs


@pytest.fixture
def pairs():
    return make_pairs(24)
