"""The `gcwm` command line: parses arguments, calls the provisioning service, renders the result.

Heavy modules are imported inside commands so `--help` starts fast. stdout carries results only (a
table, or one JSON document with `--output json`); notices, progress and logs go to stderr. Errors are
turned into a message and an exit code here, once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from gcwm import __version__

if TYPE_CHECKING:
    from gcwm.errors import GcwmError
    from gcwm.provisioning import OrgRef, Plan
    from gcwm.settings import Settings
    from gcwm.store import Store

T = TypeVar("T")

app = typer.Typer(
    name="gcwm",
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
) -> T:
    """Read the settings and run a command's coroutine; turn GcwmError into a message and exit code."""
    from gcwm.errors import GcwmError
    from gcwm.observability.context import request_context
    from gcwm.observability.logging import configure_logging
    from gcwm.settings import load_settings

    try:
        settings = load_settings()
        configure_logging(level=settings.log_level, json=output is Output.json)
        with request_context(actor=settings.actor):
            return asyncio.run(main(settings))
    except GcwmError as exc:
        raise _fail(exc, output, error_code(exc) if error_code else None) from None
    except KeyboardInterrupt:
        from gcwm import render

        render.stderr().print("interrupted: unfinished jobs stay queued; `gcwm jobs resume` continues them")
        raise typer.Exit(130) from None


@app.command()
def provision(
    spec_file: Path = typer.Argument(..., help="channel spec (YAML or JSON) with a `channels:` list"),
    output: Output = OutputOption,
    concurrency: int | None = ConcurrencyOption,
) -> None:
    """Provision every channel in SPEC_FILE: Messenger configuration, publish, web deployment."""

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm import render
        from gcwm.bootstrap import open_app
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)  # a bad spec fails before anything is read or written
        async with open_app(settings) as gcwm:
            with render.progress(len(specs)) as on_event:
                return await gcwm.service.provision(specs, concurrency=concurrency, on_event=on_event)

    _report(_run(output, main), output)


@app.command()
def plan(
    spec_file: Path = typer.Argument(..., help="channel spec (YAML or JSON)"), output: Output = OutputOption
) -> None:
    """Show what `provision` would change in the org, channel by channel; write nothing.

    Exit codes as `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error (a spec
    error keeps its own code)."""

    async def main(settings: Settings) -> tuple[Plan, OrgRef]:
        from gcwm.bootstrap import open_app
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)
        async with open_app(settings) as gcwm:
            return await gcwm.service.plan(specs), gcwm.org

    def code(exc: GcwmError) -> int:
        from gcwm.errors import SpecError

        return exc.exit_code if isinstance(exc, SpecError) else 1

    result, org = _run(output, main, error_code=code)
    if output is Output.json:
        document = {
            "org": {"id": org.id, "region": org.region, "target": org.target},
            "changes": [c.summary() for c in result.changes],
        }
        print(json.dumps(document, indent=2))
    else:
        from gcwm import render

        render.plan(result, org.target)
    if result.problems:
        raise typer.Exit(1)
    raise typer.Exit(2 if result.has_changes else 0)


def _report(document: dict[str, Any], output: Output) -> None:
    """Print a provisioning result; exit 3 if any channel failed."""
    from gcwm import render
    from gcwm.provisioning import has_failures

    if output is Output.json:
        print(json.dumps(document, indent=2))
    elif document["channels"]:
        render.provision_result(document)
    else:
        render.stderr().print("no jobs to run")
    if has_failures(document):
        raise typer.Exit(3)


