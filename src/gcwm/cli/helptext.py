"""How `--help` names things: `FILE`, not typer's `{spec_file}`; a flag without typer's `<bool>`.

Typer writes a required argument as `{name}` in the usage line and gives every flag (`--help`
included) the type `<bool>`. `GcwmGroup`, the class of gcwm's app, gives each command and group under
it usage and flags as people write them: `gcwm provision [OPTIONS] FILE`, `--verbose` alone.
"""

from __future__ import annotations

from typing import Any

from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

# Typer carries its own copy of click (`typer._click`): its types are not importable by a public name,
# so contexts, parameters and commands are `Any` here.


def _plain_flags(params: list[Any]) -> None:
    """Flags without a type, arguments named in capitals (`JOB_ID`, `NAME...`) unless named already."""
    for param in params:
        if isinstance(param, TyperOption) and param.is_flag and param.metavar is None:
            param.metavar = ""  # typer shows the metavar, when given, instead of "<bool>"
        elif isinstance(param, TyperArgument) and param.metavar is None:
            param.metavar = (param.name or "").upper() + ("..." if param.nargs != 1 else "")


def _usage(command: Any, ctx: Any) -> list[str]:
    pieces = [command.options_metavar] if command.options_metavar else []
    for param in command.get_params(ctx):
        if isinstance(param, TyperArgument):
            name = param.metavar or (param.name or "").upper()
            pieces.append(name if param.required else f"[{name}]")
    return pieces


def _help_option(option: TyperOption | None) -> TyperOption | None:
    if option is not None and option.metavar is None:
        option.metavar = ""
    return option


class GcwmCommand(TyperCommand):
    """A command whose help shows its arguments and flags as people write them."""

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return _usage(self, ctx)

    def get_help_option(self, ctx: Any) -> TyperOption | None:
        return _help_option(super().get_help_option(ctx))


class GcwmGroup(TyperGroup):
    """gcwm's app (and, through it, every command and group under it): help as people write it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _plain_flags(self.params)
        for command in self.commands.values():
            _adopt(command)

    def collect_usage_pieces(self, ctx: Any) -> list[str]:
        return [*_usage(self, ctx), self.subcommand_metavar or "COMMAND [ARGS]..."]

    def get_help_option(self, ctx: Any) -> TyperOption | None:
        return _help_option(super().get_help_option(ctx))


def _adopt(command: Any) -> None:
    """Give a command typer built the help behaviour of gcwm's classes (they add no state)."""
    _plain_flags(command.params)
    if type(command) is TyperCommand:
        command.__class__ = GcwmCommand
    elif type(command) is TyperGroup:
        command.__class__ = GcwmGroup
        for sub in command.commands.values():
            _adopt(sub)
