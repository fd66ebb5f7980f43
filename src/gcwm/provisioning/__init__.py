"""Provisioning: the service layer. Observes the org once per batch, plans each channel's change
(pure), and applies it as a durable, idempotent job.

May import gcwm.errors, gcwm.spec, gcwm.genesys, gcwm.store and gcwm.observability; never the
entry points (cli, api, bootstrap) nor the emulator.
"""

import importlib
from typing import TYPE_CHECKING, Any

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
else:

    def __getattr__(name: str) -> Any:
        # PEP 562: each name is imported on first use, so a command loads only the modules it
        # uses (`gcwm domains` and `gcwm csp evaluate` load neither SQLAlchemy nor httpx).
        try:
            module = _EXPORTS[name]
        except KeyError:
            msg = f"module {__name__!r} has no attribute {name!r}"
            raise AttributeError(msg) from None
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


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
