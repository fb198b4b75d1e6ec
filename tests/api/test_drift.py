"""Each public function and its CLI command take the same options: names, defaults and help
come from one dataclass per command (:mod:`preflab.api.options`). This fails when either side
gains, loses or changes an option without the other."""

import dataclasses
import inspect

import pytest
import typer

import preflab

#: public function → (CLI command path, the method/recipe config whose flags the CLI also
#: generates: the function takes them as **options, checked against the same config).
PAIRS = {
    "generate": ("generate rlcd", "preflab.methods.rlcd:RLCDConfig"),
    "judge": ("judge", None),
    "train_rm": ("train-rm", "preflab.rm.config:TrainConfig"),
    "score": ("score", None),
    "evaluate": ("eval", None),
    "strength": ("strength", "preflab.quality.strength:StrengthConfig"),
    "clean": ("clean", "preflab.quality.treatments:CleanConfig"),
    "augment": ("augment", "preflab.augmentation:AugmentConfig"),
    "bench": ("bench", None),
}
#: Arguments of the function that the CLI spells as its required inputs/outputs, or that only
#: make sense in Python (an opened LLM object, no progress bar, a required save).
PYTHON_ONLY = {"out", "progress", "run_dir", "output_dir", "llm", "save_required"}
#: The CLI's spelling of the inputs and outputs (the function's positional arguments, ``out``,
#: ``run_dir``, ``output_dir`` and ``llm``).
CLI_IO = {"prompts", "out", "output", "output_dir", "llm"}


def _command(path: str) -> typer.core.TyperCommand:
    from preflab.cli.main import app

    command = typer.main.get_command(app)
    for part in path.split():
        command = command.commands[part]  # type: ignore[attr-defined]
    return command


def _config_fields(ref: str | None) -> set[str]:
    if ref is None:
        return set()
    import importlib

    module, name = ref.split(":")
    return {f.name for f in dataclasses.fields(getattr(importlib.import_module(module), name))}


def _keyword_options(func) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(func).parameters.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and name not in PYTHON_ONLY}


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_function_and_command_share_names_defaults_and_help(name):
    check(name, getattr(preflab, name))


def check(name, func):
    path, config_ref = PAIRS[name]
    cli = {p.name: p for p in _command(path).params if p.param_type_name == "option" and not p.hidden}
    generated = _config_fields(config_ref)  # the CLI shows these with default None (config-file precedence)
    api = _keyword_options(func)
    cli_only = set(cli) - set(api) - generated - CLI_IO - {"help"}
    assert not cli_only, f"{path} has options {sorted(cli_only)} that preflab.{name} lacks"
    assert not set(api) - set(cli), f"preflab.{name} has options {sorted(set(api) - set(cli))} that {path} lacks"
    for option, param in api.items():
        help_text = param.annotation.__metadata__[0]
        assert help_text, f"preflab.{name}({option}=...) has no help"
        assert cli[option].help.startswith(help_text), (name, option, cli[option].help, help_text)
        assert f"    {option} (default {param.default!r}): {help_text}" in func.__doc__
        # given as None = "not set" so a --config file can set it; the help shows the default
        shown = "" if param.default in (None, []) else f" (default: {param.default})"
        assert cli[option].default is None and cli[option].help.endswith(shown), (name, option, cli[option].help, shown)
    if "llm" in cli:
        assert inspect.signature(func).parameters["llm"].default == cli["llm"].default


def test_a_drifted_option_is_caught():
    """The check can fail: a copy of preflab.score whose batch_size default moved, or that gained an option."""
    def copy_with(params):
        def twin(*args, **kwargs):
            pass
        twin.__signature__ = inspect.signature(preflab.score).replace(parameters=params)
        twin.__doc__ = preflab.score.__doc__
        return twin

    params = list(inspect.signature(preflab.score).parameters.values())
    moved = [p.replace(default=32) if p.name == "batch_size" else p for p in params]
    with pytest.raises(AssertionError, match="batch_size"):
        check("score", copy_with(moved))
    extra = params[:-1] + [inspect.Parameter("temperature", inspect.Parameter.KEYWORD_ONLY, default=1.0), params[-1]]
    with pytest.raises(AssertionError, match="temperature"):
        check("score", copy_with(extra))


def test_docstrings_show_every_option_and_a_worked_example():
    for name in PAIRS:
        func = getattr(preflab, name)
        module = inspect.getmodule(func)
        assert ">>> " in (module.__doc__ or ""), f"{module.__name__} has no worked example"
