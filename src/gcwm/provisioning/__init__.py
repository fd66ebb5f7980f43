"""Provisioning: the service layer. Observes the org once per batch, plans each channel's change
(pure), and applies it as a durable, idempotent job.

May import gcwm.errors, gcwm.spec, gcwm.genesys, gcwm.store and gcwm.observability; never the
entry points (cli, api, bootstrap) nor the emulator.
"""

from gcwm.provisioning.admission import Review, review
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.plan import Action, ChannelChange, Plan, build_plan
from gcwm.provisioning.queue import enqueue_channels
from gcwm.provisioning.results import OrgRef, has_failures, run_document
from gcwm.provisioning.roles import Role
from gcwm.provisioning.service import (
    PlanReport,
    ProvisioningService,
    job_details,
    job_steps_document,
    job_summary,
)
from gcwm.provisioning.tools import ChannelResult, Timeouts
from gcwm.provisioning.worker import JobEvent, Worker

__all__ = [
    "Action",
    "ChannelChange",
    "ChannelResult",
    "Evidence",
    "JobEvent",
    "OrgRef",
    "Plan",
    "PlanReport",
    "ProvisioningService",
    "Review",
    "Role",
    "Timeouts",
    "Worker",
    "build_plan",
    "enqueue_channels",
    "has_failures",
    "job_details",
    "job_steps_document",
    "job_summary",
    "review",
    "run_document",
]
