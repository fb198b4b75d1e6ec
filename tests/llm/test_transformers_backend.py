"""The ``hf`` backend: batched left-padded generation equals one-at-a-time generation, seeded
samples do not depend on their batch companions, scoring, and (integration) the real SmolLM2
weights loaded from the GGUF agree with llama.cpp's scores."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from preflab.llm import Options, open_llm
from preflab.llm.base import GenItem, as_messages
from preflab.llm.transformers_backend import TransformersBackend

pytestmark = pytest.mark.slow

PROMPTS = ["Hi", "Tell me a long story about a dragon and a knight.", "What is 2+2?", "Why?"]


@pytest.fixture(scope="module")
def tiny_model_dir(smollm2_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """SmolLM2's real tokenizer (chat template included) on a tiny random Llama."""
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("gguf")
    folder = tmp_path_factory.mktemp("tiny-llama")
    tok = transformers.AutoTokenizer.from_pretrained(str(smollm2_gguf.parent), gguf_file=smollm2_gguf.name)
    tok.save_pretrained(folder)
    torch.manual_seed(0)
    config = transformers.LlamaConfig(vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                                      num_attention_heads=2, num_key_value_heads=1, max_position_embeddings=512,
                                      eos_token_id=tok.eos_token_id, bos_token_id=tok.bos_token_id, pad_token_id=tok.eos_token_id)
    transformers.LlamaForCausalLM(config).save_pretrained(folder)
    return folder


def test_batched_greedy_equals_one_by_one(tiny_model_dir):
    batched = open_llm(f"hf:{tiny_model_dir}#batch=4&dtype=float32", cache=False)
    many = batched.complete_many([(p, {"temperature": 0, "max_tokens": 12}) for p in PROMPTS])
    single = open_llm(f"hf:{tiny_model_dir}#batch_size=1&dtype=float32", cache=False)  # the old option name still works
    ones = [single.complete(p, temperature=0, max_tokens=12)[0] for p in PROMPTS]
    assert [m[0].text for m in many] == [o.text for o in ones]
    assert all(m[0].completion_tokens == 12 and m[0].finish_reason == "length" for m in many)
    assert len({m[0].prompt_tokens for m in many}) > 1  # the batch really was ragged (left padding)
    batched.close(), single.close()


def test_groups_are_length_sorted_and_a_rerun_of_the_call_reproduces_them(tiny_model_dir, tmp_path):
    spec = f"hf:{tiny_model_dir}#batch=3&dtype=bfloat16"
    reqs = [(p, {"n": 2, "temperature": 1.0, "max_tokens": 8, "seed": 3}) for p in PROMPTS]
    llm = open_llm(spec, cache=tmp_path / "c.sqlite3")
    items = [GenItem(as_messages(p), Options(**o), 0) for p, o in reqs for _ in range(2)]
    groups = llm._loop().run(llm.backend.plan(items))
    assert sorted(k for g in groups for k in g) == list(range(8)) and max(len(g) for g in groups) == 3
    assert groups[0][:2] == [0, 1] and 2 not in groups[0]  # the shortest prompt ("Hi") first, the story later
    first = [[c.text for c in r] for r in llm.complete_many(reqs)]
    assert first[2][0] != first[2][1]  # distinct seeds, distinct samples
    llm.close()
    again = open_llm(spec, cache=False)
    assert [[c.text for c in r] for r in again.complete_many(reqs)] == first
    again.close()


