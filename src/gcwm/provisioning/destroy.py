"""Destroy one channel: delete its deployment, wait until Genesys no longer has it, then its configuration,
then the supported content profile gcwm made for it, unless another deployment uses that.

The order and the wait are Genesys's: deletion is not immediate (an object reads back `Deleting` until
GET answers 404, and Terraform waits for that 404), and a configuration a deployment still uses cannot
be deleted (shared/genesys/README.md; the emulator answers 409). Every DELETE is idempotent (404 means
already gone; a second DELETE while Deleting is accepted), so a DELETE whose answer was lost is sent
again, and a crashed job resumes by repeating the step it was in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import structlog

from gcwm.errors import GenesysConflict, GenesysNotFound, ProvisioningError
from gcwm.genesys.models import WebDeployment
from gcwm.provisioning import steps
from gcwm.provisioning.checkpoints import Checkpoints
from gcwm.provisioning.deletes import delete_until_done
from gcwm.provisioning.evidence import Evidence
from gcwm.provisioning.mapping import profile_name, read_marker
from gcwm.provisioning.roles import KIND_PROVISION
from gcwm.provisioning.steps import DestroyTargets, R, Removed
from gcwm.provisioning.tools import BatchTools
from gcwm.provisioning.writes import wait_for_earlier_creates
from gcwm.store import Channel, Job, Store, UnitOfWork

log = structlog.get_logger(__name__)

OUTCOME = "destroyed"


class ChannelDestroy:
    """Carries out one destroy job, step by checkpointed step."""

    def __init__(
        self, tools: BatchTools, checkpoints: Checkpoints, *, job: Job, record: Channel | None, store: Store
    ) -> None:
        self.client = tools.client
        self.store = store
        self.listings = tools.listings
        self.t = tools.timeouts
        self.cp = checkpoints
        self.job = job
        self.record = record
        self.latency: dict[str, float] = {}
        self.notes: list[str] = []
        self.log = log.bind(channel=job.channel_name, job_id=job.id)

    async def run(self) -> dict[str, Any]:
        """Remove the channel's objects; the job's result document."""
        started = time.perf_counter()
        targets = await self._step(steps.DESTROY_PLANNED, DestroyTargets, self._targets)
        deployments = targets.deployment_ids
        configurations = targets.configuration_ids
        gone = await self._step(
            steps.DEPLOYMENT_DELETED, Removed, lambda: self._delete_all("deployment", deployments)
        )
        await self._step(steps.DEPLOYMENT_GONE, Removed, lambda: self._gone_all("deployment", deployments))
        gone_too = await self._step(
            steps.CONFIGURATION_DELETED, Removed, lambda: self._delete_all("configuration", configurations)
        )
        await self._step(
            steps.CONFIGURATION_GONE, Removed, lambda: self._gone_all("configuration", configurations)
        )
        profiles = targets.supported_content_ids
        gone_profiles = await self._step(
            steps.SUPPORTED_CONTENT_DELETED, Removed, lambda: self._delete_profiles(profiles)
        )
        for object_id in [*gone.already_gone, *gone_too.already_gone, *gone_profiles.already_gone]:
            self.notes.append(f"{object_id} was already gone from the org")
        if not deployments and not configurations:
            self.notes.append("the org held nothing of this channel")
        self.latency["total"] = round((time.perf_counter() - started) * 1000, 1)
        return {
            "name": self.job.channel_name,
            "outcome": OUTCOME,
            # The shape of a provisioned channel's document, so every reader of job results reads this one.
            "configuration": {"id": configurations[0] if configurations else "", "version": ""},
            "deployment": {"id": deployments[0] if deployments else "", "status": ""},
            "snippet": "",
            "removed": {
                "deployments": deployments,
                "configurations": configurations,
                "supportedContent": profiles,
            },
            "latencyMs": self.latency,
            "notes": self.notes,
        }

    async def _targets(self) -> DestroyTargets:
        """The ids the store recorded, and every object gcwm marked for this channel (a cancelled or
        crashed provision may have made one the record never learned of, or have one on its way: the
        listing is read once that create must have ended)."""
        await wait_for_earlier_creates(self.store, self.job)
        now = time.monotonic()
        deployments, drafts = await asyncio.gather(
            self.listings.deployments.read(now), self.listings.drafts.read(now)
        )
        record = self.record
        deployment_ids = _unique(
            [record.deployment_id if record else None]
            + [d.id for d in deployments.values() if self._is_ours(d.description)]
        )
        return DestroyTargets(
            deployment_ids=deployment_ids,
            configuration_ids=_unique(
                [record.configuration_id if record else None]
                + [c.id for c in drafts.values() if self._is_ours(c.description)]
            ),
            supported_content_ids=await self._profiles(deployments.values(), deployment_ids),
        )

    async def _profiles(self, deployments: Iterable[WebDeployment], leaving: list[str]) -> list[str]:
        """The profiles gcwm made for this channel (recorded, or named for it) that no deployment but
        the channel's own uses: a profile someone else's deployment names stays."""
        name = profile_name(self.job.channel_name)
        recorded = self.record.supported_content_id if self.record else None
        mine = [
            p.id
            for p in await self.client.list_supported_content()
            if p.id and (p.id == recorded or p.name == name)
        ]
        used = {
            d.supported_content.id: d.id
            for d in deployments
            if d.supported_content is not None and d.id not in leaving
        }
        for profile_id in mine:
            if profile_id in used:
                user = used[profile_id]
                self.notes.append(
                    f"supported content profile {profile_id} is used by deployment {user}: left alone"
                )
        return [p for p in mine if p not in used]

    async def _delete_profiles(self, ids: list[str]) -> Removed:
        return await self._delete_all("supported content profile", ids)

    def _is_ours(self, description: str | None) -> bool:
        marker = read_marker(description)
        return marker is not None and marker.is_for(self.job.channel_name)

    async def _delete_all(self, kind: str, ids: list[str]) -> Removed:
        found = await asyncio.gather(*(self._delete(kind, object_id) for object_id in ids))
        already = [f"{kind} {i}" for i, was in zip(ids, found, strict=True) if not was]
        return Removed(ids=ids, already_gone=already)

    async def _delete(self, kind: str, object_id: str) -> bool:
        """Delete one object; False if it was gone before we asked."""
        sends = {
            "deployment": self.client.delete_deployment,
            "configuration": self.client.delete_configuration,
            "supported content profile": self.client.delete_supported_content,
        }
        try:
            return await delete_until_done(
                lambda: sends[kind](object_id),
                what=f"{kind} {object_id}",
                attempts=self.t.create_attempts,
                pause_s=self.t.poll_initial_s,
                max_pause_s=self.t.poll_max_s,
                # Still in use by a deployment on its way out: wait for it, within the deletion budget.
                conflict_deadline=time.monotonic() + self.t.deletion_s,
            )
        except GenesysConflict as exc:
            name = self.job.channel_name
            msg = f"channel {name!r}: {kind} {object_id} is still in use: {exc.message}"
            raise ProvisioningError(msg, channel=name, step=f"{kind}_deleted") from exc

    async def _gone_all(self, kind: str, ids: list[str]) -> Removed:
        await asyncio.gather(*(self._until_gone(kind, object_id) for object_id in ids))
        return Removed(ids=ids)

    async def _until_gone(self, kind: str, object_id: str) -> None:
        """Poll GET until it answers 404, backing off from poll_initial_s to poll_max_s."""
        read = self.client.get_deployment if kind == "deployment" else self.client.get_configuration_draft
        delay = self.t.poll_initial_s
        try:
            async with asyncio.timeout(self.t.deletion_s):
                while True:
                    try:
                        await read(object_id)
                    except GenesysNotFound:
                        return
                    await asyncio.sleep(delay)
                    delay = min(self.t.poll_max_s, delay * 2)
        except TimeoutError:
            msg = (
                f"channel {self.job.channel_name!r}: {kind} {object_id} still exists "
                f"{self.t.deletion_s:.0f} s after it was deleted; "
                f"`gcwm jobs resume {self.job.id}` waits again"
            )
            raise ProvisioningError(msg, channel=self.job.channel_name, step=f"{kind}_gone") from None

    async def _step(self, name: str, model: type[R], run: Callable[[], Awaitable[R]]) -> R:
        return await self.cp.step(name, model, run, self.latency)


def record_destroyed(tx: UnitOfWork, job: Job, result: dict[str, Any], evidence: Evidence | None) -> None:
    """In the finishing transaction: the channel is removed (unless a provision of it is queued behind
    this job: then it stays desired), the slots its finished jobs' objects took are free again (never
    what an unfinished job holds), and the audit entry (and the ITSM notification) says so."""
    unfinished = {j.id: j for j in tx.jobs.unfinished(org_id=job.org_id, channel_keys=[job.channel_key])}
    if not any(j.kind == KIND_PROVISION for i, j in unfinished.items() if i != job.id):
        tx.channels.mark_removed(job.org_id, job.channel_key)
    else:
        # Still desired: its objects are gone because gcwm removed them (not behind its back).
        tx.channels.record_ids(
            job.org_id,
            job.channel_key,
            configuration_id=None,
            configuration_version=None,
            configuration_hash=None,
            supported_content_id=None,
            deployment_id=None,
            deployment_status=None,
            snippet=None,
            status="pending",
        )
    for job_id in tx.jobs.ids_of_channel(job.org_id, job.channel_key):
        if job_id not in unfinished:
            tx.slots.release(job_id, made_only=True)
    if evidence is None:
        return
    removed = result["removed"]
    summary = {"outcome": OUTCOME, "removed": removed, "latencyMs": result["latencyMs"]}
    head = evidence.for_job(
        tx,
        job,
        "channel.destroyed",
        "succeeded",
        summary,
        configuration=result["configuration"]["id"] or None,
        deployment=result["deployment"]["id"] or None,
    )
    data = {"outcome": OUTCOME, "removed": removed, "jobId": job.id}
    evidence.notify(tx, job, "channel.removed", data, head)


def _unique(ids: Iterable[str | None]) -> list[str]:
    return list(dict.fromkeys(i for i in ids if i))
