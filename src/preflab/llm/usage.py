"""Token usage, cost and budgets: per backend, per method and for the whole run.

Why here and not in each method: every call passes through :class:`preflab.llm.client.LLM`,
so one :class:`Usage` sees all of them, and a budget can stop a run *before* the next paid
call instead of after the bill. Cached calls are counted apart (they cost nothing), which is
also how a resumed run shows what it re-used.

Budgets are checked before each uncached call; calls already in flight finish and are kept
(cached), so a run may overshoot by at most the calls in flight. The error says how far the
run got and how to continue (rerun with a larger budget: the finished calls are free).

A cost budget can only stop a run whose cost it can count, so a price table holds finite,
non-negative prices (a NaN or negative price made every sum NaN or falling, and the budget
never ran out), and a cost budget refuses a model the table has no price for
(:meth:`Usage.require_price`), before any call.

>>> u = Usage(prices=PriceTable({"gpt-*": (0.15, 0.60)}), max_tokens=1000)
>>> u.record("openai", "gpt-4o-mini", "rlaif", prompt_tokens=600, completion_tokens=100)
>>> round(u.cost(), 6)
0.00015
>>> u.record("openai", "gpt-4o-mini", "rlaif", prompt_tokens=300, completion_tokens=100)
>>> u.check_budget()
Traceback (most recent call last):
preflab.llm.usage.BudgetExceeded: token budget reached: 1,100 of 1,000 tokens spent in 2 calls ...
"""

from __future__ import annotations

import fnmatch
import json
import math
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


from preflab.errors import ConfigError, PreflabError, Problem


class BudgetExceeded(PreflabError):
    """A token or cost budget was reached; finished work is kept (and cached)."""


@dataclass
class Counter:
    calls: int = 0
    cached_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, prompt_tokens: int, completion_tokens: int, cost: float, cached: bool) -> None:
        if cached:
            self.cached_calls += 1
            self.cached_tokens += prompt_tokens + completion_tokens
        else:
            self.calls += 1
            self.prompt_tokens += prompt_tokens
            self.completion_tokens += completion_tokens
            self.cost += cost


