"""`gcwm jobs list|show|cancel|resume`."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import ConcurrencyOption, Output, OutputOption, _report, _run, _store_only, jobs_app

if TYPE_CHECKING:
    from gcwm.settings import Settings


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

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm.bootstrap import open_evidence, open_store
        from gcwm.provisioning import Role, job_summary
        from gcwm.provisioning.job_actions import cancel_job

        store, evidence = open_store(settings), open_evidence(settings)
        try:
            # Whoever runs the CLI holds the database: an admin, of any org's job.
            row = job_summary(cancel_job(store, evidence, None, job_id, Role.admin))
            evidence.end_run(store)  # the cancel's entry is under a signed head before we exit
            return row
        finally:
            store.engine.dispose()

    row = _run(output, main)
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
            with render.progress(1 if job_id else len(gcwm.store.unfinished_jobs(gcwm.org_id))) as run:
                document = await gcwm.service.resume(job_id, concurrency=concurrency, on_event=run)
                run.settle(document)  # the bar ends on the run's outcomes, whatever events it missed
                return document

    _report(_run(output, main), output)
