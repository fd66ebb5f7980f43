"""`gcwm report latency`, and the latency summary `gcwm provision` ends with.

Both give one document (gcwm.observability.latency.summary_document): p50/p95/p99 and max per step,
per job kind and per Genesys operation. A run counts every call it made; the report, the calls its
jobs made (stored when each job ended), not those made outside any job (the login check, a batch's
read of the org).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import Output, OutputOption, _store_only, app

if TYPE_CHECKING:
    from gcwm.observability.calls import CallSamples
    from gcwm.store import Store

report_app = typer.Typer(help="Reports from what gcwm stored about past runs.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("latency")
def report_latency(
    since: str | None = typer.Option(
        None,
        "--since",
        help="only what finished at or after: an RFC 3339 time, a date, or a span back (30m, 24h, 7d)",
    ),
    output: Output = OutputOption,
) -> None:
    """p50/p95/p99 and max of every provisioning step, whole jobs and Genesys operations, from the
    stored timings."""

    def work(store: Store) -> dict[str, Any]:
        from gcwm.cli.audit import _since  # the one reading of --since every command shares

        start = _since(since) if since is not None else None
        return stored_latency(store, since=start)

    document = _store_only(output, work)
    if output is Output.json:
        print(json.dumps(document, indent=2))
        return
    from gcwm import render

    if not document["steps"] and not document["jobs"] and not document["operations"]:
        render.stderr().print("no step timings stored" + (f" since {document['since']}" if since else ""))
        return
    render.latency_summary(document)


def stored_latency(store: Store, *, since: datetime | None = None) -> dict[str, Any]:
    """The latency document of the step, job and Genesys call timings stored since `since` (all
    when None)."""
    from gcwm.observability.latency import Distribution, summary_document
    from gcwm.store.ops_reads import call_timings, timings

    stored = timings(store, since=since)
    durations: dict[str, list[float]] = {}
    statuses: dict[str, dict[str, int]] = {}
    for operation, status, ms in call_timings(store, since=since):
        durations.setdefault(operation, []).append(ms)
        counts = statuses.setdefault(operation, {})
        counts[status] = counts.get(status, 0) + 1
    operations = {op: (Distribution.of(samples), statuses[op]) for op, samples in durations.items()}
    document = summary_document(steps=stored.steps, jobs=stored.jobs, operations=operations)
    document["since"] = since.isoformat() if since is not None else None
    return document


def run_latency(
    store: Store, document: dict[str, Any], calls: CallSamples, since: datetime
) -> dict[str, Any]:
    """The latency document of one run: its jobs' steps finished since it began, its jobs, and every
    Genesys call it made (`calls`, recorded while it ran)."""
    from gcwm.observability.latency import summary_document
    from gcwm.store.ops_reads import timings

    job_ids = [c["jobId"] for c in document["channels"] if c.get("jobId")]
    stored = timings(store, since=since, job_ids=job_ids)
    return summary_document(steps=stored.steps, jobs=stored.jobs, operations=calls.distributions())
