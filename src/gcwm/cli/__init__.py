"""The `gcwm` command line: parses arguments, calls the service layer, renders the result.

One module per command group (provision and plan, jobs, policy tools, the emulator); this one holds
the app, the shared options, and the one place that turns errors into a message and an exit code.

Heavy modules are imported inside commands so `--help` starts fast. stdout carries results only (a
table, or one JSON document with `--output json`); notices, progress and logs go to stderr. Errors are
turned into a message and an exit code here, once.
"""

from __future__ import annotations

import gc
import io
import json
import sys
from collections.abc import Callable, Coroutine
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import typer

from gcwm import __version__
from gcwm.cli.helptext import GcwmGroup

if TYPE_CHECKING:
    from gcwm.errors import GcwmError
    from gcwm.settings import Settings
    from gcwm.store import Store

T = TypeVar("T")

app = typer.Typer(
    name="gcwm",
    cls=GcwmGroup,  # --help as people write commands: `FILE`, flags without `<bool>`
    help="Provision Genesys Cloud web messaging channels declaratively, safely, with evidence.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
jobs_app = typer.Typer(help="Inspect, resume and cancel durable provisioning jobs.", no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")


class Output(StrEnum):
    text = "text"
    json = "json"


OutputOption = typer.Option(Output.text, "--output", "-o", help="text for people, json for machines")
# Validated like GCWM_CONCURRENCY: a worker with no slots would leave its jobs queued forever.
ConcurrencyOption = typer.Option(
    None, min=1, max=256, help="jobs run at once, 1-256 (default: GCWM_CONCURRENCY, 32)"
)


def _version(value: bool) -> None:
    if value:
        print(f"gcwm {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="print gcwm's version and exit"
    ),
) -> None:
    """Provision Genesys Cloud web messaging channels declaratively, safely, with evidence."""


def _fail(exc: GcwmError, output: Output, exit_code: int | None = None) -> typer.Exit:
    from gcwm import render

    if output is Output.json:
        print(json.dumps(exc.to_dict(), indent=2))
    console = render.stderr()
    console.print("error:", style="bold red", end=" ")
    console.print(exc.message, markup=False, soft_wrap=True)
    return typer.Exit(exc.exit_code if exit_code is None else exit_code)


def _run(
    output: Output,
    main: Callable[[Settings], Coroutine[Any, Any, T]],
    *,
    error_code: Callable[[GcwmError], int] | None = None,
    interrupted: str = (
        "interrupted: the unfinished jobs are queued again, what they did kept; "
        "`gcwm jobs resume` continues them"
    ),
) -> T:
    """Read the settings and run a command's coroutine; turn GcwmError into a message and exit code.

    Start-up (importing the rooms the command uses, wiring them: until its first wait) runs without
    garbage collection: what it makes lives as long as the process, and collecting meanwhile cost
    the main job ~0.1 s for nothing (issue 24)."""
    gc.disable()
    import asyncio  # here, not at the top: `gcwm --help` and `--version` need no event loop

    from gcwm.errors import GcwmError
    from gcwm.observability.context import request_context
    from gcwm.observability.logging import configure_logging
    from gcwm.settings import load_settings

    try:
        settings = load_settings()
        configure_logging(level=settings.log_level, json=output is Output.json)
        with request_context(actor=settings.actor):
            return asyncio.run(_collecting_once_started(main(settings)))
    except GcwmError as exc:
        raise _fail(exc, output, error_code(exc) if error_code else None) from None
    except KeyboardInterrupt:
        from gcwm import render

        render.stderr().print(interrupted, markup=False)
        raise typer.Exit(130) from None
    finally:
        if not gc.isenabled():  # the command never waited
            _collect_again()


async def _collecting_once_started(work: Coroutine[Any, Any, T]) -> T:
    """Await `work`; garbage collection resumes the first time it waits (start-up is over then)."""
    import asyncio

    asyncio.get_running_loop().call_soon(_collect_again)
    return await work


def _collect_again() -> None:
    # Start-up's objects stay for the process's life: frozen, no later collection walks them again.
    gc.freeze()
    gc.enable()


def _report(document: dict[str, Any], output: Output, *, timings: bool = False) -> None:
    """Print a provisioning result (its latency tables with `timings`); exit 3 if any channel failed."""
    from gcwm import render
    from gcwm.provisioning import has_failures

    if output is Output.json:
        print(json.dumps(document, indent=2))
    elif document["channels"]:
        render.provision_result(document, timings=timings)
    else:
        render.stderr().print("no jobs to run")
    render.notifications_left(document)
    if has_failures(document):
        raise typer.Exit(3)


def _store_only(output: Output, work: Callable[[Store], T]) -> T:
    """Run `work(store)` against gcwm's database, without touching Genesys."""

    async def main(settings: Settings) -> T:
        from gcwm.bootstrap import open_store

        store = open_store(settings)
        try:
            return work(store)
        finally:
            store.engine.dispose()

    return _run(output, main)


def main() -> None:
    """Console-script entry point."""
    sys.stdout, sys.stderr = _whole_writes(sys.stdout), _whole_writes(sys.stderr)
    try:
        app(prog_name="gcwm")
    finally:
        # The process ends here: spare its exit a last garbage collection of every object it made
        # (0.15-0.2 s after a provision). Files and connections are closed already; atexit handlers
        # and thread joins still run.
        gc.freeze()


def _whole_writes(stream: TextIO) -> TextIO:
    """The stream, buffered again if PYTHONUNBUFFERED (or -u) left it writing straight to its file.

    There a text write that a signal cuts short (Ctrl-Z then fg, a debugger attaching) while a pipe is
    full is not finished: `gcwm channels list -o json | jq` got the first 128 KiB of the document.
    A buffered writer writes the rest; line buffering keeps each line going out at once."""
    raw = getattr(stream, "buffer", None)
    if not isinstance(stream, io.TextIOWrapper) or not isinstance(raw, io.RawIOBase):
        return stream
    return io.TextIOWrapper(
        io.BufferedWriter(raw), encoding=stream.encoding, errors=stream.errors, line_buffering=True
    )


# The command modules register themselves on `app` (imported last: they import it from here).
from gcwm.cli import audit, channels, destroy, emulator, jobs, notify, policy, provision, report, serve  # noqa: E402

__all__ = [
    "app",
    "audit",
    "channels",
    "destroy",
    "emulator",
    "jobs",
    "main",
    "notify",
    "policy",
    "provision",
    "report",
    "serve",
]

if __name__ == "__main__":
    main()
