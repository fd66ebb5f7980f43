"""`gcwm destroy`: remove channels (deployment, then configuration) as durable jobs."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import ConcurrencyOption, Output, OutputOption, _run, app

if TYPE_CHECKING:
    from gcwm.provisioning import JobEvent
    from gcwm.settings import Settings
    from gcwm.store import Channel


@app.command()
def destroy(
    names: list[str] = typer.Argument(..., help="names of the channels to remove"),
    auto_approve: bool = typer.Option(False, "--auto-approve", help="remove without asking first"),
    output: Output = OutputOption,
    concurrency: int | None = ConcurrencyOption,
) -> None:
    """Remove channels: delete each deployment, wait until Genesys no longer has it, then delete its
    configuration. Asks first unless --auto-approve; exit 3 if a channel could not be removed."""

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm import render
        from gcwm.bootstrap import open_app

        async with open_app(settings) as gcwm:
            channels = gcwm.service.removal(names)  # an unknown name fails here, before anything is queued
            if not auto_approve:
                _confirm(channels)
            jobs = await gcwm.service.destroy(names)
            console = render.stderr()

            def on_event(event: JobEvent) -> None:
                if event.kind in ("succeeded", "failed", "cancelled"):
                    console.print(f"{event.channel}: {event.message or event.kind}", markup=False)

            return await gcwm.service.run_jobs(
                [j.id for j in jobs], concurrency=concurrency, on_event=on_event
            )

    document = _run(output, main)
    if output is Output.json:
        print(json.dumps(document, indent=2))
    else:
        _print(document)
    if any("error" in c for c in document["channels"]):
        raise typer.Exit(3)


def _confirm(channels: list[Channel]) -> None:
    """Show what goes, and ask; without a terminal to ask on, refuse (nothing is queued)."""
    from gcwm import render
    from gcwm.errors import GcwmError

    console = render.stderr()
    console.print("gcwm destroy will remove:", style="bold")
    for c in channels:
        console.print(
            f"  {c.name}: deployment {c.deployment_id or '-'}, configuration {c.configuration_id or '-'}"
            " (and any other object gcwm marked for it)",
            markup=False,
        )
    if not sys.stdin.isatty():
        msg = "not removing anything: stdin is not a terminal to confirm on; pass --auto-approve"
        raise GcwmError(msg)
    if not typer.confirm("Remove them?", default=False, err=True):
        msg = "not removing anything: not confirmed"
        raise GcwmError(msg)


def _print(document: dict[str, Any]) -> None:
    from rich.table import Table

    from gcwm import render

    table = Table(title=f"org {document['org']['id']} via {document['org']['target']}")
    for column in ("channel", "outcome", "deployments", "configurations", "total ms"):
        table.add_column(column)
    for c in document["channels"]:
        removed = c.get("removed", {})
        table.add_row(
            c["name"],
            c["outcome"],
            ", ".join(removed.get("deployments", [])),
            ", ".join(removed.get("configurations", [])),
            f"{c.get('latencyMs', {}).get('total', 0):.0f}",
        )
    out = render.stdout()
    out.print(table)
    for c in document["channels"]:
        for note in c.get("notes", []):
            out.print(f"note: {c['name']}: {note}", markup=False, soft_wrap=True)
        if "error" in c:
            out.print(
                f"{c['outcome']}: {c['name']}: {c['error'].get('message')}", markup=False, soft_wrap=True
            )
