"""``preflab bon`` with the embedded SmolLM2 (llama.cpp) as the policy, on a few prompts: real
samples, scored and picked; drawn again without the cache, the same seed gives the same samples."""

import json

import pytest

import preflab

pytestmark = [pytest.mark.integration, pytest.mark.slow]
PROMPTS = ["Name two colours of the rainbow.", "Give one tip for drinking more water.", "What is a prime number?"]


def test_best_of_n_with_the_embedded_policy(rms, smollm2_gguf, tmp_path):
    def run(out, cache):
        return preflab.best_of_n(PROMPTS, rm=[f"keen={rms['keen']}", f"contrary={rms['contrary']}"], gold=rms["gold"],
                                 llm="llamacpp", n=4, max_tokens=16, cache=cache, cache_path=tmp_path / "calls.sqlite",
                                 out=out, n_boot=100, progress=False)

    results = run(tmp_path / "a", True)
    assert results["prompts"] == 3 and results["failed_prompts"] == 0 and results["ns"] == [1, 2, 4]
    assert results["sampling"]["generator"]["backend"] == "llamacpp" and results["sampling"]["tokens_out"] > 0
    assert set(results["wins"]) == {"keen over contrary"}
    for label in ("keen", "contrary"):
        assert results["curves"][label]["1"]["mean"] == pytest.approx(results["random"]["1"]["mean"])
        assert results["curves"][label]["4"]["mean"] <= results["oracle"]["4"]["mean"] + 1e-9

    def samples(folder):
        return [json.loads(line)["responses"] for line in (folder / "picks.jsonl").read_text().splitlines()]

    first = samples(tmp_path / "a")
    assert all(len(r) == 4 and any(r) for r in first)
    again = run(tmp_path / "b", False)  # no cache: llama.cpp samples again, seeded the same
    assert samples(tmp_path / "b") == first and again["curves"] == results["curves"]
