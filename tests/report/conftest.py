"""The ``chromium`` fixture: one real headless Chromium per test module (``cdp_driver``), and
``tab``: a fresh tab per test."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from cdp_driver import Chromium, Tab  # noqa: E402


@pytest.fixture(scope="module")
def chromium(tmp_path_factory):
    if shutil.which("chromium") is None:
        pytest.skip("Debian chromium is not installed (scripts/test.sh installs it)")
    browser = Chromium(tmp_path_factory.mktemp("chromium-profile"))
    browser.send("Browser.getVersion", timeout=60)  # an installed Chromium that does not start is a failure
    yield browser
    browser.close()


@pytest.fixture
def tab(chromium):
    page = Tab(chromium)
    yield page
    page.close()
