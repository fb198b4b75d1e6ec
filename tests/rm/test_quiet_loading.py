"""Loading a base model for training is quiet: the new head's load report goes to debug level."""

import logging

import pytest

from preflab.rm.backbone import _held_load_reports, _release_load_reports, load_backbone


@pytest.fixture
def transformers_warnings():
    """Every record that reaches the ``transformers`` logger's handlers (what a user sees)."""
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler, target = Keep(logging.WARNING), logging.getLogger("transformers")
    target.addHandler(handler)
    yield seen
    target.removeHandler(handler)


def test_new_head_report_is_debug_not_a_warning(tiny_encoder, transformers_warnings, caplog):
    with caplog.at_level(logging.DEBUG, logger="preflab.rm.backbone"):
        load_backbone(tiny_encoder, new_head=True)
    assert not [r for r in transformers_warnings if "classifier" in r.getMessage()]
    debug = [r for r in caplog.records if r.name == "preflab.rm.backbone" and r.levelno == logging.DEBUG]
    assert any("classifier" in r.getMessage() for r in debug)


def test_other_load_warnings_still_reach_the_user(transformers_warnings):
    with _held_load_reports() as held:
        logging.getLogger("transformers.modeling_utils").warning("LOAD REPORT: MISSING encoder.layer.0.weight")
    assert not transformers_warnings  # held while loading ...
    _release_load_reports(held, ["classifier.weight"])
    assert [r.getMessage() for r in transformers_warnings] == ["LOAD REPORT: MISSING encoder.layer.0.weight"]
