"""How the CLI shows results to people: tables, the plan, the progress bar. Everything here writes
to a rich Console; results go to stdout, progress and notices to stderr. Imported lazily."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from statistics import median
from typing import Any, Protocol, TypeVar

import structlog
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from gcwm.provisioning import Action, ChannelChange, JobEvent, PlanReport
from gcwm.provisioning.mapping import FieldChange
from gcwm.provisioning.plan import plan_verdict
from gcwm.provisioning.results import refusal_lines

_SIGNS = {Action.CREATE: "+", Action.UPDATE: "~", Action.REPLACE: "-/+", Action.NOOP: "=", Action.DELETE: "-"}


# A table piped to a file or another program is not cut at 80 columns (rich's default when there is no
# terminal): ids stay whole. COLUMNS, when set, still decides.
_PIPED_WIDTH = 512


def stdout() -> Console:
    console = Console(highlight=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        return Console(highlight=False, width=_PIPED_WIDTH)
    return console


def stderr() -> Console:
    return Console(stderr=True, highlight=False)


class RunProgress:
    """The progress bar's view of a run: called with each JobEvent; `settle(document)` ends it on the
    run's result, so jobs that ended without an event here (finished by another process, or ended
    while this one lost their lease) are counted too, instead of the bar stopping short of its total."""

    def __init__(self, bar: Progress, task: TaskID, total: int) -> None:
        self._bar, self.task, self._total = bar, task, total
        # By outcome ("created", "unchanged", "destroyed"...), as the jobs end: a run of 30 channels
        # of which 28 were unchanged is not "30 provisioned", and a destroy is not "provisioned".
        self.ended: dict[str, str] = {}  # job id -> outcome

    def __call__(self, event: JobEvent) -> None:
        if event.kind in ("succeeded", "failed", "cancelled"):
            outcome = (event.message or event.kind) if event.kind == "succeeded" else event.kind
            self.ended[event.job_id] = outcome  # a job reported twice is counted once
            self._bar.update(self.task, completed=min(len(self.ended), self._total))
        label = f"{event.channel}: {event.step or event.kind}"
        self._bar.update(self.task, description=label[:48])

    def settle(self, document: Mapping[str, Any]) -> None:
        """Count every channel of the run's result by its outcome (the result is what happened)."""
        for channel in document.get("channels", []):
            # A refused channel has no job: its name stands for it.
            self.ended[channel.get("jobId") or f"channel:{channel['name']}"] = channel["outcome"]
        self._bar.update(self.task, completed=min(len(self.ended), self._total))

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for outcome in self.ended.values():
            counts[outcome] = counts.get(outcome, 0) + 1
        return ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "nothing to do"


@contextmanager
def progress(total: int) -> Iterator[RunProgress]:
    """A progress bar on stderr that advances as jobs end, counting them by outcome. While it is
    shown, log lines are printed through its console, above it, instead of through it."""
    bar = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=stderr(),
        transient=False,
    )
    run = RunProgress(bar, bar.add_task("working", total=total), total)
    with bar, _logs_through(bar.console):
        yield run
        bar.update(run.task, description=run.summary())


class _ConsoleLines(io.StringIO):
    """A file whose whole lines are printed through a rich console (so above a live progress bar),
    unwrapped: a JSON log line stays one line."""

    def __init__(self, console: Console) -> None:
        super().__init__()
        self._console = console
        self._partial = ""

    def write(self, text: str) -> int:
        *lines, self._partial = (self._partial + text).split("\n")
        for line in lines:
            self._console.print(Text.from_ansi(line), soft_wrap=True)
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._console.print(Text.from_ansi(self._partial), soft_wrap=True)
            self._partial = ""


@contextmanager
def _logs_through(console: Console) -> Iterator[None]:
    """Route structlog's output through `console` until the block ends (structlog's logger factory
    is read at each call: gcwm configures it without caching)."""
    factory = structlog.get_config()["logger_factory"]
    structlog.configure(logger_factory=structlog.PrintLoggerFactory(file=_ConsoleLines(console)))
    try:
        yield
    finally:
        structlog.configure(logger_factory=factory)


def provision_result(document: dict[str, Any], *, timings: bool = False) -> None:
    """The channels of a run: a table, the snippet of a single channel, notes, errors; the latency
    tables only with `timings` (`gcwm provision --timings`). A refused run is its verdict and each
    finding once, on stderr (`refusal`)."""
    if any(c["outcome"] == "refused" for c in document["channels"]):
        refusal(document)
        return
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
    if timings and "latency" in document:
        latency_summary(document["latency"])
    elif timings and ok:
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
    if sent := document.get("notifications"):
        out.print(
            f"ITSM notifications: {sent['delivered']} delivered, {sent['retried']} retried,"
            f" {sent['dead']} dead-lettered, {sent['pending']} pending"
        )
    if sum(1 for c in ok if c["snippet"]) > 1:  # one channel: its snippet is printed above
        out.print("snippets: gcwm channels show NAME, or gcwm channels list --output json", markup=False)


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


