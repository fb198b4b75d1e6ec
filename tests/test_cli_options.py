"""The options every command shares are declared once: one flag, one help, everywhere."""

import dataclasses
import json

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from preflab import io
from preflab.augmentation import AugmentConfig
from preflab.cli.main import app
from preflab.cli.options import _RUN_FLAGS, FORMAT_HELP
from preflab.config import help_of
from preflab.errors import ConfigError

RUN_HELP = {decls[0].split("/")[0]: text for decls, text in _RUN_FLAGS.values()}


def _commands(command, path=()):
    if hasattr(command, "commands"):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield " ".join(path), command


def _options(command):
    return {flag: param for param in command.params for flag in getattr(param, "opts", [])}


COMMANDS = dict(_commands(get_command(app)))


def test_every_llm_command_uses_the_one_declaration_of_each_run_option():
    llm_commands = {name: _options(c) for name, c in COMMANDS.items() if "--llm" in _options(c)}
    assert {"judge", "meta-set", "llm check", "west-of-n-rounds", "quickstart", "generate rlcd",
            "generate west-of-n"} <= set(llm_commands)
    for name, options in llm_commands.items():
        for flag, help_text in RUN_HELP.items():
            if flag in options and (name, flag) != ("west-of-n-rounds", "--seed"):  # a field of its config
                assert options[flag].help == help_text, (name, flag)
    for name, options in llm_commands.items():
        if name.startswith("generate "):
            assert set(RUN_HELP) <= set(options), name
            assert options["--prices"].hidden  # the old name, still accepted


def test_price_table_has_one_name_and_the_old_one_still_works(tmp_path):
    prompts, prices = tmp_path / "p.txt", tmp_path / "prices.yaml"
    prompts.write_text("Why?\n")
    prices.write_text("'*': {input: 1.0, output: 2.0}\n")
    base = ["generate", "random-label", "--prompts", str(prompts), "--llm", "fake", "--no-cache", "--max-cost", "5"]
    runner = CliRunner()
    for flag in ("--price-table", "--prices"):
        out = tmp_path / f"{flag[2:]}.jsonl"
        result = runner.invoke(app, [*base, "--out", str(out), flag, str(prices)])
        assert result.exit_code == 0, result.output
        assert json.loads((tmp_path / f"{out.name}.run.json").read_text())["usage"]["cost"] > 0
    both = runner.invoke(app, [*base, "--out", str(tmp_path / "x.jsonl"), "--price-table", str(prices), "--prices", str(prices)])
    assert isinstance(both.exception, ConfigError) and "--price-table" in str(both.exception)


def test_one_format_help_built_from_the_reader_registry():
    for fmt in (*io.PAIR_FORMATS, *io.PAIR_ALIASES):
        assert fmt in FORMAT_HELP
    readers = {name: _options(c)["--format"] for name, c in COMMANDS.items() if "--format" in _options(c)}
    assert {"data inspect", "judge", "augment", "strength", "train-rm", "eval"} <= set(readers)
    assert {name: o.help for name, o in readers.items()} == {name: FORMAT_HELP for name in readers}


def test_augment_flags_are_generated_from_its_config():
    options = _options(COMMANDS["augment"])
    for field in dataclasses.fields(AugmentConfig):
        flag = "--" + field.name.replace("_", "-")
        assert options[flag].help.startswith(help_of(AugmentConfig, field.name)), flag


@pytest.mark.parametrize("command", ["judge", "meta-set", "west-of-n-rounds"])
def test_budget_flags_reach_commands_that_had_none(command):
    assert {"--max-tokens-budget", "--max-cost", "--price-table"} <= set(_options(COMMANDS[command]))


def test_choices_show_in_the_rendered_help():
    """Was: "[one of: ...]" was read as rich markup and vanished from every --help."""
    shown = CliRunner().invoke(app, ["augment", "--help"], env={"COLUMNS": "250"}).output
    assert "(one of: positive-only, drop, both)" in shown
