"""``import preflab`` stays cheap: the public functions load their modules on first use.

Measured against a bare interpreter in the same test, alternating, medians (no absolute
threshold that flakes on a loaded machine)."""

import statistics
import subprocess
import sys
import time

HEAVY = ("torch", "transformers", "datasets", "pandas", "llama_cpp", "ray", "trl", "numpy", "pyarrow", "typer", "rich",
         "pydantic")


def _wall(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def test_import_preflab_costs_little_over_a_bare_interpreter():
    bare, full = [], []
    for _ in range(5):
        bare.append(_wall("pass"))
        full.append(_wall("import preflab"))
    extra = statistics.median(full) - statistics.median(bare)
    assert extra < 0.3, f"import preflab adds {extra:.2f} s over a bare python ({statistics.median(bare):.2f} s)"


def test_import_preflab_loads_no_heavy_library_until_a_function_is_used():
    code = ("import sys, preflab; preflab.__all__; dir(preflab); "
            f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
    code = "import sys, preflab; preflab.generate; print('typer' in sys.modules, 'torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]  # resolving a function imports its module: not the shell, not torch
