"""What the store hands out: frozen dataclasses, never SQLAlchemy rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]
ChannelStatus = Literal["pending", "active", "failed", "removed"]

JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running", "succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class Job:
    """One durable unit of work: provisioning one channel in one org."""

    id: str
    batch_id: str
    org_id: str
    channel_name: str
    channel_key: str
    kind: str
    status: JobStatus
    spec: dict[str, Any]
    actor: str
    correlation_id: str
    attempts: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    error: dict[str, Any] | None
    result: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    cancel_requested: bool
    resumed_by: str | None = None

    @property
    def is_finished(self) -> bool:
        """True once the job succeeded, failed or was cancelled."""
        return self.status in ("succeeded", "failed", "cancelled")


@dataclass(frozen=True)
class JobStep:
    """A step a job completed, with the ids and facts it produced; a resumed job skips it."""

    job_id: str
    step: str
    seq: int
    data: dict[str, Any]
    duration_ms: float
    attempt: int
    finished_at: datetime


@dataclass(frozen=True)
class Channel:
    """A channel's desired spec and what Genesys Cloud holds for it."""

    id: str
    org_id: str
    name: str
    name_key: str
    spec: dict[str, Any]
    spec_hash: str
    status: ChannelStatus
    configuration_id: str | None
    configuration_version: str | None
    deployment_id: str | None
    deployment_status: str | None
    snippet: str | None
    created_at: datetime
    updated_at: datetime
    proposed_csp: str | None
    configuration_hash: str | None = None
    supported_content_id: str | None = None
