"""How the CLI shows results to people: tables, the plan, the progress bar. Everything here writes
to a rich Console; results go to stdout, progress and notices to stderr. Imported lazily."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from statistics import median
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from gcwm.provisioning import Action, JobEvent, PlanReport

_SIGNS = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.NOOP: "=", Action.DELETE: "-"}


def stdout() -> Console:
    return Console(highlight=False)


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


@contextmanager
def progress(total: int) -> Iterator[Callable[[JobEvent], None]]:
    """A progress bar on stderr that advances as jobs end, counting failures apart."""
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr(),
        transient=False,
    )
    task = bar.add_task("working", total=total)
    # By outcome ("created", "unchanged", "destroyed"...), as the jobs end: a run of 30 channels of
    # which 28 were unchanged is not "30 provisioned", and a destroy is not "provisioned" at all.
    ended: dict[str, int] = {}

    def on_event(event: JobEvent) -> None:
        if event.kind in ("succeeded", "failed", "cancelled"):
            outcome = (event.message or event.kind) if event.kind == "succeeded" else event.kind
            ended[outcome] = ended.get(outcome, 0) + 1
            bar.advance(task)
        label = f"{event.channel}: {event.step or event.kind}"
        bar.update(task, description=label[:48])

    with bar:
        yield on_event
        summary = [f"{n} {outcome}" for outcome, n in sorted(ended.items())]
        bar.update(task, description=", ".join(summary) or "nothing to do")


def provision_result(document: dict[str, Any]) -> None:
    """The channels of a run: a table, step latencies, the snippet of a single channel, notes, errors."""
    out = stdout()
    table = Table(title=f"org {document['org']['id']} via {document['org']['target']}")
    for column in ("channel", "outcome", "deployment", "status", "config version", "total ms"):
        table.add_column(column)
    failed = []
    for c in document["channels"]:
        if "error" in c:
            failed.append(c)
            table.add_row(c["name"], f"[red]{c['outcome']}[/]", "", "", "", "")
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
    if "latency" in document:
        latency_summary(document["latency"])
    elif ok:
        out.print(_latency_table(ok))
    if len(ok) == 1 and ok[0]["snippet"]:  # a destroyed channel's document has none
        out.print("\nEmbed snippet for the website:", style="bold")
        out.print(ok[0]["snippet"], markup=False, soft_wrap=True)
    for c in ok:
        for note in c.get("notes", []):
            out.print(f"note: {c['name']}: {note}", markup=False, soft_wrap=True)
    for c in failed:
        out.print(f"{c['outcome']}:", style="red", end=" ")
        out.print(f"{c['name']}: {c['error'].get('message')}", markup=False, soft_wrap=True)
    _refusals([c for c in failed if c["outcome"] == "refused"])
    if sent := document.get("notifications"):
        out.print(
            f"ITSM notifications: {sent['delivered']} delivered, {sent['retried']} retried,"
            f" {sent['dead']} dead-lettered, {sent['pending']} pending"
        )


def notifications_left(document: dict[str, Any]) -> None:
    """On stderr: notifications still pending or dead after the run, and the command that sees to them."""
    sent = document.get("notifications") or {}
    if sent.get("pending"):
        stderr().print(
            f"gcwm: {sent['pending']} ITSM notification(s) still pending; `gcwm notify run` delivers them",
            markup=False,
        )
    if sent.get("dead"):
        stderr().print(
            f"gcwm: {sent['dead']} ITSM notification(s) dead-lettered; see `gcwm notify list --status dead`",
            markup=False,
        )


def _refusals(channels: list[dict[str, Any]]) -> None:
    """Every finding of a refused batch on stderr, one per line: file, channel, field, severity, what."""
    if not channels:
        return
    err = stderr()
    err.print("error: refused before any write; nothing was written", style="bold red")
    seen = set()
    for c in channels:
        for f in c["findings"]:
            where = ": ".join(
                p
                for p in (
                    f.get("source", ""),
                    f"channel {f['channel']!r}" if f.get("channel") else "",
                    f["location"],
                )
                if p
            )
            line = f"  {where}: [{f['severity']}] {f['description']}"
            if line not in seen:
                seen.add(line)
                err.print(line, markup=False, soft_wrap=True)


def _latency_table(channels: list[dict[str, Any]]) -> Table:
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


def latency_summary(document: dict[str, Any]) -> None:
    """A latency document (gcwm.observability.latency): one table per step, job kind and Genesys
    operation, with count, p50, p95, p99 and max."""
    out = stdout()
    titles = {"steps": "step", "jobs": "job", "operations": "Genesys operation"}
    for key, title in titles.items():
        rows = document.get(key)
        if not rows:
            continue
        table = Table(title=f"{title} latency ({document['unit']}, {document['percentiles']})")
        table.add_column(title, overflow="fold")
        for column in ("count", "p50", "p95", "p99", "max"):
            table.add_column(column, justify="right")
        if key == "operations":
            table.add_column("statuses")
        for name, d in rows.items():
            cells = [name, str(d["count"]), *(f"{d[c]:.0f}" for c in ("p50", "p95", "p99", "max"))]
            if key == "operations":
                cells.append(" ".join(f"{s}:{n}" for s, n in d["statuses"].items()))
            table.add_row(*cells)
        out.print(table)


def plan(report: PlanReport, target: str) -> None:
    """Per channel: its action, each field old -> new, the reason of a replace, notes and problems;
    then the policy's findings and every limit with its use after the plan."""
    plan = report.plan
    out = stdout()
    out.print(f"org {plan.org_id} via {target}", style="bold")
    for change in plan.changes:
        sign = _SIGNS[change.action]
        out.print(f"{sign} {change.action.value:<8} {change.channel}", markup=False)
        for fc in change.fields:
            out.print(f"      {fc.path}: {_show(fc.old)} -> {_show(fc.new)}", markup=False, soft_wrap=True)
        if change.reason:
            out.print(f"      because {change.reason}", markup=False, soft_wrap=True)
        for note in change.notes:
            out.print(f"      note: {note}", markup=False, soft_wrap=True)
        if change.problem is not None:
            out.print(f"      error: {change.problem.message}", style="red", markup=False, soft_wrap=True)
    if report.findings:
        out.print("\nFindings:", style="bold")
        for f in report.findings:
            where = f"{f.channel}: {f.location}" if f.channel else f.location
            out.print(f"  [{f.severity}] {where}: {f.description}", markup=False, soft_wrap=True)
    if report.limits:
        out.print("\nLimits (value, in use, after the plan):", style="bold")
        for u in report.limits:
            flag = "  OVER" if u.exceeded else ""
            scope = f" ({u.channel})" if u.channel else ""
            out.print(f"  {u.key}{scope}: {u.value}, {u.in_use}, {u.after}{flag}", markup=False)
    counts = {a: sum(1 for c in plan.changes if c.action is a) for a in Action}
    out.print(
        f"\nPlan: {counts[Action.CREATE]} to create, {counts[Action.UPDATE]} to update, "
        f"{counts[Action.REPLACE]} to replace, {counts[Action.NOOP]} unchanged.",
        markup=False,
    )