def refusal(document: Mapping[str, Any]) -> None:
    """A refused run on stderr: the verdict first, then each blocking finding once, grouped by
    channel (file, channel, field, severity, what), then those about the whole file or org (a limit
    with its numbers) once; how many findings do not block, which `--output json` lists."""
    err = stderr()
    verdict, lines, others = refusal_lines(document)
    err.print("error:", style="bold red", end=" ")
    err.print(verdict, markup=False, soft_wrap=True)
    for line in lines:
        err.print(f"  {line}", markup=False, soft_wrap=True)
    if others:
        err.print(
            f"  ({others} finding{'' if others == 1 else 's'} that do not block: `--output json` lists them)",
            markup=False,
        )


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


def plan(report: PlanReport, target: str, *, verbose: bool = False) -> None:
    """The plan as Terraform shows one: the verdict first (what provision would refuse on, or the
    counts of changes) and each blocking problem once, by channel; then each change with every field
    it sets or changes by its spec path, list items one by one, and what only follows from another
    change marked so. Unchanged channels are counted, and listed only with `verbose`."""
    plan = report.plan
    out = stdout()
    verdict = plan_verdict(plan, report.blocking)
    out.print(f"Plan: {verdict}.", style="bold red" if report.blocking else "bold", markup=False)
    for finding in _by_channel(report.blocking):
        out.print(f"  {finding}", markup=False, soft_wrap=True)
    if report.blocking and plan.has_changes:
        out.print(f"Had it not refused: {plan_verdict(plan, [])}.", markup=False)
    out.print(f"org {plan.org_id} via {target}", markup=False)
    said = {f.description for f in report.blocking}
    for change in plan.changes:
        # A plan provision would refuse is its problems: the changes only with --verbose.
        if (change.action is Action.NOOP or report.blocking) and not verbose:
            continue
        _change(out, change, said)
    others = [f for f in report.findings if f not in report.blocking]
    if others:
        out.print("\nFindings that do not block:", style="bold")
        for f in _by_channel(others):
            out.print(f"  {f}", markup=False, soft_wrap=True)
    if verbose and report.limits:
        out.print("\nLimits (value, in use, after the plan):", style="bold")
        for u in report.limits:
            flag = "  OVER" if u.exceeded else ""
            scope = f" ({u.channel})" if u.channel else ""
            out.print(f"  {u.key}{scope}: {u.value}, {u.in_use}, {u.after}{flag}", markup=False)
    elif report.limits and not any(u.exceeded for u in report.limits):
        closest = min(report.limits, key=lambda u: u.value - u.after)
        scope = f" ({closest.channel})" if closest.channel else ""
        out.print(
            f"\nLimits: within all {len(report.limits)}; the closest, {closest.key}{scope}, at "
            f"{closest.after} of {closest.value} after the plan (`--verbose` lists them).",
            markup=False,
        )


class _Located(Protocol):
    @property
    def channel(self) -> str: ...


_F = TypeVar("_F", bound=_Located)


def _by_channel(findings: Sequence[_F]) -> list[_F]:
    """Findings grouped by channel, in the order each channel first appears; org-wide ones last."""
    order: dict[str, int] = {}
    for f in findings:
        order.setdefault(f.channel, len(order))
    return sorted(findings, key=lambda f: (f.channel == "", order[f.channel]))


def _change(out: Console, change: ChannelChange, said: set[str]) -> None:
    sign = _SIGNS[change.action]
    out.print(f"\n{sign} {change.action.value} {change.channel}", markup=False)
    # configuration.name and deployment.name are both the spec's `name`: one line when they agree;
    # a spec path that still stands for several fields names each one's API path too.
    fields: dict[tuple[str, str, str], FieldChange] = {}
    for fc in change.fields:
        fields.setdefault((fc.spec_path or fc.path, _show(fc.old), _show(fc.new)), fc)
    labels = [label for label, _, _ in fields]
    for (label, _, _), fc in fields.items():
        shown = f"{label} ({fc.path})" if labels.count(label) > 1 and label != fc.path else label
        for line in _field_lines(fc, shown, change.action):
            out.print(line, markup=False, soft_wrap=True)
    if change.reason:
        out.print(f"    because {change.reason}", markup=False, soft_wrap=True)
    for note in change.notes:
        out.print(f"    note: {note}", markup=False, soft_wrap=True)
    if change.problem is not None and change.problem.message not in said:
        error = f"    error: {change.problem.field}: {change.problem.message}"
        out.print(error, style="red", markup=False, soft_wrap=True)


def _field_lines(fc: FieldChange, label: str, action: Action) -> list[str]:
    follows = f"  (follows from {fc.consequence})" if fc.consequence else ""
    if action is Action.CREATE or fc.old is None:
        return [f"    + {label} = {_show(fc.new)}{follows}"]
    delta = fc.list_delta()
    if delta is not None and (delta[0] or delta[1]):
        added, removed = delta
        return [
            f"    ~ {label}:{follows}",
            *(f"        + {_item(i)}" for i in added),
            *(f"        - {_item(i)}" for i in removed),
        ]
    return [f"    ~ {label}: {_show(fc.old)} -> {_show(fc.new)}{follows}"]


def _item(value: object) -> str:
    return value if isinstance(value, str) else _show(value)


def _show(value: object) -> str:
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
