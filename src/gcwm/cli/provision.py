"""`gcwm provision` and `gcwm plan`."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from gcwm.cli import ConcurrencyOption, Output, OutputOption, _report, _run, app

if TYPE_CHECKING:
    from gcwm.errors import SpecProblem
    from gcwm.provisioning import OrgRef, PlanReport
    from gcwm.settings import Settings
    from gcwm.spec import ChannelSpec

SpecFileArgument = typer.Argument(
    ..., metavar="FILE", help="channel spec (YAML or JSON) with a `channels:` list"
)


@app.command()
def provision(
    spec_file: Path = SpecFileArgument,
    output: Output = OutputOption,
    concurrency: int | None = ConcurrencyOption,
    timings: bool = typer.Option(
        False,
        "--timings",
        help="also print the run's latency per step, job and Genesys operation (the JSON always has it)",
    ),
) -> None:
    """Provision every channel in FILE: Messenger configuration, publish, web deployment.

    Refused before any write (exit 3) when anything in the file blocks: the verdict first, then each
    finding once. A spec error is exit 2."""

    async def main(settings: Settings) -> dict[str, Any]:
        from gcwm import render
        from gcwm.bootstrap import open_app
        from gcwm.cli.report import run_latency
        from gcwm.observability.calls import recording_calls
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)  # a bad spec fails before anything is read or written
        _check_itsm(specs, spec_file, settings)
        with recording_calls() as calls:  # every Genesys call of this run, the first login check too
            async with open_app(settings) as gcwm:
                began = gcwm.store.database_now()
                with render.progress(len(specs)) as run:
                    document = await gcwm.service.provision(
                        specs, source=str(spec_file), concurrency=concurrency, on_event=run
                    )
                    run.settle(document)
                document["latency"] = run_latency(gcwm.store, document, calls, began)
                return document

    _report(_run(output, main), output, timings=timings)


@app.command()
def plan(
    spec_file: Path = SpecFileArgument,
    output: Output = OutputOption,
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="also list the unchanged channels and every limit"
    ),
) -> None:
    """Show what `provision` would change in the org, channel by channel, field by field; write nothing.

    Exit codes are `terraform plan -detailed-exitcode`'s: 0 no changes, 2 changes, 1 whatever stops
    the plan (a spec error, a finding or limit provision would refuse on, a queue or flow the org
    lacks, Genesys unreachable)."""

    async def main(settings: Settings) -> tuple[PlanReport, OrgRef]:
        from gcwm.bootstrap import open_app
        from gcwm.spec import load_spec

        specs = load_spec(spec_file)
        _check_itsm(specs, spec_file, settings)
        async with open_app(settings) as gcwm:
            return await gcwm.service.plan(specs, source=str(spec_file)), gcwm.org

    report, org = _run(output, main, error_code=lambda _exc: 1)  # terraform: every error is 1
    if output is Output.json:
        print(json.dumps(_plan_document(report, org), indent=2))
    else:
        from gcwm import render

        render.plan(report, org.target, verbose=verbose)
    # What provision would refuse stops the plan, as a missing queue does.
    if report.plan.problems or report.blocking:
        raise typer.Exit(1)
    raise typer.Exit(2 if report.plan.has_changes else 0)


def _check_itsm(specs: list[ChannelSpec], spec_file: Path, settings: Settings) -> None:
    """A SpecError naming each `itsm:` setting of the file that could only fail at delivery, hours
    later (a secret not set where gcwm runs, or of the wrong shape; a ServiceNow target without
    `auth`), before anything is read or written."""
    if not any(s.itsm is not None for s in specs):
        return
    from gcwm.bootstrap import load_policy
    from gcwm.errors import SpecError
    from gcwm.notify import SecretSource
    from gcwm.provisioning.checks import itsm_problems

    policy = load_policy(settings)
    secrets = SecretSource(directory=settings.secrets_dir, allowed=policy.itsm_secret_env)
    if problems := itsm_problems(specs, source=str(spec_file), policy=policy, secrets=secrets):
        raise SpecError(_with_lines(problems, specs, spec_file))


def _with_lines(problems: list[SpecProblem], specs: list[ChannelSpec], spec_file: Path) -> list[SpecProblem]:
    """Each problem with the line of its field in the file (`channel 'x': itsm.auth`)."""
    from gcwm.spec import line_of

    text = spec_file.read_text(encoding="utf-8")
    index = {f"channel {s.name!r}": n for n, s in enumerate(specs)}
    out = []
    for problem in problems:
        channel, _, field = problem.location.partition(": ")
        if channel in index:
            loc: list[int | str] = ["channels", index[channel], *field.split(".")]
            problem = replace(problem, line=line_of(text, loc))
        out.append(problem)
    return out


def _plan_document(report: PlanReport, org: OrgRef) -> dict[str, Any]:
    """`gcwm plan --output json`: the verdict, the counts, every change (no-ops too), every finding
    (`blocking` on those provision would refuse on, references and limits included) and limit."""
    from gcwm.provisioning.plan import plan_verdict

    def identity(f: Any) -> tuple[str, ...]:
        return (f.channel, f.check, f.location, f.description)

    blocking = {identity(f) for f in report.blocking}
    seen = {identity(f) for f in report.findings}
    findings = [{**f.to_dict(), "blocking": identity(f) in blocking} for f in report.findings]
    findings += [{**f.to_dict(), "blocking": True} for f in report.blocking if identity(f) not in seen]
    counts = report.plan.counts()
    return {
        "org": {"id": org.id, "region": org.region, "target": org.target},
        "verdict": plan_verdict(report.plan, report.blocking),
        "counts": {a.value: n for a, n in counts.items() if a.value != "delete"},
        "changes": [c.summary() for c in report.plan.changes],
        "findings": findings,
        "limits": [u.to_dict() for u in report.limits],
    }
