"""The v1 API's documents as pydantic models, so /openapi.json describes every answer, problems too."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from gcwm.api.problems import MEDIA_TYPE

JobStatus = Literal["queued", "running", "succeeded", "failed", "cancelled"]


class _Document(BaseModel):
    # camelCase on the wire, as in Genesys's API and gcwm's JSON output.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class _Open(_Document):
    # Documents gcwm writes elsewhere too (results, audit bodies): named fields, and what else they hold.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="allow")


class ProblemDocument(_Open):
    """RFC 9457 problem details; gcwm adds members per kind (e.g. `problems`, `findings`)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class SpecDocument(BaseModel):
    """A channel spec document, as `gcwm provision` reads from a file (see README: the spec)."""

    model_config = ConfigDict(extra="allow")

    channels: list[dict[str, Any]] = Field(description="the channels, each as in a spec file")


class ApiKeyDocument(_Document):
    """An API key's record: never the key or its hash."""

    id: str
    name: str
    role: Literal["viewer", "operator", "admin"]
    created_by: str
    created_at: str
    revoked_at: str | None


class ApiKeyList(_Document):
    keys: list[ApiKeyDocument]


class QueuedJob(_Document):
    id: str
    channel: str
    status: JobStatus


class QueuedJobs(_Document):
    jobs: list[QueuedJob]


class JobSummary(_Document):
    id: str
    kind: str
    channel: str
    org: str
    status: JobStatus
    cancel_requested: bool
    attempts: int
    actor: str
    resumed_by: str | None = None
    created_at: str
    finished_at: str | None
    error: str | None


class JobStepDocument(_Document):
    step: str
    duration_ms: float
    attempt: int
    data: dict[str, Any]


class JobDetails(JobSummary):
    steps: list[JobStepDocument]
    result: dict[str, Any] | None = Field(
        description="the channel's result document once the job has finished (as `gcwm provision` prints)"
    )


class JobPage(_Document):
    jobs: list[JobSummary]
    next_cursor: str | None


class ChannelJob(_Document):
    """The channel's newest job (gcwm.provisioning.channel_views)."""

    id: str
    kind: str
    status: JobStatus
    actor: str
    created_at: str
    finished_at: str | None
    error: str | None


class ChannelAuditEntry(_Document):
    """One of the channel's newest audit entries (step checkpoints left out)."""

    seq: int
    at: str
    action: str
    outcome: str | None
    actor: str | None
    job: str | None
    summary: dict[str, Any]


class ChannelDocument(_Document):
    """A channel as gcwm's database holds it, as `gcwm channels list --output json` prints it."""

    name: str
    org: str
    status: str
    configuration_id: str | None
    configuration_version: str | None
    deployment_id: str | None
    deployment_status: str | None
    supported_content_id: str | None
    allowed_domains: list[str]
    spec_hash: str
    created_at: str
    updated_at: str
    snippet: str | None = Field(description="the script tag to embed, once the deployment is Active")
    proposed_csp: str | None = Field(
        description="the Content-Security-Policy gcwm proposes for the embedding site"
    )
    last_job: ChannelJob | None
    audit: list[ChannelAuditEntry] = Field(description="the newest audit entries, newest first")


class ChannelDetails(ChannelDocument):
    """One channel, as `gcwm channels show --output json` prints it: with its spec."""

    spec: dict[str, Any]


class ChannelPage(_Document):
    channels: list[ChannelDocument]
    next_cursor: str | None


class AuditEntryDocument(_Open):
    seq: int
    at: str
    action: str
    hash: str


class AuditPage(_Document):
    entries: list[AuditEntryDocument]
    next_cursor: str | None


class AuditVerification(_Document):
    ok: bool
    entries: int
    first_bad: int | None
    reason: str | None
    message: str
    signed_heads: int


class NotificationDocument(_Document):
    id: str
    status: str
    event: str
    channel: str
    org_id: str
    target: dict[str, Any]
    attempts: int
    next_attempt_at: str | None
    delivered_at: str | None
    last_error: str | None
    last_reply: str | None = Field(
        default=None,
        description="at most 200 bytes of the target's last answer, control characters removed;"
        " admin keys only (null for others)",
    )
    external_ref: str | None
    audit_seq: int | None
    created_at: str


class NotificationPage(_Document):
    notifications: list[NotificationDocument]
    next_cursor: str | None


_DESCRIPTIONS = {
    400: "The request cannot be carried out",
    401: "No API key, or an unknown or revoked one",
    403: "The key's role does not allow this",
    404: "Not found",
    409: "Conflicts with the current state (or the same Idempotency-Key is in progress)",
    413: "The request body is over the limit",
    422: "The request is not valid (a spec problem names the channel and field)",
    502: "Genesys Cloud failed",
    503: "The database is unavailable",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for problem answers: 400 (a body that does not parse), 401, 403 and 422
    always, plus `statuses`."""
    schema = {"$ref": "#/components/schemas/ProblemDocument"}
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted({400, 401, 403, 422, *statuses}):
        out[status] = {
            "model": ProblemDocument,
            "description": _DESCRIPTIONS[status],
            "content": {MEDIA_TYPE: {"schema": schema}},
        }
    return out
