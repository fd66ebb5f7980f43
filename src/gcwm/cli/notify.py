"""`gcwm notify list|show|retry|run` (the notification outbox) and `gcwm itsm-sink` (a local receiver)."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import Output, OutputOption, _run, _store_only, app

if TYPE_CHECKING:
    from gcwm.notify import DrainResult
    from gcwm.settings import Settings
    from gcwm.store import Store
    from gcwm.store.outbox import OutboxMessage, OutboxRepository

notify_app = typer.Typer(
    help="Inspect, retry and deliver ITSM notifications (the outbox).", no_args_is_help=True
)
app.add_typer(notify_app, name="notify")

_STATUSES = ("pending", "delivered", "dead")


def message_summary(message: OutboxMessage) -> dict[str, Any]:
    """A notification as `notify list --output json` prints it: the API's document as an admin gets
    it (who reads the database is one), with at most 200 cleaned bytes of the target's last answer."""
    from gcwm.notify.documents import notification_document

    return notification_document(message, replies=True)


def message_details(message: OutboxMessage) -> dict[str, Any]:
    """A notification as `notify show --output json` prints it: the summary, the whole target (never a
    secret: it names the variable), the lease, and the payload as sent."""
    from gcwm.notify.documents import iso

    try:
        payload: Any = json.loads(message.payload)
    except ValueError:
        payload = message.payload
    return {
        **message_summary(message),
        "target": message.target,
        "lease": {"owner": message.lease_owner, "expiresAt": iso(message.lease_expires_at)},
        "updatedAt": iso(message.updated_at),
        "payload": payload,
    }


@notify_app.command("list")
def notify_list(
    output: Output = OutputOption,
    status: str | None = typer.Option(
        None, help="only notifications in this status: pending, delivered, dead"
    ),
    limit: int = typer.Option(50, min=1, help="at most this many, newest first"),
) -> None:
    """List notifications, newest first."""
    if status is not None and status not in _STATUSES:
        msg = f"{status!r} is not a status; use pending, delivered or dead"
        raise typer.BadParameter(msg, param_hint="--status")

    def work(store: Store) -> list[dict[str, Any]]:
        with _outbox(store) as outbox:
            return [message_summary(m) for m in outbox.list(status=status, limit=limit)]

    rows = _store_only(output, work)
    if output is Output.json:
        print(json.dumps({"notifications": rows}, indent=2))
        return
    _table(rows)


@notify_app.command("show")
def notify_show(
    message_id: str = typer.Argument(..., help="notification id (or a unique prefix of 8+ characters)"),
    output: Output = OutputOption,
) -> None:
    """Show one notification: target, attempts, last error, and the payload as sent."""

    def work(store: Store) -> dict[str, Any]:
        with _outbox(store) as outbox:
            return message_details(outbox.get(message_id))

    row = _store_only(output, work)
    if output is Output.json:
        print(json.dumps(row, indent=2))
        return
    from gcwm import render

    console = render.stdout()
    for key in ("id", "status", "event", "channel", "orgId", "attempts", "nextAttemptAt", "deliveredAt"):
        console.print(f"{key}: {row[key] if row[key] is not None else '-'}", markup=False, soft_wrap=True)
    console.print(f"target: {json.dumps(row['target'])}", markup=False, soft_wrap=True)
    for key in ("externalRef", "auditSeq", "lastError", "lastReply", "createdAt"):
        if row[key] is not None:
            console.print(f"{key}: {row[key]}", markup=False, soft_wrap=True)
    if row["lease"]["owner"]:
        console.print(
            f"lease: {row['lease']['owner']} until {row['lease']['expiresAt']}", markup=False, soft_wrap=True
        )
    console.print("payload:", markup=False, soft_wrap=True)
    console.print(json.dumps(row["payload"], indent=2, ensure_ascii=False), markup=False, soft_wrap=True)


@notify_app.command("retry")
def notify_retry(
    message_id: str | None = typer.Argument(None, help="a dead (or pending) notification to send now"),
    every: bool = typer.Option(False, "--all", help="every dead notification"),
    output: Output = OutputOption,
) -> None:
    """Make a dead notification due now, with a fresh retry schedule (`gcwm notify run` sends it)."""
    if (message_id is None) == (not every):
        msg = "give a notification id, or --all (not both)"
        raise typer.BadParameter(msg)

    def work(store: Store) -> dict[str, Any]:
        with _outbox(store, write=True) as outbox:
            if message_id is None:
                return {"retried": outbox.retry_dead()}
            return {"retried": 1, "notification": message_summary(outbox.retry(message_id))}

    result = _store_only(output, work)
    if output is Output.json:
        print(json.dumps(result, indent=2))
        return
    from gcwm import render

    what = (
        result["notification"]["id"] if "notification" in result else f"{result['retried']} notification(s)"
    )
    render.stderr().print(f"due now: {what}; `gcwm notify run` sends it", markup=False, soft_wrap=True)


