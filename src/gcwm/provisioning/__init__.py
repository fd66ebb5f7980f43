"""Provisioning: turns channel specs into durable, idempotent jobs and runs them against Genesys.

May import gcwm.errors, gcwm.spec, gcwm.genesys, gcwm.store and gcwm.observability; never the
entry points (cli, api, bootstrap) nor the emulator.
"""

from gcwm.provisioning.executor import ChannelProvisioner, ChannelResult, Checkpoints, KnownIds, Timeouts
from gcwm.provisioning.inventory import OrgInventory
from gcwm.provisioning.jobs import JobEvent, Worker, enqueue_channels, result_document

__all__ = [
    "ChannelProvisioner",
    "ChannelResult",
    "Checkpoints",
    "JobEvent",
    "KnownIds",
    "OrgInventory",
    "Timeouts",
    "Worker",
    "enqueue_channels",
    "result_document",
]
