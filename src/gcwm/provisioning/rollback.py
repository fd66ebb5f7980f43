"""Undo after a refusal: remove what the job created, forget its steps, never hide the first error.

The whole rollback has one time budget, so retries inside it (the transport's and the wait for a
deployment to let go of its configuration) cannot add up to minutes. If the rollback itself fails,
the original error stays the error, and says what was left behind.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from gcwm.errors import GcwmError
from gcwm.genesys import GenesysClient
from gcwm.provisioning import steps
from gcwm.provisioning.checkpoints import Checkpoints
from gcwm.provisioning.deletes import delete_until_done
from gcwm.provisioning.steps import ConfigurationReady, DeploymentReady, SupportedContentReady

log = structlog.get_logger(__name__)
_CONFLICT_PAUSE_S = 0.5
_DELETE_ATTEMPTS = 8


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
    reasons: list[str] = []
    deadline = time.monotonic() + budget_s
    try:
        async with asyncio.timeout(budget_s):
            for kind, object_id in made:
                try:
                    await _remove(client, kind, object_id, deadline)
                except GcwmError as exc:
                    # One object that will not go must not keep the rest: carry on with them.
                    reasons.append(exc.message)
                    continue
                removed.append(f"{kind} {object_id}")
    except TimeoutError:
        reasons.append(f"gave up after {budget_s:.0f} s")
    left = [f"{kind} {object_id}" for kind, object_id in made if f"{kind} {object_id}" not in removed]
    if left:
        reason = "; ".join(reasons)
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


async def _remove(client: GenesysClient, kind: str, object_id: str, deadline: float) -> None:
    """Delete one object made by the job; a DELETE whose answer was lost is sent again, and a 409 (still
    in use while the deployment that named it is being deleted) is waited out until `deadline`."""
    sends = {
        "deployment": client.delete_deployment,
        "configuration": client.delete_configuration,
        "supported_content": client.delete_supported_content,
    }
    await delete_until_done(
        lambda: sends[kind](object_id),
        what=f"{kind} {object_id}",
        attempts=_DELETE_ATTEMPTS,
        pause_s=_CONFLICT_PAUSE_S / 4,
        max_pause_s=_CONFLICT_PAUSE_S,
        conflict_deadline=deadline,
    )
