#!/usr/bin/env bash
# Set up the virtual environment with every extra and run the whole test suite.
# This is the README's test command; .ci/run calls it. Works from a clean clone, offline
# except for the package registries. The CPU build of torch is pinned here only (the package
# itself asks for a range), so pip does not pull a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PREFLAB_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
bash scripts/install.sh "train,local,openai,ray,dev"
# The report's browser test renders the page in real headless Chromium (Debian's package).
if ! command -v chromium >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
    || echo "warning: could not install chromium; the browser test will be skipped" >&2
fi
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1
exec "$VENV/bin/python" -m pytest -q --durations=15 "$@"
