"""The ``fmt``, ``config`` and ``overwrite`` options of the commands not yet on
:mod:`preflab.api.options`."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

from preflab.api.options import opt
from preflab.cli.options import FORMAT_HELP
from preflab.api.preflight import OVERWRITE


def fmt_option() -> Any:
    return opt("auto", FORMAT_HELP, "--format", "-f")


def overwrite_option() -> Any:
    return opt(False, OVERWRITE.help)


def config_option() -> Any:
    return opt(None, "YAML file with the same keys as the flags.")


ConfigPath = Optional[Path]
