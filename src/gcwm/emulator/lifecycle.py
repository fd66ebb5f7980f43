"""Statuses computed from timestamps: Pending until activated, Deleting until gone.

No background task moves objects along; every read derives the status from the clock, so a
restarted emulator (state file) continues each object's lifecycle where it was."""

from __future__ import annotations

from dataclasses import dataclass

from gcwm.emulator.entities import Configuration, ConfigVersion, Deployment

PENDING = "Pending"
ACTIVE = "Active"
DELETING = "Deleting"
ERROR = "Error"


@dataclass(frozen=True)
class Timings:
    """How long each transition takes, in seconds."""

    config_activation_s: float = 0.3
    deployment_activation_s: float = 1.0
    deletion_s: float = 0.2
    read_after_write_404_s: float = 0.0


def version_status(config: Configuration, version: ConfigVersion, now: float, t: Timings) -> str:
    """A draft is Pending for a while after each write; published versions are Active."""
    if config.deleted_at is not None:
        return DELETING
    if version.version == "DRAFT" and now < version.date_modified + t.config_activation_s:
        return PENDING
    return ACTIVE


def deployment_status(deployment: Deployment, now: float, t: Timings) -> str:
    """Pending for a while after create and after each PUT, then Active (README, lifecycle)."""
    if deployment.deleted_at is not None:
        return DELETING
    if deployment.broken:
        return ERROR
    if now < deployment.date_modified + t.deployment_activation_s:
        return PENDING
    return ACTIVE


def is_gone(deleted_at: float | None, now: float, t: Timings) -> bool:
    """Deleted long enough ago that reads answer 404 (Terraform waits for that 404, README)."""
    return deleted_at is not None and now >= deleted_at + t.deletion_s


def is_not_yet_readable(date_created: float, now: float, t: Timings) -> bool:
    """Within the read-after-write window, in which a GET by id answers 404 (README, PR #109)."""
    return now < date_created + t.read_after_write_404_s
