"""`gcwm provision` and `gcwm plan`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import ConcurrencyOption, Output, OutputOption, _report, _run, app

if TYPE_CHECKING:
    from gcwm.errors import GcwmError
    from gcwm.provisioning import OrgRef, PlanReport
    from gcwm.settings import Settings


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
        from gcwm.cli.report import run_latency
        from gcwm.observability.calls import recording_calls
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)  # a bad spec fails before anything is read or written
        with recording_calls() as calls:  # every Genesys call of this run, the first login check too
            async with open_app(settings) as gcwm:
                began = gcwm.store.database_now()
                with render.progress(len(specs)) as on_event:
                    document = await gcwm.service.provision(
                        specs, source=str(spec_file), concurrency=concurrency, on_event=on_event
                    )
                document["latency"] = run_latency(gcwm.store, document, calls, began)
                return document

    _report(_run(output, main), output)


@app.command()
def plan(
    spec_file: Path = typer.Argument(..., help="channel spec (YAML or JSON)"), output: Output = OutputOption
) -> None:
    """Show what `provision` would change in the org, channel by channel; write nothing.

    Exit codes as `terraform plan -detailed-exitcode`: 0 no changes, 2 changes, 1 error (a spec
    error keeps its own code)."""

    async def main(settings: Settings) -> tuple[PlanReport, OrgRef]:
        from gcwm.bootstrap import open_app
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)
        async with open_app(settings) as gcwm:
            return await gcwm.service.plan(specs, source=str(spec_file)), gcwm.org

    def code(exc: GcwmError) -> int:
        from gcwm.errors import SpecError

        return exc.exit_code if isinstance(exc, SpecError) else 1

    report, org = _run(output, main, error_code=code)
    if output is Output.json:
        document = {
            "org": {"id": org.id, "region": org.region, "target": org.target},
            "changes": [c.summary() for c in report.plan.changes],
            "findings": [f.to_dict() for f in report.findings],
            "limits": [u.to_dict() for u in report.limits],
        }
        print(json.dumps(document, indent=2))
    else:
        from gcwm import render

        render.plan(report, org.target)
    # What provision would refuse is an error of the plan, as a missing queue is.
    if report.plan.problems or report.blocking:
        raise typer.Exit(1)
    raise typer.Exit(2 if report.plan.has_changes else 0)