def _price(value: Any, pattern: str, which: str) -> float:
    """One price, refused unless it is a finite number >= 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"entry {pattern!r}: the {which} price must be a number (per 1M tokens), got {value!r}")
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"entry {pattern!r}: the {which} price must be a finite number >= 0, got {value!r}")
    return float(value)


class PriceTable:
    """Prices in currency units per 1M tokens, ``{model glob: (input, output)}``; the first
    matching glob wins. Load one from YAML/JSON (``gpt-4o-mini: {input: 0.15, output: 0.6}``).
    Every price is a finite number >= 0 (else :class:`ConfigError`); ``source`` names the table
    in messages.

    >>> PriceTable({"gpt-*": (float("nan"), 0.6)})  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    preflab.errors.ConfigError: price table: entry 'gpt-*': the input price must be a finite number >= 0, got nan
    """

    def __init__(self, prices: dict[str, tuple[float, float]], source: str = "the price table") -> None:
        self.source = str(source)
        try:
            self.prices = {str(k): (_price(v[0], k, "input"), _price(v[1], k, "output")) for k, v in prices.items()}
        except ValueError as exc:
            raise ConfigError(f"{self.source}: {exc}") from None
        if not self.prices:
            raise ConfigError(f"{self.source}: no prices in it; write 'model-glob: {{input: X, output: Y}}' per 1M tokens")

    @classmethod
    def load(cls, path: str | Path) -> "PriceTable":
        from preflab.config import read_yaml

        data = read_yaml(path, "price table")
        if not isinstance(data, dict):
            raise ConfigError(f"price table {path}: expected a mapping 'model-glob: {{input: X, output: Y}}'")
        prices = {}
        for model, entry in data.items():
            if not isinstance(entry, dict) or set(entry) != {"input", "output"}:
                raise ConfigError(f"price table {path}: entry {model!r} needs exactly 'input' and 'output' (per 1M tokens)")
            prices[str(model)] = (entry["input"], entry["output"])
        return cls(prices, f"price table {path}")

    def price(self, model: str) -> tuple[float, float] | None:
        for pattern, price in self.prices.items():
            if fnmatch.fnmatchcase(model, pattern):
                return price
        return None


class Usage:
    """Thread-safe usage accounting for one run, with optional budgets."""

    def __init__(self, *, prices: PriceTable | None = None, max_tokens: int | None = None, max_cost: float | None = None) -> None:
        if max_cost is not None and prices is None:
            raise ConfigError(Problem("{max_cost} needs a price table ({price_table} FILE) to turn tokens into cost",
                                      ("max_cost", "price_table")))
        if max_cost is not None and not (isinstance(max_cost, (int, float)) and math.isfinite(max_cost) and max_cost > 0):
            raise ConfigError(Problem(f"{{max_cost}} must be a finite number > 0, got {max_cost!r}", ("max_cost",)))
        if max_tokens is not None and max_tokens <= 0:
            raise ConfigError(Problem(f"{{max_tokens_budget}} must be positive, got {max_tokens}", ("max_tokens_budget",)))
        self.prices, self.max_tokens, self.max_cost = prices, max_tokens, max_cost
        self.total = Counter()
        self.by_backend: dict[str, Counter] = {}
        self.by_method: dict[str, Counter] = {}
        self._unpriced: set[str] = set()
        self._lock = threading.Lock()

    def price_problem(self, model: str) -> Problem | None:
        """Why a cost budget cannot count ``model``'s calls (no price for it), or None."""
        if self.max_cost is None or self.prices is None or self.prices.price(model) is not None:
            return None
        return Problem(f"no price for model {model!r} in {self.prices.source} (patterns: "
                       f"{', '.join(map(repr, self.prices.prices))}); {{max_cost}} cannot be kept without one: "
                       "add a pattern that matches it", ("max_cost",))

    def require_price(self, model: str) -> None:
        """Refuse (:class:`ConfigError`) to count calls of a model a cost budget cannot price:
        its calls would cost 0 and the budget would never stop the run."""
        problem = self.price_problem(model)
        if problem is not None:
            raise ConfigError(problem)

    def _cost(self, model: str, prompt_tokens: int, completion_tokens: int) -> float:
        price = self.prices.price(model) if self.prices else None
        if price is None:
            if self.prices is not None:
                self._unpriced.add(model)
            return 0.0
        return (prompt_tokens * price[0] + completion_tokens * price[1]) / 1e6

    def record(self, backend: str, model: str, method: str | None, *, prompt_tokens: int, completion_tokens: int, cached: bool = False) -> None:
        with self._lock:
            cost = 0.0 if cached else self._cost(model, prompt_tokens, completion_tokens)
            for counter in (
                self.total,
                self.by_backend.setdefault(f"{backend}:{model}", Counter()),
                self.by_method.setdefault(method or "-", Counter()),
            ):
                counter.add(prompt_tokens, completion_tokens, cost, cached)

    def cost(self) -> float | None:
        return self.total.cost if self.prices is not None else None

    def check_budget(self) -> None:
        """Raise :class:`BudgetExceeded` when a budget is used up (called before each paid call)."""
        with self._lock:
            t = self.total
            if self.max_tokens is not None and t.tokens >= self.max_tokens:
                raise BudgetExceeded(Problem(
                    f"token budget reached: {t.tokens:,} of {self.max_tokens:,} tokens spent in {t.calls} calls "
                    f"({t.cached_calls} more came from the cache); finished calls are kept - rerun with a larger "
                    "{max_tokens_budget} to continue (cached calls cost nothing)", ("max_tokens_budget",)))
            if self.max_cost is not None and t.cost >= self.max_cost:
                raise BudgetExceeded(Problem(
                    f"cost budget reached: {t.cost:.4f} of {self.max_cost:.4f} spent in {t.calls} calls "
                    f"({t.tokens:,} tokens); finished calls are kept - rerun with a larger " "{max_cost} to continue",
                    ("max_cost",)))

    def summary(self) -> dict[str, Any]:
        """JSON-ready usage for ``run.json``."""
        with self._lock:
            return {
                "total": {**asdict(self.total), "tokens": self.total.tokens},
                "by_backend": {k: asdict(v) for k, v in self.by_backend.items()},
                "by_method": {k: asdict(v) for k, v in self.by_method.items()},
                "cost": self.total.cost if self.prices is not None else None,
                "unpriced_models": sorted(self._unpriced),
                "budget": {"max_tokens": self.max_tokens, "max_cost": self.max_cost},
            }

    def __repr__(self) -> str:
        return f"Usage({json.dumps(self.summary()['total'])})"
