"""NaN and ±inf are refused for every float option of every command (one line, exit 2), unless
the field says it takes them: NaN passes every comparison with a bound, so ``augment
--scale-min nan`` passed the checks before work, and an infinite value slips past any range."""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import typing

import pytest

import preflab
from preflab.config import option, parse
from preflab.errors import ConfigError

FUNCTIONS = ("generate", "judge", "score", "evaluate", "strength", "clean", "augment", "meta_set", "split_pairs",
             "check_llm", "bench", "quickstart")


def _float_fields():
    seen = {}
    for name in FUNCTIONS:
        for cls in getattr(preflab, name).options:
            hints = typing.get_type_hints(cls)
            for f in dataclasses.fields(cls):
                if float in typing.get_args(hints[f.name]) or hints[f.name] is float:
                    seen.setdefault((cls, f.name), name)
    return sorted(seen, key=lambda k: (k[0].__name__, k[1]))


FLOATS = _float_fields()


def test_there_are_float_options_to_check():
    assert {name for _, name in FLOATS} >= {"scale_min", "scale_max", "max_cost", "temperature", "flip_below",
                                            "ray_cpus_per_actor"}


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("cls, name", FLOATS, ids=[f"{c.__name__}.{n}" for c, n in FLOATS])
def test_every_float_option_refuses_nan_and_infinity(cls, name, value):
    with pytest.raises(ConfigError) as info:
        parse({name: value}, cls)
    assert f"{name} must be a finite number, got {value}" in str(info.value)


def test_a_config_file_with_nan_is_refused_in_the_shell(tmp_path):
    (tmp_path / "aug.yaml").write_text("scale_min: .nan\n")
    (tmp_path / "s.jsonl").write_text('{"prompt": "q", "chosen": "a", "rejected": "b", "chosen_score": 5, '
                                      '"rejected_score": 2}\n')
    result = subprocess.run([sys.executable, "-m", "preflab", "augment", "s.jsonl", "o.jsonl", "--config", "aug.yaml"],
                            capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "error: --scale-min must be a finite number, got nan\n"
    result = subprocess.run([sys.executable, "-m", "preflab", "generate", "rlcd", "--llm", "fake", "--no-cache",
                             "--out", "g.jsonl", "--temperature", "inf"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr == "error: --temperature must be a finite number, got inf\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["aug.yaml", "s.jsonl"]


def test_a_field_may_take_them_when_it_says_so():
    @dataclasses.dataclass(frozen=True)
    class Thresholds:
        below: float = option(-math.inf, "Flip below this (none by default).", nonfinite=True)
        step: float = option(1.0, "Step.")

    assert parse({"below": -math.inf}, Thresholds)[Thresholds].below == -math.inf
    with pytest.raises(ConfigError, match="step must be a finite number, got nan"):
        parse({"below": math.nan, "step": math.nan}, Thresholds)
