"""Makes ``safety_helpers`` importable for the issue-12 tests (pytest runs with importlib mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
