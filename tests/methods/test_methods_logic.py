"""Method logic with the fake LLM (fast): labels, pairing, failures, provenance, prompts sent."""

import pytest

from preflab.errors import ConfigError
from preflab.judges.pairwise import combine, parse_verdict
from preflab.llm.fake import fake_llm
from preflab.methods import Context, Failure, stream_outcomes
from preflab.methods.rmboost import RMBoostConfig
from preflab.methods.rlaif import RLAIFConfig
from preflab.methods.rlcd import RLCDConfig
from preflab.methods.west_of_n import WestOfNConfig, keep_confident
from preflab.methods.baselines import ScoredSamplesConfig
from preflab.judges import JudgeConfig, PairwiseJudge
from preflab.records import PreferencePair, PromptRecord, text_prompt

PROMPTS = [PromptRecord(prompt=text_prompt(q)) for q in ("Why is the sky blue?", "Name a prime.", "What is DNS?")]


def rewriter(answer_for_rewrite):
    def answer(messages, options, seed):
        text = messages[-1].content
        if "Rewrite the response so that" in text:  # the RMBoost rewrite template
            return answer_for_rewrite(text, seed)
        return f"first answer to {text} (seed {seed})"
    return answer


class LengthScorer:
    id = "length-scorer"

    def score(self, prompt, responses):
        return [float(len(r)) for r in responses]


def test_rmboost_pairs_follow_the_label():
    llm = fake_llm(default=rewriter(lambda text, seed: "<response>a much improved or degraded reply</response>"))
    out = list(stream_outcomes(PROMPTS, "rmboost", RMBoostConfig(), Context(llm=llm, seed=3)))
    assert all(isinstance(o, PreferencePair) for _, o in out)
    labels = set()
    for prompt, pair in out:
        prov = pair.provenance
        labels.add(prov["label"])
        y1 = prov["raw"]["y1"]
        if prov["label"] == "better":
            assert (pair.chosen, pair.rejected) == ("a much improved or degraded reply", y1)
        else:
            assert (pair.chosen, pair.rejected) == (y1, "a much improved or degraded reply")
        assert 1 <= len(prov["aspects"]) <= 3 and prov["template"] == "rmboost_rewrite.v2" and prov["answer_template"] == "answer_length.v2"
        assert prov["generator"]["model"] == "fake-model" and prov["seed"] == 3
    # the rewrite prompt carries the request, y1, the direction and the aspects
    rewrite_calls = [c for c in llm.backend.generate_calls if "Rewrite the response so that" in c.messages[-1].content]
    assert len(rewrite_calls) == 3
    sent = rewrite_calls[0].messages[-1].content
    assert "first answer to" in sent and ("is better in" in sent or "is worse in" in sent)
    assert [m.role for m in rewrite_calls[0].messages] == ["system"] + ["user", "assistant"] * 3 + ["user"]
    assert rewrite_calls[0].options.stop == ["</response>", "\nRewrite the response so that", "\nRequest:"]


def test_rmboost_draws_are_seeded_and_order_free():
    def run(prompts, seed):
        llm = fake_llm(default=rewriter(lambda t, s: "<response>other</response>"))
        return {p.id: (o.provenance["label"], tuple(o.provenance["aspects"])) for p, o in stream_outcomes(prompts, "rmboost", RMBoostConfig(), Context(llm=llm, seed=seed))}
    many = [PromptRecord(prompt=text_prompt(f"question {i}")) for i in range(30)]
    assert run(many, 1) == run(list(reversed(many)), 1)
    assert run(many, 1) != run(many, 2)
    labels = [label for label, _ in run(many, 1).values()]
    assert 5 < labels.count("better") < 25


def test_rmboost_retries_then_records_the_failure_reason():
    attempts = {}

    def bad_then_good(text, seed):
        attempts[seed] = attempts.get(seed, 0) + 1
        return "no delimiters here" if len(attempts) == 1 else "<response>fixed</response>"
    llm = fake_llm(default=rewriter(bad_then_good))
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "rmboost", RMBoostConfig(), Context(llm=llm))
    assert pair.provenance["attempts"] == 2 and pair.provenance["failed_attempts"] == ["unparseable"]

    for answer, reason in [("<response>   </response>", "empty"), ("nothing", "unparseable"),
                           ("<response>" + "word " * 500, "truncated")]:
        llm = fake_llm(default=rewriter(lambda t, s, a=answer: a))
        ((_, failure),) = stream_outcomes(PROMPTS[:1], "rmboost", RMBoostConfig(max_retries=1), Context(llm=llm))
        assert isinstance(failure, Failure) and failure.reason == reason
        assert len([c for c in llm.backend.generate_calls if "Rewrite the response so that" in c.messages[-1].content]) == 2


def test_rmboost_identical_rewrite_is_not_paired():
    def echo(messages, options, seed):
        text = messages[-1].content
        return "<response>same text</response>" if "Rewrite the response so that" in text else "same text"
    ((_, failure),) = stream_outcomes(PROMPTS[:1], "rmboost", RMBoostConfig(max_retries=0), Context(llm=fake_llm(default=echo)))
    assert failure.reason == "identical"


