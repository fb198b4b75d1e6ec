"""Run the preflab CLI with an extra backend kind ``varied``: the fake LLM whose default answer
depends on the sample's seed and the prompt, so methods get distinct responses (usable pairs)
without a real model. Asked as the pairwise judge, it prefers the longer response whatever the
order (a consistent judge). ``delay`` (seconds per call) lets a test kill a run mid-way."""

import re
import sys

from preflab.llm.fake import FakeBackend
from preflab.llm.spec import register_backend

WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
JUDGED = re.compile(r"Response A: (.*)\nResponse B: (.*)\nWhich response is better", re.S)


def answer(messages, options, seed):
    seed = seed or 0
    text = messages[-1].content
    judged = JUDGED.search(text)
    if judged:
        a, b = (len(x) for x in judged.groups())
        return "[[A]]" if a > b else "[[B]]" if b > a else "[[tie]]"
    if "Rewrite the response so that" in text:
        return f"<response>rewritten {WORDS[seed % 10]} {WORDS[(seed // 10) % 10]}</response>"
    size = sum(len(m.content) for m in messages)
    return " ".join(WORDS[(seed + size + i) % 10] for i in range(3 + (seed + size) % 7)) + f" ({size})"


def create(target, params):
    return FakeBackend(default=answer, max_concurrency=2, delay_s=float(params.get("delay", 0)))


register_backend("varied", create)

if __name__ == "__main__":
    from preflab.cli.main import main

    sys.argv = ["preflab", *sys.argv[1:]]
    main()
