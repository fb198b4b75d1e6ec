"""Shared inputs of the best-of-N tests: a policy whose samples differ in how many times they
say "good", reward models trained to like that (the gold one and ``keen``) or to dislike it
(``contrary``), and a judge that counts "good" too."""

from __future__ import annotations

import re

import pytest

from preflab.records import PreferencePair, text_prompt

PROMPTS = [f"Question {i}: tell me about topic {i}." for i in range(6)]


def policy_answer(messages, options, seed):
    """A sample whose quality (its number of "good") depends on its seed."""
    return " ".join(["good"] * (seed % 5) + [f"answer {seed % 97} about", messages[-1].content[:24]])


def judge_answer(messages, options, seed):
    """[[A]] when response A says "good" more often than B, [[B]] when less, else [[tie]]."""
    text = messages[-1].content
    a = re.search(r"Response A: (.*)\nResponse B:", text, re.S).group(1)
    b = re.search(r"Response B: (.*)\nWhich", text, re.S).group(1)
    diff = a.split().count("good") - b.split().count("good")
    return "[[A]]" if diff > 0 else "[[B]]" if diff < 0 else "[[tie]]"


def toy_pairs(flip: bool = False, n: int = 16) -> list[PreferencePair]:
    pairs = []
    for i in range(n):
        good, bad = " ".join(["good"] * (1 + i % 4)) + f" answer {i} about topic", f"answer {i} about topic"
        chosen, rejected = (bad, good) if flip else (good, bad)
        pairs.append(PreferencePair(prompt=text_prompt(f"Question {i}: tell me about topic {i}."), chosen=chosen,
                                    rejected=rejected))
    return pairs


@pytest.fixture(scope="session")
def rms(tmp_path_factory):
    """Folders of three embedding-head RMs: gold, keen (likes "good"), contrary (dislikes it)."""
    import preflab

    root = tmp_path_factory.mktemp("bon-rms")
    cache = str(root / "embeddings")
    made = {}
    for name, flip, seed in (("gold", False, 1), ("keen", False, 0), ("contrary", True, 0)):
        preflab.train_rm(toy_pairs(flip), cheap=True, epochs=60, seed=seed, cache_dir=cache, output_dir=root / name,
                         progress=False)
        made[name] = str(root / name)
    return made