def test_rlcd_positive_is_chosen_and_instructions_are_sent():
    def answer(messages, options, seed):
        return "careful answer" if "You are a helpful" in messages[0].content else "sloppy answer"
    llm = fake_llm(default=answer)
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "rlcd", RLCDConfig(), Context(llm=llm))
    assert (pair.chosen, pair.rejected) == ("careful answer", "sloppy answer")
    systems = [c.messages[0] for c in llm.backend.generate_calls]
    assert all(m.role == "system" for m in systems) and len({m.content for m in systems}) == 2


def test_west_of_n_pointwise_best_and_worst_with_scores():
    lengths = {0: "mid size", 1: "the longest answer of all", 2: "short", 3: "the longest answer of all"}
    counter = {}

    def answer(messages, options, seed):
        counter.setdefault(seed, len(counter))
        return lengths[counter[seed]]
    llm = fake_llm(default=answer)
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "west-of-n", WestOfNConfig(n=4), Context(llm=llm, scorer=LengthScorer()))
    prov = pair.provenance
    assert (pair.chosen, pair.rejected) == ("the longest answer of all", "short")
    assert len(prov["scores"]) == 3  # the duplicate sample 3 is not scored twice
    assert prov["best_index"] == 1 and prov["worst_index"] == 2
    assert prov["confidence"] == pytest.approx(1 / (1 + pytest.importorskip("math").exp(-20.0)))
    assert pair.chosen_score == 25.0 and pair.rejected_score == 5.0


def test_west_of_n_needs_a_scorer_and_filters():
    with pytest.raises(ConfigError, match="scorer"):
        list(stream_outcomes(PROMPTS, "west-of-n", WestOfNConfig(), Context(llm=fake_llm())))
    same = fake_llm(default="identical every time")
    ((_, failure),) = stream_outcomes(PROMPTS[:1], "west-of-n", WestOfNConfig(n=3), Context(llm=same, scorer=LengthScorer()))
    assert failure.reason == "too_few_distinct"
    counter = {}

    def answer(messages, options, seed):
        counter.setdefault(seed, len(counter))
        return "x" * (counter[seed] + 1)
    llm = fake_llm(default=answer)
    ((_, failure),) = stream_outcomes(PROMPTS[:1], "west-of-n", WestOfNConfig(n=2, min_confidence=0.9),
                                      Context(llm=llm, scorer=LengthScorer()))
    assert failure.reason == "low_confidence"  # σ(1) = 0.73
    llm = fake_llm(default=answer)
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "west-of-n", WestOfNConfig(n=2, min_mean_logprob=-10.0),
                                   Context(llm=llm, scorer=LengthScorer()))
    assert len(pair.provenance["mean_logprob"]) == 2
    assert [c.kind for c in llm.backend.calls].count("loglikelihood") == 1


def test_confidence_quantile_filter():
    pairs = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen="a", rejected="b", provenance={"confidence": c})
             for i, c in enumerate([0.5, 0.6, 0.9, 0.99])]
    kept, cut = keep_confident(pairs, 0.5)
    assert [p.provenance["confidence"] for p in kept] == [0.9, 0.99] and cut == pytest.approx(0.75)


def test_self_training_is_west_of_n_with_two_samples():
    from preflab.methods import get_method
    assert get_method("self-training").defaults == {"n": 2}


def test_verdict_parsing_and_order_consistency():
    assert parse_verdict("[[A]]") == "A" and parse_verdict("[[ tie ]]") == "tie"
    assert parse_verdict("[[A]] no wait [[B]]") is None
    assert parse_verdict("Response B is better") == "B"
    assert parse_verdict("I think they are both fine") is None
    assert combine("A", "B").winner == 0 and combine("B", "A").winner == 1
    assert combine("A", "A").winner == "inconsistent" and combine("A", "A").p_first == 0.5
    assert combine("tie", "tie").winner == "tie"
    assert combine(None, "A").winner == "unparseable"


def _number_judge(messages, options, seed):
    """Samples are "sample <seed>"; the judge prefers the larger number, whatever the order."""
    text = messages[-1].content
    if "Which response is better" in text:
        a = int(text.split("Response A:")[1].split()[1])
        b = int(text.split("Response B:")[1].split()[1])
        return "[[A]]" if a > b else "[[B]]"
    return f"sample {seed}"


def test_rlaif_consistent_judge_labels_pairs():
    llm = fake_llm(default=_number_judge)
    judge = PairwiseJudge(llm)
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "rlaif", RLAIFConfig(), Context(llm=llm, judge=judge))
    assert int(pair.chosen.split()[1]) > int(pair.rejected.split()[1])
    assert pair.provenance["order_consistent"] is True
    assert pair.provenance["votes"] in (["A", "B"], ["B", "A"])
    assert pair.provenance["judge"]["template"] == "judge_pairwise.v1"


