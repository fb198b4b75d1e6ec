"""Reading the files of a saved model folder, with one-line errors when a file is missing or
cut short (an interrupted copy or save) instead of a pickle/zip traceback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from preflab.errors import InputError


def incomplete(folder: str | Path, name: str, why: str) -> InputError:
    return InputError(f"the model folder is incomplete: {name} {why}; copy the folder again or retrain it "
                      "(preflab train-rm ... --output-dir FOLDER)", path=str(folder))


def load_state_dict(folder: str | Path, name: str) -> dict[str, Any]:
    """``torch.load`` of ``folder/name`` (weights only)."""
    import torch

    path = Path(folder) / name
    if not path.is_file():
        raise incomplete(folder, name, "is missing")
    try:
        state = torch.load(path, weights_only=True, map_location="cpu")
    except Exception as exc:  # noqa: BLE001 - truncated zips and pickles raise many kinds
        raise incomplete(folder, name, f"cannot be read ({type(exc).__name__}: {str(exc).splitlines()[0][:120]})") from None
    if not isinstance(state, dict):
        raise incomplete(folder, name, "does not hold a state dict")
    return state