@app.command()
def emulator(
    port: int = typer.Option(8080, help="port to listen on"),
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    client_id: str = typer.Option("gcwm-local", help="OAuth client id the emulator accepts"),
    client_secret: str = typer.Option("gcwm-local-secret", help="OAuth client secret it accepts"),
    rate_limit: int = typer.Option(300, help="requests per minute per token (Genesys default 300)"),
    token_ttl: int = typer.Option(86400, help="access token lifetime in seconds"),
    activation_delay: float = typer.Option(1.0, help="seconds a deployment stays Pending"),
    fault_5xx_rate: float = typer.Option(0.0, help="share of API calls answered 502/503/504"),
    fault_429_rate: float = typer.Option(0.0, help="share of API calls that start a 429 burst"),
    commit_then_fail_rate: float = typer.Option(0.0, help="share of writes done but answered 5xx/reset"),
    latency_ms: float = typer.Option(0.0, help="latency added to every answer"),
    seed: int | None = typer.Option(None, help="seed for the fault draws (repeatable runs)"),
    state_file: Path | None = typer.Option(None, help="keep the org's state in this JSON file"),
    limit: list[str] = typer.Option(
        [], help="an org limit, repeatable: web.deployments.deployments.max=3 (or configuration.max)"
    ),
) -> None:
    """Serve the emulated Genesys Cloud API (OAuth at POST /oauth/token on the same origin)."""
    from gcwm import render
    from gcwm.emulator import EmulatorConfig, serve

    config = EmulatorConfig(
        client_id=client_id,
        client_secret=client_secret,
        rate_limit_per_min=rate_limit,
        token_ttl_s=token_ttl,
        deployment_activation_delay_s=activation_delay,
        fault_5xx_rate=fault_5xx_rate,
        fault_429_rate=fault_429_rate,
        commit_then_fail_rate=commit_then_fail_rate,
        latency_ms=latency_ms,
        seed=seed,
        state_file=state_file,
    )
    try:
        config = config.with_limits(_parse_limits(limit))
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--limit") from exc
    render.stderr().print(f"gcwm emulator: http://{host}:{port} (client id {client_id})")
    serve(config, host=host, port=port)


def _parse_limits(values: list[str]) -> dict[str, int]:
    """`--limit web.deployments.deployments.max=3`, repeatable -> {name: value}."""
    out: dict[str, int] = {}
    for text in values:
        name, _, number = text.partition("=")
        if not number.strip().isdigit():
            msg = f"--limit {text!r}: give NAME=N, e.g. web.deployments.deployments.max=3"
            raise typer.BadParameter(msg)
        out[name.strip()] = int(number)
    return out


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


@jobs_app.command("list")
def jobs_list(
    output: Output = OutputOption,
    status: str | None = typer.Option(None, help="only jobs in this status"),
    limit: int = typer.Option(50, min=1, help="at most this many, newest first"),
) -> None:
    """List jobs, newest first."""
    from gcwm.provisioning import job_summary

    rows = _store_only(
        output, lambda store: [job_summary(j) for j in store.list_jobs(status=status, limit=limit)]
    )
    if output is Output.json:
        print(json.dumps({"jobs": rows}, indent=2))
        return
    from gcwm import render

    render.jobs_table(rows)


@jobs_app.command("show")
def jobs_show(
    job_id: str = typer.Argument(..., help="job id (or a unique prefix)"), output: Output = OutputOption
) -> None:
    """Show one job with its checkpointed steps."""
    from gcwm.provisioning import job_details

    row = _store_only(output, lambda store: job_details(store, job_id))
    if output is Output.json:
        print(json.dumps(row, indent=2, default=str))
        return
    from gcwm import render

    render.job(row)


@jobs_app.command("cancel")
def jobs_cancel(
    job_id: str = typer.Argument(..., help="job id (or a unique prefix)"), output: Output = OutputOption
) -> None:
    """Cancel a job: a queued one at once, a running one after its current step (its create may be
    in flight)."""
    from gcwm.provisioning import cancel_job, job_summary

    row = _store_only(output, lambda store: job_summary(cancel_job(store, job_id)))
    if output is Output.json:
        print(json.dumps(row, indent=2))
        return
    from gcwm import render

    said = "cancelled" if row["status"] == "cancelled" else "asked to stop after its current step:"
    render.stderr().print(f"{said} job {row['id']}", markup=False)


@jobs_app.command("resume")
def jobs_resume(
    job_id: str | None = typer.Argument(
        None, help="a failed or cancelled job to run again; default: all unfinished"
    ),
    output: Output = OutputOption,
    concurrency: int | None = ConcurrencyOption,
) -> None:
    """Finish unfinished jobs (after a crash), or run a failed/cancelled job again."""

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm import render
        from gcwm.bootstrap import open_app

        async with open_app(settings) as gcwm:
            with render.progress(1 if job_id else len(gcwm.store.unfinished_jobs(gcwm.org_id))) as on_event:
                return await gcwm.service.resume(job_id, concurrency=concurrency, on_event=on_event)

    _report(_run(output, main), output)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="gcwm")


if __name__ == "__main__":
    main()
