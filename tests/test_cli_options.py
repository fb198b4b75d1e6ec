"""Every flag comes from one field of a command's option dataclasses (:mod:`preflab.cli.adapter`):
the adapter covers every field, and every public function's options reach a command."""

import dataclasses

from typer.main import get_command
from typer.testing import CliRunner

import preflab
from preflab.api.options import format_help
from preflab.cli.adapter import declarations
from preflab.cli.main import app


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


COMMANDS = dict(_commands(get_command(app)))
ADAPTED = {name: c for name, c in COMMANDS.items() if hasattr(c.callback, "options")}


def _options(command):
    return {flag: param for param in command.params for flag in getattr(param, "opts", [])}


def test_the_adapter_makes_a_flag_for_every_field_with_its_help():
    assert {"generate rlcd", "west-of-n-rounds"} <= set(ADAPTED)
    for name, command in ADAPTED.items():
        options = _options(command)
        for cls in command.callback.options:
            for field in dataclasses.fields(cls):
                if field.name in command.callback.skip:
                    continue
                flag = declarations(field)[0].split("/")[0]
                assert flag in options, (name, field.name)
                assert options[flag].help.startswith(field.metadata.get("help", "")), (name, flag)


def test_every_public_function_with_options_has_a_command_taking_them():
    covered = [set(c.callback.options) for c in ADAPTED.values()]
    for name in preflab._LAZY:
        classes = getattr(getattr(preflab, name), "options", None)
        if classes:
            assert any(set(classes) <= cmd for cmd in covered), name


def test_one_format_help_built_from_the_reader_registry():
    from preflab import io

    for fmt in (*io.PAIR_FORMATS, *io.PAIR_ALIASES):
        assert fmt in format_help()
    readers = {name: _options(c)["--format"] for name, c in COMMANDS.items() if "--format" in _options(c)}
    assert {name: o.help.split(" (default")[0] for name, o in readers.items()} == {name: format_help() for name in readers}


def test_choices_show_in_the_rendered_help():
    """Was: "[one of: ...]" was read as rich markup and vanished from every --help."""
    shown = CliRunner().invoke(app, ["generate", "west-of-n", "--help"], env={"COLUMNS": "250"}).output
    assert "(one of: pointwise, pairwise)" in shown
