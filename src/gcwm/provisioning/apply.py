"""Apply one channel's planned change as durable, idempotent steps.

Each step's typed result is checkpointed before the next begins, so a job that dies anywhere resumes
where it stopped. Before each create or publish an intent is checkpointed; a create whose answer was
lost (this run or a crashed one) is never sent again blind: the org's listing is searched for the
object's marker first, and what is found is adopted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

import structlog

from gcwm.errors import GenesysError, GenesysNotFound, ProvisioningError
from gcwm.genesys import GenesysClient, is_outcome_unknown
from gcwm.genesys.models import WebDeployment, WebDeploymentConfigurationVersion
from gcwm.provisioning import steps
from gcwm.provisioning.checkpoints import Checkpoints
from gcwm.provisioning.listings import ActivationWatcher, OrgListings
from gcwm.provisioning.mapping import Marker, desired_configuration, desired_deployment, read_marker
from gcwm.provisioning.plan import Action, ChannelChange
from gcwm.provisioning.steps import (
    ConfigurationReady,
    CreateIntent,
    DeploymentActive,
    DeploymentReady,
    Published,
    PublishIntent,
    R,
    Replaced,
)
from gcwm.spec import ChannelSpec

log = structlog.get_logger(__name__)
_O = TypeVar("_O", WebDeployment, WebDeploymentConfigurationVersion)
_T = TypeVar("_T")


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


@dataclass
class BatchTools:
    """What every job of a batch shares: one client, the org's listings and the activation watcher."""

    client: GenesysClient
    listings: OrgListings
    watcher: ActivationWatcher
    timeouts: Timeouts


