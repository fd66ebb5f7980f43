"""Undo after a refusal: remove what the job created, forget its steps, never hide the first error.

The whole rollback has one time budget, so retries inside it (the transport's and the wait for a
deployment to let go of its configuration) cannot add up to minutes. If the rollback itself fails,
the original error stays the error, and says what was left behind.
"""

from __future__ import annotations

import asyncio

import structlog

from gcwm.errors import GcwmError, GenesysConflict, GenesysNotFound
from gcwm.genesys import GenesysClient
from gcwm.provisioning import steps
from gcwm.provisioning.checkpoints import Checkpoints
from gcwm.provisioning.steps import ConfigurationReady, DeploymentReady, SupportedContentReady

log = structlog.get_logger(__name__)
_CONFLICT_PAUSE_S = 0.5


async def roll_back(
    client: GenesysClient, checkpoints: Checkpoints, failure: GcwmError, *, budget_s: float
) -> None:
    """Remove the deployment and configuration this job created, then record that in the job.

    Every step of the job is discarded in the same transaction that records the rollback, so a
    resumed job plans again from what the org holds instead of trusting checkpoints that name
    removed objects. `failure`'s message gains what was removed, or what could not be."""
    made: list[tuple[str, str]] = []
    deployment = checkpoints.get(steps.DEPLOYMENT_CREATED, DeploymentReady)
    if deployment is not None and deployment.created:
        made.append(("deployment", deployment.deployment_id))
    config = checkpoints.get(steps.CONFIGURATION_CREATED, ConfigurationReady)
    if config is not None and config.created:
        made.append(("configuration", config.configuration_id))
    profile = checkpoints.get(steps.SUPPORTED_CONTENT_READY, SupportedContentReady)
    if profile is not None and profile.created:
        made.append(("supported_content", profile.profile_id))
    removed: list[str] = []
    left: list[str] = []
    try:
        async with asyncio.timeout(budget_s):
            for kind, object_id in made:
                await _remove(client, kind, object_id)
                removed.append(f"{kind} {object_id}")
    except (GcwmError, TimeoutError) as exc:
        reason = exc.message if isinstance(exc, GcwmError) else f"gave up after {budget_s:.0f} s"
        left = [f"{kind} {object_id}" for kind, object_id in made if f"{kind} {object_id}" not in removed]
        log.warning("channel.rollback_incomplete", removed=removed, left=left, error=reason)
        failure.message += (
            f" (rollback incomplete: could not remove {', '.join(left)}: {reason}; remove by hand)"
        )
    cleared = {f"{kind}_id": None for kind, object_id in made if f"{kind} {object_id}" in removed}
    await checkpoints.record_rollback(removed, left, cleared)
    if removed:
        log.warning("channel.rolled_back", removed=removed)
        failure.message += f" (rolled back: removed {', '.join(removed)})"
    failure.args = (failure.message,)


async def _remove(client: GenesysClient, kind: str, object_id: str) -> None:
    while True:
        try:
            if kind == "deployment":
                await client.delete_deployment(object_id)
            elif kind == "configuration":
                await client.delete_configuration(object_id)
            else:
                await client.delete_supported_content(object_id)
            return
        except GenesysNotFound:
            return
        except GenesysConflict:
            # Still in use while the deployment that named it is being deleted.
            await asyncio.sleep(_CONFLICT_PAUSE_S)
