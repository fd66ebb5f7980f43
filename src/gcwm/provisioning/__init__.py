"""Provisioning: the service layer. Observes the org once per batch, plans each channel's change
(pure), and applies it as a durable, idempotent job.

May import gcwm.errors, gcwm.spec, gcwm.genesys, gcwm.store and gcwm.observability; never the
entry points (cli, api, bootstrap) nor the emulator.
"""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
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


# Each public name and the module that defines it.
_EXPORTS = {
    "Action": "gcwm.provisioning.plan",
    "ChannelChange": "gcwm.provisioning.plan",
    "ChannelResult": "gcwm.provisioning.tools",
    "Evidence": "gcwm.provisioning.evidence",
    "JobEvent": "gcwm.provisioning.worker",
    "OrgRef": "gcwm.provisioning.results",
    "Plan": "gcwm.provisioning.plan",
    "PlanReport": "gcwm.provisioning.service",
    "ProvisioningService": "gcwm.provisioning.service",
    "Review": "gcwm.provisioning.admission",
    "Role": "gcwm.provisioning.roles",
    "Timeouts": "gcwm.provisioning.tools",
    "Worker": "gcwm.provisioning.worker",
    "build_plan": "gcwm.provisioning.plan",
    "enqueue_channels": "gcwm.provisioning.queue",
    "has_failures": "gcwm.provisioning.results",
    "job_details": "gcwm.provisioning.service",
    "job_steps_document": "gcwm.provisioning.service",
    "job_summary": "gcwm.provisioning.service",
    "review": "gcwm.provisioning.admission",
    "run_document": "gcwm.provisioning.results",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

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