class ChannelApply:
    """Carries out one channel's change for one job."""

    def __init__(
        self,
        tools: BatchTools,
        checkpoints: Checkpoints,
        *,
        job_id: str,
        spec: ChannelSpec,
        change: ChannelChange,
    ) -> None:
        self.client = tools.client
        self.listings = tools.listings
        self.watcher = tools.watcher
        self.t = tools.timeouts
        self.cp = checkpoints
        self.job_id = job_id
        self.spec = spec
        self.change = change
        self.marker = Marker(spec.name, job_id)
        self.latency: dict[str, float] = {}
        self.notes = list(change.notes)
        self.log = log.bind(channel=spec.name, job_id=job_id)

    async def run(self) -> ChannelResult:
        if (problem := self.change.problem) is not None:
            raise ProvisioningError(
                f"channel {self.spec.name!r}: {problem.message}", channel=self.spec.name, step=problem.field
            )
        try:
            config = await self._configuration()
            published = await self._publication(config)
            deployment = await self._deployment(config, published)
            active = await self._active(deployment)
        except ProvisioningError as exc:
            if exc.channel:
                raise
            msg = f"channel {self.spec.name!r}: {exc.message}"
            raise ProvisioningError(msg, channel=self.spec.name, step=exc.step) from exc
        if self.change.deployment.action is Action.REPLACE:
            await self._retire_broken()
        return ChannelResult(
            name=self.spec.name,
            outcome=self._outcome(config, deployment),
            configuration_id=config.configuration_id,
            configuration_version=published.version,
            deployment_id=active.deployment_id,
            deployment_status=active.status,
            snippet=active.snippet,
            latency_ms={k: round(v, 1) for k, v in self.latency.items()},
            notes=self.notes,
        )

    # -- the configuration -----------------------------------------------------------------------
    async def _configuration(self) -> ConfigurationReady:
        plan = self.change.configuration
        if plan.action is Action.CREATE:
            return await self._step(
                steps.CONFIGURATION_CREATED, ConfigurationReady, self._create_configuration
            )
        assert plan.id is not None
        if plan.action is Action.UPDATE and plan.fields:
            return await self._step(
                steps.CONFIGURATION_UPDATED, ConfigurationReady, self._update_configuration
            )
        return ConfigurationReady(configuration_id=plan.id, created=False)

    async def _create_configuration(self) -> ConfigurationReady:
        body = desired_configuration(self.spec, self.marker)
        created, adopted = await self._create_once(
            steps.CONFIGURATION_CREATE_SENT,
            create=lambda: self.client.create_configuration(body),
            lookup=lambda after: self._ours(self.listings.drafts.read(after)),
        )
        assert created.id is not None
        self._note_adopted("configuration", created.id, adopted)
        return ConfigurationReady(configuration_id=created.id, created=True, adopted_lost_create=adopted)

    async def _update_configuration(self) -> ConfigurationReady:
        config_id = self.change.configuration.id
        assert config_id is not None
        await self.client.update_configuration_draft(config_id, desired_configuration(self.spec, self.marker))
        return ConfigurationReady(configuration_id=config_id, created=False)

    async def _publication(self, config: ConfigurationReady) -> Published:
        if self.change.configuration.action is Action.NOOP:
            assert self.change.published_version is not None
            return Published(configuration_id=config.configuration_id, version=self.change.published_version)
        return await self._step(
            steps.CONFIGURATION_PUBLISHED, Published, lambda: self._publish(config.configuration_id)
        )

    async def _publish(self, config_id: str) -> Published:
        current = self.change.published_version or ""
        before = int(current) if current.isdigit() else None
        if self.cp.has(steps.CONFIGURATION_PUBLISH_SENT) and (
            version := await self._new_version(config_id, before)
        ):
            self._note_adopted("publish of configuration", config_id, True)
            return Published(configuration_id=config_id, version=version, adopted_lost_publish=True)
        await self.watcher.draft_active(config_id, self.t.configuration_active_s)
        if not self.cp.has(steps.CONFIGURATION_PUBLISH_SENT):
            await self.cp.record(
                steps.CONFIGURATION_PUBLISH_SENT, PublishIntent(configuration_id=config_id, before=before)
            )
        for attempt in range(1, self.t.create_attempts + 1):
            try:
                answer = await self.client.publish_configuration_draft(config_id)
                return Published(configuration_id=config_id, version=answer.version or "")
            except GenesysError as exc:
                if not is_outcome_unknown(exc) or attempt == self.t.create_attempts:
                    raise
                self.log.warning("publish.outcome_unknown", error=exc.message, attempt=attempt)
                if version := await self._new_version(config_id, before):
                    self._note_adopted("publish of configuration", config_id, True)
                    return Published(configuration_id=config_id, version=version, adopted_lost_publish=True)
                await self._back_off(attempt)
        raise AssertionError("unreachable: the last attempt re-raises")

    async def _new_version(self, config_id: str, before: int | None) -> str | None:
        """A published version above `before`, if the publish we sent happened after all."""

        async def look(after: float) -> str | None:
            latest = (await self.listings.published.read(after)).get(config_id)
            number = latest.number if latest is not None else None
            return (
                latest.version
                if latest is not None and number is not None and number > (before or 0)
                else None
            )

        return await self._settled(look)

    # -- the deployment --------------------------------------------------------------------------
    async def _deployment(self, config: ConfigurationReady, published: Published) -> DeploymentReady:
        plan = self.change.deployment
        assert self.change.flow_id is not None
        body = desired_deployment(
            self.spec,
            self.marker,
            configuration_id=config.configuration_id,
            configuration_version=published.version,
            flow_id=self.change.flow_id,
        )
        if plan.action in (Action.CREATE, Action.REPLACE):
            return await self._step(
                steps.DEPLOYMENT_CREATED, DeploymentReady, lambda: self._create_deployment(body)
            )
        assert plan.id is not None
        deployment_id = plan.id
        republished = self.change.configuration.action is not Action.NOOP
        if plan.action is Action.UPDATE or republished:

            async def update() -> DeploymentReady:
                await self.client.update_deployment(deployment_id, body)
                return DeploymentReady(deployment_id=deployment_id, created=False)

            return await self._step(steps.DEPLOYMENT_UPDATED, DeploymentReady, update)
        return DeploymentReady(deployment_id=deployment_id, created=False)

    async def _create_deployment(self, body: WebDeployment) -> DeploymentReady:
        created, adopted = await self._create_once(
            steps.DEPLOYMENT_CREATE_SENT,
            create=lambda: self.client.create_deployment(body),
            lookup=lambda after: self._ours(self.listings.deployments.read(after)),
        )
        assert created.id is not None
        self._note_adopted("deployment", created.id, adopted)
        return DeploymentReady(deployment_id=created.id, created=True, adopted_lost_create=adopted)

    async def _active(self, deployment: DeploymentReady) -> DeploymentActive:
        async def wait() -> DeploymentActive:
            if self._wrote_deployment() or not self.change.deployment_active:
                found = await self.watcher.deployment_active(
                    deployment.deployment_id, self.t.deployment_active_s
                )
                return DeploymentActive(
                    deployment_id=deployment.deployment_id,
                    status=found.status or "",
                    snippet=found.snippet or "",
                )
            # Unchanged and Active when observed: what was read is the state to report.
            return DeploymentActive(
                deployment_id=deployment.deployment_id,
                status=self.change.deployment_status or "",
                snippet=self.change.snippet or "",
            )

        return await self._step(steps.DEPLOYMENT_ACTIVE, DeploymentActive, wait)

    async def _retire_broken(self) -> None:
        broken = self.change.deployment.id
        assert broken is not None

        async def remove() -> Replaced:
            try:
                await self.client.delete_deployment(broken)
            except GenesysNotFound:
                pass
            except GenesysError as exc:
                self.notes.append(
                    f"could not remove the broken deployment {broken} ({exc.message}); remove it by hand"
                )
                return Replaced(old_deployment_id=broken, removed=False)
            return Replaced(old_deployment_id=broken, removed=True)

        done = await self._step(steps.DEPLOYMENT_REPLACED, Replaced, remove)
        if done.removed:
            self.notes.append(
                f"removed the broken deployment {broken}; update the website to the new snippet"
            )

    def _wrote_deployment(self) -> bool:
        return self.cp.has(steps.DEPLOYMENT_CREATED) or self.cp.has(steps.DEPLOYMENT_UPDATED)

    # -- creates that are never duplicated -------------------------------------------------------
    async def _create_once(
        self,
        intent_step: str,
        *,
        create: Callable[[], Awaitable[_O]],
        lookup: Callable[[float], Awaitable[_O | None]],
    ) -> tuple[_O, bool]:
        """Create, unless an earlier attempt (this run or a crashed one) already did; (object, adopted)."""
        if self.cp.has(intent_step):
            # An earlier attempt sent this create and got no answer it could record.
            if (existing := await self._settled(lookup)) is not None:
                return existing, True
        else:
            await self.cp.record(intent_step, CreateIntent(marker=self.marker.render()))
        for attempt in range(1, self.t.create_attempts + 1):
            try:
                return await create(), False
            except GenesysError as exc:
                if not is_outcome_unknown(exc) or attempt == self.t.create_attempts:
                    raise
                self.log.warning("create.outcome_unknown", error=exc.message, attempt=attempt)
                if (existing := await self._settled(lookup)) is not None:
                    return existing, True
                await self._back_off(attempt)
        raise AssertionError("unreachable: the last attempt re-raises")

    async def _ours(self, listing: Awaitable[dict[str, _O]]) -> _O | None:
        """The object this job's marker names, if the listing has it."""
        for obj in (await listing).values():
            marker = read_marker(obj.description)
            if marker is not None and marker.job == self.job_id and marker.is_for(self.spec.name):
                return obj
        return None

    async def _settled(self, lookup: Callable[[float], Awaitable[_T | None]]) -> _T | None:
        # Listings may lag a write slightly: look twice, a moment apart, before concluding "not made".
        if (found := await lookup(time.monotonic())) is not None:
            return found
        await asyncio.sleep(self.t.lookup_settle_s)
        return await lookup(time.monotonic())

    async def _back_off(self, attempt: int) -> None:
        await asyncio.sleep(min(self.t.poll_max_s, self.t.poll_initial_s * 2**attempt))

    def _note_adopted(self, what: str, object_id: str, adopted: bool) -> None:
        if adopted:
            self.notes.append(
                f"{what} {object_id}: the answer to the request was lost; found what it made and carried on "
                "(sent once)"
            )
            self.log.info("create.adopted_after_lost_answer", object_id=object_id)

    # -- helpers ---------------------------------------------------------------------------------
    async def _step(self, name: str, model: type[R], run: Callable[[], Awaitable[R]]) -> R:
        return await self.cp.step(name, model, run, self.latency)

    def _outcome(self, config: ConfigurationReady, deployment: DeploymentReady) -> str:
        change = self.change
        if change.deployment.action is Action.REPLACE:
            return "replaced"
        if change.recorded and (config.created or deployment.created):
            return "recreated"
        if config.created and deployment.created:
            return "created"
        if change.action is not Action.NOOP:
            return "updated"
        return "unchanged" if change.recorded else "adopted"
