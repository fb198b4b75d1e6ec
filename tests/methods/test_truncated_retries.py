"""Issue 27 §5: a response cut off at max_tokens is sampled again with another seed (RLCD's
either response, RMBoost's first one) before the prompt counts as truncated. The retry's seed
is a function of the run's seed, the prompt and the attempt, so outputs are reproducible and a
resumed run's file equals an uninterrupted one's; the retries are counted in the run record.
The fake LLM cuts an answer longer than max_tokens words; here an answer rambles under the
run's seed (0) and ends under any other. The real-model check is
``benchmarks/prompt_yield.py --quickstart`` (benchmarks/README.md)."""

import json

import pytest

from preflab.llm.fake import fake_llm
from preflab.methods import Context, Failure, get_method, stream_outcomes
from preflab.methods.base import derived_seed
from preflab.methods.rlcd import RLCDConfig
from preflab.methods.rmboost import RMBoostConfig
from preflab.pipelines.generation import retried_reasons, run_generation
from preflab.records import PreferencePair, PromptRecord, text_prompt
from preflab.report.tables import failures_cell

PROMPTS = [PromptRecord(prompt=text_prompt(q)) for q in ("Why is the sky blue?", "Name a prime.", "What is DNS?")]
RAMBLE = "on and on " * 100


def rlcd_answer(rambles):
    """RLCD's positive answer is 'careful', the negative 'sloppy'; ``rambles(side, seed)`` says
    when one runs past max_tokens."""
    def answer(messages, options, seed):
        side = "positive" if "You are a helpful" in messages[0].content else "negative"
        return side + " " + RAMBLE if rambles(side, options.seed) else f"{'careful' if side == 'positive' else 'sloppy'} answer {options.seed}"
    return answer


def test_rlcd_samples_a_cut_off_response_again_with_a_seed_of_the_prompt_and_attempt():
    llm = fake_llm(default=rlcd_answer(lambda side, seed: side == "negative" and seed == 0))
    ((prompt, pair),) = stream_outcomes(PROMPTS[:1], "rlcd", RLCDConfig(max_tokens=40), Context(llm=llm))
    assert isinstance(pair, PreferencePair)
    retry = derived_seed(0, prompt.id, "truncated", 1, 1)
    assert pair.rejected == f"sloppy answer {retry}" and pair.chosen == "careful answer 0"
    assert [c.options.seed for c in llm.backend.generate_calls] == [0, 0, retry]  # only the cut-off one again
    assert pair.provenance["retried"] == {"truncated": 1} and pair.provenance["seeds"] == [0, retry]
    assert pair.provenance["raw"]["attempts"] == [1, 2] and pair.provenance["truncated"] == [False, False]


def test_rlcd_counts_truncated_when_every_sample_is_cut_off():
    llm = fake_llm(default=rlcd_answer(lambda side, seed: True))
    ((_, failure),) = stream_outcomes(PROMPTS[:1], "rlcd", RLCDConfig(max_tokens=40, truncated_retries=2), Context(llm=llm))
    assert isinstance(failure, Failure) and failure.reason == "truncated"
    assert failure.detail == "positive and negative cut off after 3 samples"
    assert len(llm.backend.generate_calls) == 2 + 2 * 2
    assert len({c.options.seed for c in llm.backend.generate_calls}) == 5  # two firsts share the run's seed


@pytest.mark.parametrize("cfg", [RLCDConfig(max_tokens=40, truncated_retries=0),
                                 RLCDConfig(max_tokens=40, keep_truncated=True)])
def test_rlcd_without_retries_or_keeping_cut_off_answers_samples_once(cfg):
    llm = fake_llm(default=rlcd_answer(lambda side, seed: side == "negative"))
    ((_, outcome),) = stream_outcomes(PROMPTS[:1], "rlcd", cfg, Context(llm=llm))
    assert len(llm.backend.generate_calls) == 2
    if cfg.keep_truncated:
        assert outcome.provenance["truncated"] == [False, True] and "retried" not in outcome.provenance
    else:
        assert outcome.reason == "truncated" and outcome.detail == ""


def test_a_pair_whose_answers_all_ended_is_made_as_before():
    """No retry, no new provenance key: pairs of earlier runs stay byte-identical."""
    llm = fake_llm(default=rlcd_answer(lambda side, seed: False))
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "rlcd", RLCDConfig(), Context(llm=llm))
    assert not {"retried", "seeds"} & set(pair.provenance) and "attempts" not in pair.provenance["raw"]