@pytest.mark.parametrize("policy, expect", [("drop", "judge_inconsistent"), ("tie", "judge_tie"), ("keep", "pair")])
def test_rlaif_position_biased_judge(policy, expect):
    def always_a(messages, options, seed):
        return "[[A]]" if "Which response is better" in messages[-1].content else f"sample {seed}"
    llm = fake_llm(default=always_a)
    ((_, outcome),) = stream_outcomes(PROMPTS[:1], "rlaif", RLAIFConfig(inconsistent=policy),
                                      Context(llm=llm, judge=PairwiseJudge(llm)))
    if expect == "pair":
        assert outcome.provenance["order_consistent"] is False
    else:
        assert outcome.reason == expect


def test_pairwise_west_of_n_knockout():
    def answer(messages, options, seed):
        text = messages[-1].content
        if "Which response is better" in text:
            a = text.split("Response A:")[1].split("Response B:")[0]
            b = text.split("Response B:")[1].split("Which response")[0]
            return "[[A]]" if len(a.strip()) > len(b.strip()) else "[[B]]"
        return "y" * (seed % 7 + 1)
    llm = fake_llm(default=answer)
    ((_, pair),) = stream_outcomes(PROMPTS[:1], "west-of-n", WestOfNConfig(n=4, mode="pairwise"),
                                   Context(llm=llm, judge=PairwiseJudge(llm, JudgeConfig())))
    samples = pair.provenance["raw"]["samples"]
    assert pair.chosen == max(samples, key=len) and pair.rejected == min(samples, key=len)
    assert len(pair.provenance["tournament"]["best"]) == 3  # N − 1 comparisons


@pytest.mark.parametrize("name, defaults", [("random-pair", {}), ("best-vs-random", {"n": 4})])
def test_scorer_baselines(name, defaults):
    def answer(messages, options, seed):
        return "z" * (seed % 11 + 1)
    llm = fake_llm(default=answer)
    ((_, pair),) = stream_outcomes(PROMPTS[:1], name, ScoredSamplesConfig(**defaults), Context(llm=llm, scorer=LengthScorer()))
    assert len(pair.chosen) > len(pair.rejected) and pair.chosen_score > pair.rejected_score


def test_judge_agreement_summary_measures_position_bias_and_groups():
    from preflab.judges.agreement import agreement_summary, judge_pairs

    pairs = [PreferencePair(prompt=text_prompt(f"q{i}"), chosen=f"sample {10 + i}", rejected=f"sample {i}",
                            provenance={"agreement": "unanimous" if i % 2 else "majority"}) for i in range(6)]
    llm = fake_llm(default=_number_judge)  # a content-driven judge: always agrees with these labels
    summary = agreement_summary(judge_pairs(PairwiseJudge(llm), pairs, in_flight=4))
    assert summary["all"]["order_consistency"] == 1.0 and summary["all"]["agreement_with_label_all"] == 1.0
    assert summary["all"]["share_of_A_votes"] == 0.5
    assert summary["group:unanimous"]["pairs"] == 3

    def always_a(messages, options, seed):
        return "[[A]]"
    summary = agreement_summary(judge_pairs(PairwiseJudge(fake_llm(default=always_a)), pairs))
    assert summary["all"]["order_consistency"] == 0.0 and summary["all"]["share_of_A_votes"] == 1.0
    assert summary["all"]["agreement_with_label_when_decided"] is None


def test_random_label_is_a_seeded_coin():
    def answer(messages, options, seed):
        return f"text {seed}"
    prompts = [PromptRecord(prompt=text_prompt(f"q{i}")) for i in range(40)]
    out = [o for _, o in stream_outcomes(prompts, "random-label", __import__("preflab.methods.baselines", fromlist=["x"]).RandomLabelConfig(),
                                         Context(llm=fake_llm(default=answer), seed=1))]
    firsts = sum(o.chosen == o.provenance["raw"]["samples"][0] for o in out)
    assert 8 < firsts < 32


@pytest.mark.parametrize("name, config", [("rmboost", RMBoostConfig), ("rlcd", RLCDConfig)])
def test_repeat_penalty_reaches_every_sample_and_the_provenance(name, config):
    for cfg in (config(), config(repeat_penalty=1.0), config(repeat_penalty=1.25)):
        answer = rewriter(lambda text, seed: "<response>another reply</response>") if name == "rmboost" \
            else (lambda messages, options, seed: messages[0].content)  # RLCD: its instruction, so the two differ
        llm = fake_llm(default=answer)
        ((_, pair),) = stream_outcomes(PROMPTS[:1], name, cfg, Context(llm=llm))
        assert {c.options.repeat_penalty for c in llm.backend.generate_calls} == {cfg.repeat_penalty}
        options = pair.provenance["generator"]["options"]
        recorded = [options["first"], options["rewrite"]] if name == "rmboost" else [options]
        assert [o["repeat_penalty"] for o in recorded] == [cfg.repeat_penalty] * len(recorded)