@notify_app.command("run")
def notify_run(
    once: bool = typer.Option(False, "--once", help="send what is due now, then exit"),
    output: Output = OutputOption,
) -> None:
    """Deliver notifications as they fall due, until stopped (Ctrl-C or SIGTERM); --once: what is due now."""

    async def main(settings: Settings) -> DrainResult:
        import asyncio

        from gcwm import render
        from gcwm.bootstrap import open_dispatcher, open_evidence, open_store

        store = open_store(settings)
        try:
            evidence = open_evidence(settings)
            evidence.ready(store)  # deliveries are audited: a key that may not sign stops it here
            async with open_dispatcher(settings, store) as dispatcher:
                if once:
                    result = await dispatcher.run_due()
                else:
                    stop = asyncio.Event()
                    loop = asyncio.get_running_loop()
                    for sig in (signal.SIGINT, signal.SIGTERM):
                        loop.add_signal_handler(sig, stop.set)
                    render.stderr().print(
                        "gcwm notify: delivering notifications; Ctrl-C stops", markup=False, soft_wrap=True
                    )
                    result = await dispatcher.run_forever(stop)
            if result.delivered or result.dead:  # their audit entries get a signed head, as a run's do
                evidence.end_run(store)
            return result
        finally:
            store.engine.dispose()

    result = _run(output, main)
    if output is Output.json:
        print(json.dumps(result.to_dict(), indent=2))
        return
    print(
        f"delivered {result.delivered}, to retry {result.retried}, dead-lettered {result.dead};"
        f" {result.pending} pending"
    )


@app.command("itsm-sink")
def itsm_sink(
    port: int = typer.Option(8090, help="port to listen on"),
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    secret: str | None = typer.Option(
        None, help="the whsec_ key webhooks are verified with (default: a fresh one, printed)"
    ),
) -> None:
    """Receive, verify and print gcwm's webhooks and ServiceNow/Jira calls, answering like them."""
    from standardwebhooks.webhooks import EmptyWebhookSecretError

    from gcwm import render
    from gcwm.notify import Sink, new_secret
    from gcwm.notify.sink_server import serve

    console = render.stderr()
    if secret is None:
        secret = new_secret()
        console.print(
            f"no --secret given; this one verifies webhooks:\n  export GCWM_ITSM_WEBHOOK_SECRET={secret}",
            markup=False,
            soft_wrap=True,
        )
    elif not secret.startswith("whsec_"):
        msg = "a Standard Webhooks key starts with whsec_"
        raise typer.BadParameter(msg, param_hint="--secret")
    try:
        sink = Sink(secret=secret, echo=lambda text: print(text, flush=True))
    except (EmptyWebhookSecretError, ValueError) as exc:
        msg = f"not a usable whsec_ key ({exc})"
        raise typer.BadParameter(msg, param_hint="--secret") from exc
    base = f"http://{host}:{port}"
    console.print(
        f"gcwm itsm-sink: webhooks at {base}/webhook, ServiceNow at {base}/api/now/table/<table>,"
        f" Jira at {base}/rest/servicedeskapi/request; Ctrl-C stops",
        markup=False,
    )
    console.print(
        "gcwm sends to a loopback or private address only under a policy file with"
        " allowPrivateItsmTargets: true (GCWM_POLICY_FILE=examples/policy-local-sink.yaml)",
        markup=False,
        soft_wrap=True,
    )
    serve(sink, host=host, port=port)


@contextmanager
def _outbox(store: Store, *, write: bool = False) -> Iterator[OutboxRepository]:
    """The outbox in one transaction (read-only unless `write`)."""
    from gcwm.store import UnitOfWork
    from gcwm.store.outbox import OutboxRepository

    with UnitOfWork(store.engine, read_only=not write) as tx:
        yield OutboxRepository(tx.connection)


def _table(rows: list[dict[str, Any]]) -> None:
    """One aligned line per notification, never cut to the terminal (`notify show ID` has the rest)."""
    from gcwm import render

    if not rows:
        render.stderr().print("no notifications")
        return
    lines = [("ID", "STATUS", "EVENT", "CHANNEL", "TRIES", "NEXT/DONE (UTC)", "LAST ERROR")]
    for row in rows:
        when = row["deliveredAt"] if row["status"] == "delivered" else row["nextAttemptAt"]
        error = (row["lastError"] or "") if row["status"] != "delivered" else ""
        lines.append(
            (
                row["id"][:16],  # enough for `notify show`
                row["status"],
                row["event"].removeprefix("channel."),
                row["channel"],
                str(row["attempts"]),
                when[:19].replace("T", " ") if when else "-",
                error if len(error) <= 80 else error[:79] + "…",
            )
        )
    widths = [max(len(line[n]) for line in lines) for n in range(len(lines[0]) - 1)]
    for line in lines:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=False))
        print(f"{cells}  {line[-1]}".rstrip())
