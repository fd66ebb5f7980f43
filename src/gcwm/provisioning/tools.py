"""What every job of a batch shares, how long it waits for Genesys, and what one channel produced."""

from __future__ import annotations

from dataclasses import dataclass, field

from gcwm.genesys import GenesysClient
from gcwm.provisioning.listings import ActivationWatcher, OrgListings


@dataclass(frozen=True)
class Timeouts:
    """How long to wait for Genesys, and how often to look."""

    configuration_active_s: float = 60.0
    deployment_active_s: float = 180.0
    poll_initial_s: float = 0.1
    poll_max_s: float = 2.0
    # Reads of one listing are at most this far apart, however many jobs wait on them.
    busy_poll_s: float = 2.0
    create_attempts: int = 8
    lookup_settle_s: float = 1.0
    rollback_s: float = 60.0
    # A deleted object reads back (Deleting) for a while; Terraform waits up to 30 s for its 404
    # (shared/genesys/README.md), we allow twice that.
    deletion_s: float = 60.0


@dataclass
class ChannelResult:
    """What provisioning one channel produced."""

    name: str
    outcome: str  # created | updated | unchanged | recreated | adopted | replaced
    configuration_id: str
    configuration_version: str
    deployment_id: str
    deployment_status: str
    snippet: str
    latency_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    supported_content_id: str | None = None  # the channel's profile; None: the org's default


@dataclass
class BatchTools:
    """What every job of a batch shares: one client, the org's listings and the activation watcher."""

    client: GenesysClient
    listings: OrgListings
    watcher: ActivationWatcher
    timeouts: Timeouts
