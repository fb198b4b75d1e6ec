"""Turning the settled results of a batch of prompts into one error: the first failure, or a
budget stop that says how far the batch got.

Why after all calls settle: every call that finishes is cached even when others fail, so a
rerun pays only for what did not finish; the error then tells the user how much that is.

>>> from preflab.llm.usage import BudgetExceeded
>>> raise_first_failure([[1], ValueError("bad"), [2]], already_done=0)
Traceback (most recent call last):
ValueError: bad
>>> raise_first_failure([[1], BudgetExceeded("token budget reached")], already_done=3)
Traceback (most recent call last):
preflab.llm.usage.BudgetExceeded: token budget reached [4 of 5 prompts of this batch finished]
>>> raise_first_failure([[1], [2]], already_done=0)
"""

from __future__ import annotations

from typing import Any, Sequence

from preflab.errors import Problem
from preflab.llm.usage import BudgetExceeded


def raise_first_failure(results: Sequence[Any], already_done: int) -> None:
    """Raise the first exception among ``results`` (a budget stop first, with the count of
    finished prompts, ``already_done`` of them answered from the cache before); else return."""
    errors = [r for r in results if isinstance(r, BaseException)]
    if not errors:
        return
    done, total = already_done + len(results) - len(errors), already_done + len(results)
    budget = next((e for e in errors if isinstance(e, BudgetExceeded)), None)
    if budget is not None:
        last = budget.problems[-1]
        raise BudgetExceeded([*budget.problems[:-1], Problem(f"{last.text} [{done} of {total} prompts of this batch finished]",
                                                             last.names)]) from budget
    raise errors[0]
