"""The one result document: what `gcwm provision` and `gcwm jobs resume` print, and a job stores."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gcwm.errors import PolicyViolation
from gcwm.provisioning.checks import ChannelChecks
from gcwm.provisioning.tools import ChannelResult
from gcwm.spec import ChannelSpec, channel_key
from gcwm.store import Job


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
    """A batch refused before any write: every channel, its findings, and the refusal."""
    channels = []
    for spec in specs:
        found = checks.get(spec.key)
        own = [f for f in refusal.findings if f.channel in ("", spec.name)]
        findings = {
            (f.check, f.location, f.description): f for f in [*(found.findings if found else []), *own]
        }
        channels.append(
            {
                "name": spec.name,
                "outcome": "refused",
                "findings": [f.to_dict() for f in findings.values()],
                "error": refusal.to_dict(),
            }
        )
    return {"org": {"id": org.id, "target": org.target}, "channels": channels}