def rmboost_answer(rambles):
    def answer(messages, options, seed):
        if "Rewrite the response so that" in messages[-1].content:
            return "<response>a rewritten reply</response>"
        return RAMBLE if rambles(options.seed) else f"first answer {options.seed}"
    return answer


def test_rmboost_samples_a_cut_off_first_response_again():
    llm = fake_llm(default=rmboost_answer(lambda seed: seed == 0))
    ((prompt, pair),) = stream_outcomes(PROMPTS[:1], "rmboost", RMBoostConfig(max_tokens=40), Context(llm=llm))
    retry = derived_seed(0, prompt.id, "truncated", 0, 1)
    assert pair.provenance["raw"]["y1"] == f"first answer {retry}" and pair.provenance["raw"]["y1_attempts"] == 2
    assert pair.provenance["retried"] == {"base_truncated": 1}
    assert pair.provenance["generator"]["options"]["first"]["seed"] == retry  # the kept sample's seed
    rewrite = [c for c in llm.backend.generate_calls if "Rewrite the response so that" in c.messages[-1].content]
    assert f"first answer {retry}" in rewrite[0].messages[-1].content  # the rewrite starts from the kept answer

    llm = fake_llm(default=rmboost_answer(lambda seed: True))
    ((_, failure),) = stream_outcomes(PROMPTS[:1], "rmboost", RMBoostConfig(max_tokens=40), Context(llm=llm))
    assert failure.reason == "base_truncated" and failure.detail == "cut off after 2 samples"
    assert len(llm.backend.generate_calls) == 2  # no rewrite of a cut-off answer


@pytest.mark.parametrize("name, cfg, answer", [
    ("rlcd", RLCDConfig(max_tokens=40), rlcd_answer(lambda side, seed: seed == 0 and side == "positive")),
    ("rmboost", RMBoostConfig(max_tokens=40), rmboost_answer(lambda seed: seed == 0))])
def test_retry_seeds_depend_on_the_prompt_not_on_the_order(name, cfg, answer):
    def run(prompts):
        llm = fake_llm(default=answer)
        return {p.id: o.model_dump_json() for p, o in stream_outcomes(prompts, name, cfg, Context(llm=llm), in_flight=2)}
    forward = run(PROMPTS)
    assert forward == run(list(reversed(PROMPTS))) == run(PROMPTS[1:]) | {PROMPTS[0].id: forward[PROMPTS[0].id]}
    provenance = [json.loads(p)["provenance"] for p in forward.values()]
    seeds = [p["seeds"][0] if name == "rlcd" else p["generator"]["options"]["first"]["seed"] for p in provenance]
    assert 0 not in seeds and len(set(seeds)) == len(PROMPTS)  # each prompt's retry has its own seed


class Interrupt(BaseException):
    pass


def test_a_resumed_run_equals_an_uninterrupted_one_and_counts_its_retries(tmp_path):
    prompts = tmp_path / "prompts.jsonl"
    prompts.write_text("".join(json.dumps({"prompt": f"question number {i}"}) + "\n" for i in range(6)))
    method, cfg = get_method("rlcd"), RLCDConfig(max_tokens=40)
    answer = rlcd_answer(lambda side, seed: seed == 0 and side == "negative")
    whole = run_generation(prompts, tmp_path / "whole.jsonl", method, cfg, fake_llm(default=answer), in_flight=1)
    assert whole.counts["pairs"] == 6 and retried_reasons(whole.counts) == {"truncated": 6}
    assert whole.run["counts"]["retried:truncated"] == 6

    calls = [0]

    def stops_midway(messages, options, seed):
        calls[0] += 1
        if calls[0] == 8:  # inside the third prompt, after its first two samples
            raise Interrupt()
        return answer(messages, options, seed)
    with pytest.raises(Interrupt):
        run_generation(prompts, tmp_path / "resumed.jsonl", method, cfg, fake_llm(default=stops_midway), in_flight=1)
    resumed = run_generation(prompts, tmp_path / "resumed.jsonl", method, cfg, fake_llm(default=answer), in_flight=1)
    assert resumed.resumed == 2
    assert (tmp_path / "resumed.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert retried_reasons(resumed.counts) == {"truncated": 6}


def test_the_cost_table_shows_what_was_sampled_again():
    assert failures_cell({"failures": {"truncated": 2}}) == "truncated 2"  # results from before the field
    assert failures_cell({"failures": {}, "retried": {"truncated": 4}}) == "— (sampled again: truncated 4)"
    assert failures_cell({"failures": {"base_truncated": 1}, "retried": {"base_truncated": 3, "unparseable": 1}}) == \
        "base_truncated 1 (sampled again: base_truncated 3, unparseable 1)"
