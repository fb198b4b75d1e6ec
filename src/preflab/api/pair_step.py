"""What the steps from pairs to pairs share (``clean``, ``strength``, ``augment``, ``score``):
their checks before work and the :class:`~preflab.api.data.Pairs` they return, written with
``OUT.run.json`` when the caller names an output, so a notebook and the shell keep the same
provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from preflab.api.data import Pairs
from preflab.api.preflight import Preflight
from preflab.records import PreferencePair


def pair_step_preflight(options: dict[str, Any], *classes: type, src: Any, out: Any,
                        plots: bool = False) -> tuple[Preflight, dict[type, Any]]:
    """The options of a step that writes pairs and OUT.run.json (defaults < the ``config`` YAML
    file < the keywords given), and its outputs checked against its inputs. ``classes[0]`` is
    the step's own options (with ``overwrite``); ``plots``: the step also fills OUT.plots/.
    Returns the :class:`Preflight` (add the step's own checks, then ``done()``) and one
    instance per class."""
    from preflab.io.outputs import pairs_output, workdir_output

    check = Preflight()
    config = options.get("config")
    config_file = config if isinstance(config, (str, Path)) else None  # a wrong type is reported by the parser
    parsed = check.parse(options, *classes, config_file=config_file)
    overwrite = parsed[classes[0]].overwrite if parsed else options.get("overwrite") is True
    outputs = [] if out is None else pairs_output(out, ".run.json") + (workdir_output(str(out) + ".plots") if plots else [])
    check.outputs(outputs, [src, config_file], overwrite=overwrite)  # reported with the options' problems
    if parsed is None:
        check.done()
    return check, parsed


def step_result(pairs: Iterable[PreferencePair], out: Any, record: dict[str, Any], *, fmt: str = "preflab",
                **info: Any) -> Pairs:
    """``pairs`` as :class:`Pairs` with the run record; written with it to ``out`` if given."""
    from preflab import io
    from preflab.provenance import sidecar, write_run_json

    pairs = Pairs(pairs, {"run": record, "path": None if out is None else str(out), **info})
    if out is not None:
        pairs.info["rows_written"] = io.write_pairs(pairs, out, fmt=fmt)
        write_run_json(sidecar(out), record)
    return pairs
