"""The `gcwm` command line. Heavy modules are imported inside commands so `--help` starts fast.

stdout carries results only (a table, or one JSON document with `--output json`); notices, progress
and logs go to stderr. Errors are turned into a message and an exit code here, once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

if TYPE_CHECKING:
    from gcwm.bootstrap import App
    from gcwm.errors import GcwmError
    from gcwm.provisioning.jobs import JobEvent
    from gcwm.settings import Settings
    from gcwm.store import Job

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


def _stderr() -> Any:
    from rich.console import Console

    return Console(stderr=True)


def _fail(exc: GcwmError, output: Output) -> typer.Exit:
    if output is Output.json:
        print(json.dumps(exc.to_dict(), indent=2))
    console = _stderr()
    console.print("error:", style="bold red", end=" ")
    console.print(exc.message, highlight=False, markup=False, soft_wrap=True)
    return typer.Exit(exc.exit_code)


def _run(output: Output, main: Callable[[Settings], Coroutine[Any, Any, T]]) -> T:
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
        raise _fail(exc, output) from None
    except KeyboardInterrupt:
        _stderr().print("interrupted: unfinished jobs stay queued; `gcwm jobs resume` continues them")
        raise typer.Exit(130) from None


@app.command()
def provision(
    spec_file: Path = typer.Argument(..., help="channel spec (YAML or JSON) with a `channels:` list"),
    output: Output = OutputOption,
    concurrency: int = typer.Option(0, help="jobs run at once (default: GCWM_CONCURRENCY, 8)"),
) -> None:
    """Provision every channel in SPEC_FILE: Messenger configuration, publish, web deployment."""

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm.bootstrap import open_app
        from gcwm.provisioning.jobs import enqueue_channels
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)  # a bad spec fails before anything is written
        async with open_app(settings) as gcwm:
            job_ids = enqueue_channels(gcwm.store, gcwm.org_id, specs)
            return await _work(gcwm, job_ids, concurrency)

    _report(_run(output, main), output)


async def _work(gcwm: App, job_ids: list[str], concurrency: int) -> dict[str, Any]:
    """Work the org's queue until these jobs are done, with a progress bar; the result document."""
    from gcwm.provisioning.jobs import Worker

    worker = Worker(
        gcwm.store,
        gcwm.provisioner,
        org_id=gcwm.org_id,
        concurrency=concurrency or gcwm.settings.concurrency,
        lease_s=gcwm.settings.lease_seconds,
    )
    with _progress(len(job_ids)) as on_event:
        jobs = await worker.run_until_done(job_ids, on_event)
    return _provision_document(gcwm.org_id, gcwm.target, jobs)


def _report(document: dict[str, Any], output: Output) -> None:
    """Print a provisioning result; exit 3 if any channel failed."""
    if output is Output.json:
        print(json.dumps(document, indent=2))
    elif document["channels"]:
        _print_provision(document)
    else:
        _stderr().print("no jobs to run")
    if any("error" in c for c in document["channels"]):
        raise typer.Exit(3)


def _progress(total: int) -> Any:
    """A progress bar on stderr that advances as jobs finish; yields the event callback."""
    from contextlib import contextmanager

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    @contextmanager
    def bar() -> Any:
        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=_stderr(),
            transient=False,
        )
        task = progress.add_task("provisioning", total=total)

        def on_event(event: JobEvent) -> None:
            if event.kind in ("succeeded", "failed"):
                progress.advance(task)
            label = f"{event.channel}: {event.step or event.kind}"
            progress.update(task, description=label[:48])

        with progress:
            yield on_event
            progress.update(task, description="provisioned")

    return bar()


def _provision_document(org_id: str, target: str, jobs: list[Job]) -> dict[str, Any]:
    channels: list[dict[str, Any]] = []
    for job in jobs:
        if job.status == "succeeded" and job.result:
            channels.append({**job.result, "jobId": job.id})
        else:
            error = job.error or {"error": "JobError", "message": f"job ended {job.status}"}
            channels.append({"name": job.channel_name, "jobId": job.id, "status": job.status, "error": error})
    return {"org": {"id": org_id, "target": target}, "channels": channels}


def _print_provision(document: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    table = Table(title=f"org {document['org']['id']} via {document['org']['target']}")
    for column in ("channel", "outcome", "deployment", "status", "config version", "total ms"):
        table.add_column(column)
    failed = []
    for c in document["channels"]:
        if "error" in c:
            failed.append(c)
            table.add_row(c["name"], "[red]failed[/]", "", "", "", "")
            continue
        table.add_row(
            c["name"],
            c["outcome"],
            c["deployment"]["id"],
            c["deployment"]["status"],
            c["configuration"]["version"],
            f"{c['latencyMs'].get('total', 0):.0f}",
        )
    out.print(table)
    ok = [c for c in document["channels"] if "error" not in c]
    if ok:
        out.print(_latency_table(ok))
    if len(ok) == 1:
        out.print("\nEmbed snippet for the website:", style="bold")
        out.print(ok[0]["snippet"], markup=False, soft_wrap=True)
    for c in ok:
        for note in c.get("notes", []):
            out.print(f"note: {c['name']}: {note}", markup=False, soft_wrap=True)
    for c in failed:
        out.print("failed:", style="red", end=" ")
        out.print(f"{c['name']}: {c['error'].get('message')}", markup=False, soft_wrap=True)


def _latency_table(channels: list[dict[str, Any]]) -> Any:
    from statistics import median

    from rich.table import Table

    steps: dict[str, list[float]] = {}
    for c in channels:
        for step, ms in c["latencyMs"].items():
            steps.setdefault(step, []).append(float(ms))
    table = Table(title="step latency (ms)")
    for column in ("step", "p50", "max"):
        table.add_column(column, justify="right" if column != "step" else "left")
    for step, values in steps.items():
        table.add_row(step, f"{median(values):.0f}", f"{max(values):.0f}")
    return table


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
) -> None:
    """Serve the emulated Genesys Cloud API (OAuth at POST /oauth/token on the same origin)."""
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
    _stderr().print(f"gcwm emulator: http://{host}:{port} (client id {client_id})")
    serve(config, host=host, port=port)


