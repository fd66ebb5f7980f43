"""`gcwm channels list|show`: what gcwm knows of each channel (ids, status, snippet, proposed CSP, last
job, newest audit entries), read from its database without touching Genesys."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import Output, OutputOption, _store_only, app

if TYPE_CHECKING:
    from gcwm.store import Store

channels_app = typer.Typer(
    help="Show the channels gcwm provisioned: ids, status, snippet, proposed CSP, last job, audit.",
    no_args_is_help=True,
)
app.add_typer(channels_app, name="channels")

OrgOption = typer.Option(None, "--org", help="only this org's channels (default: every org in the database)")
SNIPPETS_HINT = "snippets: gcwm channels show NAME, or gcwm channels list --output json"


@channels_app.command("list")
def channels_list(output: Output = OutputOption, org: str | None = OrgOption) -> None:
    """List the channels gcwm holds (removed ones left out), by org and name; the JSON has each
    channel's snippet."""

    def work(store: Store) -> list[dict[str, Any]]:
        from gcwm.provisioning.channel_views import list_channels

        return list_channels(store, org)

    documents = _store_only(output, work)
    if output is Output.json:
        print(json.dumps({"channels": documents}, indent=2))
        return
    _table(documents)


@channels_app.command("show")
def channels_show(
    name: str = typer.Argument(..., help="the channel's name (compared case-insensitively)"),
    output: Output = OutputOption,
    org: str | None = OrgOption,
) -> None:
    """Show one channel: its ids and status, the snippet to embed, the CSP gcwm proposes for the
    embedding site, its last job and its newest audit entries."""

    def work(store: Store) -> dict[str, Any]:
        from gcwm.provisioning.channel_views import show_channel

        return show_channel(store, name, org)

    document = _store_only(output, work)
    if output is Output.json:
        print(json.dumps(document, indent=2))
        return
    _details(document)


def _table(documents: list[dict[str, Any]]) -> None:
    from rich.table import Table

    from gcwm import render

    if not documents:
        render.stderr().print("no channels yet: `gcwm provision FILE` makes them")
        return
    several_orgs = len({d["org"] for d in documents}) > 1  # one org (the usual case): no org column
    table = Table()
    for column in (
        "channel",
        *(("org",) if several_orgs else ()),
        "status",
        "deployment",
        "version",
        "last job",
    ):
        table.add_column(column, overflow="fold")
    for d in documents:
        deployment = " ".join(v for v in (d["deploymentStatus"], d["deploymentId"]) if v) or "-"
        table.add_row(
            d["name"],
            *((d["org"],) if several_orgs else ()),
            d["status"],
            deployment,
            d["configurationVersion"] or "-",
            _job_line(d["lastJob"]),
        )
    render.stdout().print(table)
    render.stderr().print(SNIPPETS_HINT, markup=False, soft_wrap=True)


def _job_line(job: dict[str, Any] | None) -> str:
    if job is None:
        return "-"
    when = job["finishedAt"] or job["createdAt"]
    return f"{job['kind']} {job['status']} {when[:19]}"


def _details(d: dict[str, Any]) -> None:
    """The document as lines of text; the snippet and the policy exactly as stored, to copy."""
    rows = [
        ("channel", d["name"]),
        ("org", d["org"]),
        ("status", d["status"]),
        (
            "configuration",
            _pair(d["configurationId"], d["configurationVersion"] and f"version {d['configurationVersion']}"),
        ),
        ("deployment", _pair(d["deploymentId"], d["deploymentStatus"])),
        ("supported content", d["supportedContentId"] or "-"),
        ("allowed domains", ", ".join(d["allowedDomains"]) or "all domains"),
        ("updated", d["updatedAt"]),
    ]
    job = d["lastJob"]
    if job is not None:
        rows.append(("last job", f"{job['id']} {_job_line(job)} by {job['actor']}"))
        if job["error"]:
            rows.append(("  error", job["error"]))
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value}")
    print("\nEmbed snippet for the website:")
    print(d["snippet"] or "(none yet: the channel has no Active deployment; its last job says why)")
    print("\nContent-Security-Policy for the embedding site (a fresh nonce in every response):")
    print(d["proposedCsp"] or "(none recorded)")
    print("\nNewest audit entries (`gcwm audit show --channel NAME` has them all):")
    for e in d["audit"] or []:
        job_id = f" job {e['job'][:8]}" if e["job"] else ""
        print(f"  #{e['seq']} {e['at'][:19]} {e['action']} {e['outcome'] or ''} by {e['actor']}{job_id}")
    if not d["audit"]:
        print("  (none)")


def _pair(first: str | None, second: str | None) -> str:
    return " ".join(v for v in (first, second) if v) or "-"