def _show(value: object) -> str:
    import json

    return json.dumps(value)


def jobs_table(rows: list[dict[str, Any]]) -> None:
    table = Table()
    for column in ("id", "channel", "status", "attempts", "created", "error"):
        table.add_column(column)
    for r in rows:
        status = r["status"] + (
            " (cancel requested)" if r.get("cancelRequested") and r["status"] == "running" else ""
        )
        table.add_row(
            r["id"][:12], r["channel"], status, str(r["attempts"]), r["createdAt"][:19], r["error"] or ""
        )
    stdout().print(table)


def job(row: dict[str, Any]) -> None:
    out = stdout()
    out.print(
        f"job {row['id']}  channel {row['channel']}  status {row['status']}  attempts {row['attempts']}",
        markup=False,
    )
    for s in row["steps"]:
        out.print(f"  {s['step']:<28} {s['durationMs']:>8.0f} ms", markup=False)
    if row["error"]:
        out.print(f"error: {row['error']}", markup=False, soft_wrap=True)


def keys_table(rows: list[dict[str, Any]]) -> None:
    table = Table()
    for column in ("id", "name", "role", "created", "by", "revoked"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["id"], r["name"], r["role"], r["createdAt"][:19], r["createdBy"], (r["revokedAt"] or "")[:19]
        )
    stdout().print(table)
