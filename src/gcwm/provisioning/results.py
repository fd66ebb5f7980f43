"""The one result document: what `gcwm provision` and `gcwm jobs resume` print, and a job stores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gcwm.provisioning.apply import ChannelResult
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