def test_repeat_penalty_has_llamacpp_semantics_in_a_ragged_batch(tiny_model_dir, tmp_path):
    """Greedy with repeat_penalty, batched with left padding, equals a hand-written loop that
    applies llama.cpp's rule over the generated tokens only (the prompt does not count)."""
    torch, transformers = pytest.importorskip("torch"), pytest.importorskip("transformers")
    # a model that repeats itself: no layer writes to the residual stream, and the output matrix
    # is the embedding, so the next token is (about) the current one
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    with torch.no_grad():
        for layer in model.model.layers:
            layer.self_attn.o_proj.weight.zero_(), layer.mlp.down_proj.weight.zero_()
        model.lm_head.weight.copy_(model.model.embed_tokens.weight)
    model.save_pretrained(tmp_path), transformers.AutoTokenizer.from_pretrained(tiny_model_dir).save_pretrained(tmp_path)
    penalty, steps = 1.5, 12
    llm = open_llm(f"hf:{tmp_path}#batch=4&dtype=float32", cache=False)
    opts = {"temperature": 0, "max_tokens": steps}
    plain = [r[0].text for r in llm.complete_many([(p, opts) for p in PROMPTS])]
    penalised = [r[0].text for r in llm.complete_many([(p, {**opts, "repeat_penalty": penalty}) for p in PROMPTS])]
    llm.close()
    tok = transformers.AutoTokenizer.from_pretrained(tmp_path)
    model.eval()
    expected = []
    for prompt in PROMPTS:
        ids = TransformersBackend._prompt_ids(None, tok, as_messages(prompt))
        new: list[int] = []
        for _ in range(steps):
            with torch.no_grad():
                logits = model(input_ids=torch.tensor([ids + new])).logits[0, -1].float()
            for t in set(new[-64:]):
                logits[t] = logits[t] / penalty if logits[t] > 0 else logits[t] * penalty
            nxt = int(logits.argmax())
            if nxt == tok.eos_token_id:
                break
            new.append(nxt)
        expected.append(tok.decode(new, skip_special_tokens=True))
    assert penalised == expected
    assert penalised != plain  # the model loops greedily; the penalty changes that


def test_repeat_processor_counts_the_last_generated_tokens_only():
    torch = pytest.importorskip("torch")
    from preflab.llm.transformers_backend import _repeat_processor

    ids = torch.tensor([[0, 1, 2, 3, 4], [1, 1, 1, 3, 3]])  # prompt = the first 2 columns
    scores = torch.tensor([[2.0, 2.0, 2.0, -2.0, 2.0], [2.0, 2.0, 2.0, -2.0, 2.0]])
    out = _repeat_processor(torch, 2, 2.0, last_n=2)(ids, scores.clone())
    # row 0: tokens 3 and 4 are the last two generated (2 fell out of the window, 0 and 1 are prompt)
    assert out.tolist() == [[2.0, 2.0, 2.0, -4.0, 1.0], [2.0, 2.0, 2.0, -4.0, 2.0]]


def test_logprobs_and_loglikelihood(tiny_model_dir):
    llm = open_llm(f"hf:{tiny_model_dir}", cache=False)
    out = llm.complete("Hi", temperature=0, max_tokens=6, logprobs=True)[0]
    assert len(out.logprobs) == out.completion_tokens and all(lp <= 0 for lp in out.logprobs)
    scores = llm.loglikelihoods("Hi", ["Hello there.", "", "Hello there."])
    assert scores[0] == scores[2] and scores[0].n_tokens == 3 and scores[0].sum < 0
    assert scores[1].n_tokens == 0 and math.isnan(scores[1].mean)
    llm.close()


def test_bad_targets_fail_before_loading():
    with pytest.raises(Exception, match="neither a model folder nor a hub id"):
        TransformersBackend("/no/such/folder")


@pytest.mark.integration
def test_real_smollm2_from_gguf_agrees_with_llamacpp_scores(smollm2_gguf):
    hf = open_llm(f"hf:{smollm2_gguf.parent}#gguf_file={smollm2_gguf.name}", cache=False)
    reply = hf.complete("What is the capital of France?", temperature=0, max_tokens=16)[0]
    assert "Paris" in reply.text
    response = "The capital of France is Paris."
    hf_score = hf.loglikelihood("What is the capital of France?", response)
    hf.close()
    cpp = open_llm("llamacpp", cache=False)
    cpp_score = cpp.loglikelihood("What is the capital of France?", response)
    cpp.close()
    # Same weights (dequantised Q4_1 vs llama.cpp's quantised kernels), same tokens here.
    assert hf_score.n_tokens == cpp_score.n_tokens
    assert abs(hf_score.sum - cpp_score.sum) < 0.1 * abs(cpp_score.sum) + 0.5
