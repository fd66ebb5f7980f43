"""The one result document: what `gcwm provision` and `gcwm jobs resume` print, and a job stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gcwm.errors import Finding, PolicyViolation, refusal_verdict
from gcwm.provisioning.checks import ChannelChecks
from gcwm.provisioning.plan import ChannelChange
from gcwm.provisioning.steps import PLANNED
from gcwm.provisioning.tools import ChannelResult
from gcwm.spec import ChannelSpec, channel_key
from gcwm.store import Job, JobStep


@dataclass(frozen=True)
class OrgRef:
    """The org a run works on, and what gcwm talks to for it (a region host or the emulator's URL)."""

    id: str
    name: str
    target: str
    region: str | None = None


def channel_document(result: ChannelResult) -> dict[str, Any]:
    """A finished channel, as stored in its job."""
    return {
        "name": result.name,
        "outcome": result.outcome,
        "configuration": {"id": result.configuration_id, "version": result.configuration_version},
        "deployment": {"id": result.deployment_id, "status": result.deployment_status},
        "supportedContent": {"id": result.supported_content_id} if result.supported_content_id else None,
        "snippet": result.snippet,
        "latencyMs": result.latency_ms,
        "notes": result.notes,
    }


def job_document(job: Job) -> dict[str, Any]:
    """A job's channel: its result once succeeded, else its outcome (failed or cancelled) and error."""
    if job.status == "succeeded" and job.result:
        return {**job.result, "jobId": job.id}
    outcome = "cancelled" if job.status == "cancelled" else "failed"
    error = job.error or {"error": "JobError", "message": f"job ended {job.status}"}
    return {
        "name": job.channel_name,
        "outcome": outcome,
        "jobId": job.id,
        "status": job.status,
        "error": error,
    }


def run_document(org: OrgRef, jobs: list[Job]) -> dict[str, Any]:
    """Every channel of a run; `gcwm provision --output json` prints exactly this."""
    return {"org": {"id": org.id, "target": org.target}, "channels": [job_document(j) for j in jobs]}


def has_failures(document: dict[str, Any]) -> bool:
    return any("error" in c for c in document["channels"])


def with_checks(document: dict[str, Any], checks: Mapping[str, ChannelChecks]) -> dict[str, Any]:
    """The run's document with each channel's findings and the CSP gcwm proposes for its site."""
    for channel in document["channels"]:
        found = checks.get(channel_key(channel["name"]))
        if found is not None:
            channel["findings"] = [f.to_dict() for f in found.findings]
            channel["csp"] = found.csp
    return document


def refused_document(
    org: OrgRef, specs: Sequence[ChannelSpec], checks: Mapping[str, ChannelChecks], refusal: PolicyViolation
) -> dict[str, Any]:
    """A batch refused before any write: each finding once, under its channel (marked `blocking` when
    it is one the refusal names); what is about the whole file or org (a limit, the region) once, in
    `refusal`, with the verdict. Every channel has `"outcome": "refused"` and the verdict as error."""
    refused = {_identity(f) for f in refusal.findings}
    names = {spec.key: spec.name for spec in specs}
    by_channel: dict[str, dict[tuple[str, ...], Finding]] = {spec.key: {} for spec in specs}
    org_wide: dict[tuple[str, ...], Finding] = {}
    for finding in [*(f for c in checks.values() for f in c.findings), *refusal.findings]:
        key = channel_key(finding.channel) if finding.channel else None
        into = by_channel.get(key) if key is not None else org_wide
        (into if into is not None else org_wide).setdefault(_identity(finding), finding)
    error = {"error": type(refusal).__name__, "message": refusal.message}

    def shown(found: Mapping[tuple[str, ...], Finding]) -> list[dict[str, Any]]:
        return [{**f.to_dict(), "blocking": key in refused} for key, f in found.items()]

    channels = [
        {"name": names[key], "outcome": "refused", "findings": shown(found), "error": dict(error)}
        for key, found in by_channel.items()
    ]
    return {
        "org": {"id": org.id, "target": org.target},
        "refusal": {**error, "blocking": len(refused), "findings": shown(org_wide)},
        "channels": channels,
    }


def refusal_lines(document: Mapping[str, Any]) -> tuple[str, list[str], int]:
    """A refused run's document for people: the verdict, each blocking finding once as a line (file,
    channel, field, severity, what; grouped by channel, then what is about the whole file or org),
    and how many findings do not block."""
    blocking: list[Finding] = []
    others = 0
    for found in [
        *(f for c in document["channels"] for f in c.get("findings", [])),
        *document.get("refusal", {}).get("findings", []),
    ]:
        if not found.get("blocking", True):
            others += 1
            continue
        blocking.append(
            Finding(
                str(found.get("check", "")),
                str(found.get("severity", "")),
                str(found.get("location", "")),
                str(found.get("description", "")),
                str(found.get("source", "")),
                str(found.get("channel", "")),
            )
        )
    if not blocking:  # said by the refusal alone (no finding was marked): its message
        channels = document["channels"]
        message = channels[0]["error"].get("message", "") if channels else ""
        return message or "provision refused; nothing was written", [], others
    return refusal_verdict(blocking), [str(f) for f in blocking], others


def _identity(finding: Finding) -> tuple[str, ...]:
    return (finding.channel, finding.check, finding.location, finding.description)


def audit_fields(steps: Sequence[JobStep]) -> list[dict[str, Any]]:
    """The fields a job's plan changed, as its audit entry keeps them, from its `planned` checkpoint:
    spec path, API path, old and new (`consequence` on what only followed from another change).
    Empty for a job without that checkpoint, or whose checkpoint is of another shape."""
    planned = next((s.data for s in steps if s.step == PLANNED), None)
    if not planned:
        return []
    try:
        change = ChannelChange.model_validate(planned)
    except ValueError:  # pydantic's ValidationError: the entry still says the outcome
        return []
    return [f.audit() for f in change.fields]