def _store_only(output: Output, work: Callable[[Any], T]) -> T:
    """Run `work(store)` against gcwm's database, without touching Genesys."""

    async def main(settings: Settings) -> T:
        from gcwm.bootstrap import open_store

        store = open_store(settings)
        try:
            return work(store)
        finally:
            store.engine.dispose()

    return _run(output, main)


def _job_row(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "channel": job.channel_name,
        "org": job.org_id,
        "status": job.status,
        "attempts": job.attempts,
        "actor": job.actor,
        "createdAt": job.created_at.isoformat(),
        "finishedAt": job.finished_at.isoformat() if job.finished_at else None,
        "error": (job.error or {}).get("message"),
    }


@jobs_app.command("list")
def jobs_list(
    output: Output = OutputOption,
    status: str | None = typer.Option(None, help="only jobs in this status"),
    limit: int = typer.Option(50, help="at most this many, newest first"),
) -> None:
    """List jobs, newest first."""
    rows = _store_only(
        output, lambda store: [_job_row(j) for j in store.list_jobs(status=status, limit=limit)]
    )
    if output is Output.json:
        print(json.dumps({"jobs": rows}, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table()
    for column in ("id", "channel", "status", "attempts", "created", "error"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["id"][:12], r["channel"], r["status"], str(r["attempts"]), r["createdAt"][:19], r["error"] or ""
        )
    Console(highlight=False).print(table)


@jobs_app.command("show")
def jobs_show(
    job_id: str = typer.Argument(..., help="job id (or a unique prefix)"), output: Output = OutputOption
) -> None:
    """Show one job with its checkpointed steps."""

    def work(store: Any) -> dict[str, Any]:
        job = store.get_job(job_id)
        row = _job_row(job)
        row["result"] = job.result
        row["steps"] = [
            {"step": s.step, "durationMs": s.duration_ms, "attempt": s.attempt, "data": s.data}
            for s in store.job_steps(job.id)
        ]
        return row

    row = _store_only(output, work)
    if output is Output.json:
        print(json.dumps(row, indent=2, default=str))
        return
    from rich.console import Console

    out = Console(highlight=False)
    out.print(
        f"job {row['id']}  channel {row['channel']}  status {row['status']}  attempts {row['attempts']}"
    )
    for s in row["steps"]:
        out.print(f"  {s['step']:<28} {s['durationMs']:>8.0f} ms", markup=False)
    if row["error"]:
        out.print(f"error: {row['error']}", markup=False, soft_wrap=True)


@jobs_app.command("cancel")
def jobs_cancel(
    job_id: str = typer.Argument(..., help="job id (or a unique prefix)"), output: Output = OutputOption
) -> None:
    """Cancel a queued or running job (a running worker stops at its next checkpoint)."""

    def work(store: Any) -> dict[str, Any]:
        with store.unit_of_work() as tx:
            job = tx.jobs.cancel(store.get_job(job_id).id)
        return _job_row(job)

    row = _store_only(output, work)
    print(json.dumps(row, indent=2)) if output is Output.json else _stderr().print(
        f"cancelled job {row['id']}"
    )


@jobs_app.command("resume")
def jobs_resume(
    job_id: str | None = typer.Argument(
        None, help="a failed or cancelled job to run again; default: all unfinished"
    ),
    output: Output = OutputOption,
    concurrency: int = typer.Option(0, help="jobs run at once (default: GCWM_CONCURRENCY, 8)"),
) -> None:
    """Finish unfinished jobs (after a crash), or run a failed/cancelled job again."""

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm.bootstrap import open_app

        async with open_app(settings) as gcwm:
            if job_id:
                with gcwm.store.unit_of_work() as tx:
                    job = tx.jobs.get(job_id)
                    if job.status in ("failed", "cancelled"):
                        tx.jobs.requeue(job.id)
                ids = [job.id]
            else:
                ids = [j.id for j in gcwm.store.unfinished_jobs(gcwm.org_id)]
            return await _work(gcwm, ids, concurrency)

    _report(_run(output, main), output)


def main() -> None:
    """Console-script entry point."""
    app(prog_name="gcwm")


if __name__ == "__main__":
    main()
