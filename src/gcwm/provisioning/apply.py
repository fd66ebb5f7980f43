"""Apply one channel's planned change as durable, idempotent steps.

Each step's typed result is checkpointed before the next begins, so a job that dies anywhere resumes
where it stopped. Before each create or publish an intent is checkpointed; a create whose answer was
lost (this run or a crashed one) is never sent again blind: the org's listing is searched for the
object's marker first, and what is found is adopted (gcwm.provisioning.writes). A publish whose
answer was lost is found in the configuration's versions.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

import structlog

from gcwm.errors import GenesysError, GenesysNotFound, ProvisioningError
from gcwm.genesys import is_outcome_unknown
from gcwm.genesys.models import (
    SupportedContent,
    WebDeployment,
    WebDeploymentConfigurationVersion,
    latest_published,
)
from gcwm.provisioning import steps
from gcwm.provisioning.checkpoints import Checkpoints
from gcwm.provisioning.mapping import (
    Marker,
    content_hash,
    desired_configuration,
    desired_deployment,
    desired_supported_content,
    read_marker,
)
from gcwm.provisioning.plan import Action, ChannelChange
from gcwm.provisioning.steps import (
    ConfigurationReady,
    DeploymentActive,
    DeploymentReady,
    Published,
    PublishIntent,
    R,
    Replaced,
    SupportedContentReady,
)
from gcwm.provisioning.tools import BatchTools, ChannelResult
from gcwm.provisioning.writes import Writes
from gcwm.spec import ChannelSpec

log = structlog.get_logger(__name__)
_O = TypeVar("_O", WebDeployment, WebDeploymentConfigurationVersion)


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
        self.writes = Writes(
            checkpoints,
            self.notes,
            attempts=self.t.create_attempts,
            settle_s=self.t.lookup_settle_s,
            backoff_initial_s=self.t.poll_initial_s,
            backoff_max_s=self.t.poll_max_s,
            marker=self.marker.render(),
            in_flight_s=self.client.transport.timeout_s,
        )
        self.writes.log = self.log

    async def run(self) -> ChannelResult:
        if (problem := self.change.problem) is not None:
            raise ProvisioningError(
                f"channel {self.spec.name!r}: {problem.message}", channel=self.spec.name, step=problem.field
            )
        try:
            config = await self._configuration()
            published = await self._publication(config)
            profile = await self._supported_content()
            deployment = await self._deployment(config, published, profile)
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
            supported_content_id=profile.profile_id if profile is not None else None,
        )

    # -- the configuration -----------------------------------------------------------------------
    async def _configuration(self) -> ConfigurationReady:
        plan = self.change.configuration
        if plan.action is Action.CREATE:
            return await self._step(
                steps.CONFIGURATION_CREATED, ConfigurationReady, self._create_configuration
            )
        assert plan.id is not None
        if plan.action is Action.UPDATE and plan.send_draft:
            return await self._step(
                steps.CONFIGURATION_UPDATED, ConfigurationReady, self._update_configuration
            )
        return ConfigurationReady(configuration_id=plan.id, created=False)

    async def _create_configuration(self) -> ConfigurationReady:
        body = desired_configuration(self.spec, self.marker)
        created, adopted = await self.writes.create_once(
            steps.CONFIGURATION_CREATE_SENT,
            what="configuration create",
            create=lambda: self.client.create_configuration(body),
            lookup=lambda after: self._ours(self.listings.drafts.read(after)),
        )
        assert created.id is not None
        self._note_adopted("configuration", created.id, adopted)
        return ConfigurationReady(configuration_id=created.id, created=True, adopted_lost_create=adopted)

    async def _update_configuration(self) -> ConfigurationReady:
        config_id = self.change.configuration.id
        assert config_id is not None
        body = desired_configuration(self.spec, self.marker)
        await self.writes.update(
            "configuration draft update",
            lambda: self.client.update_configuration_draft(config_id, body),
            lambda: self.client.get_configuration_draft(config_id),
        )
        return ConfigurationReady(configuration_id=config_id, created=False)

    async def _publication(self, config: ConfigurationReady) -> Published:
        plan = self.change.configuration
        if plan.action is Action.NOOP or (plan.action is Action.UPDATE and not plan.publish):
            # The live version already holds the spec (a draft put back needs no new version).
            assert self.change.published_version is not None
            return Published(
                configuration_id=config.configuration_id,
                version=self.change.published_version,
                content_hash=self.change.published_hash,
            )
        return await self._step(
            steps.CONFIGURATION_PUBLISHED, Published, lambda: self._publish(config.configuration_id)
        )

    async def _publish(self, config_id: str) -> Published:
        current = self.change.published_version or ""
        before = int(current) if current.isdigit() else None
        published = content_hash(desired_configuration(self.spec, self.marker))
        if self.cp.has(steps.CONFIGURATION_PUBLISH_SENT) and (
            version := await self._new_version(config_id, before)
        ):
            self._note_adopted("publish of configuration", config_id, True)
            return Published(
                configuration_id=config_id, version=version, adopted_lost_publish=True, content_hash=published
            )
        await self.watcher.draft_active(config_id, self.t.configuration_active_s)
        if not self.cp.has(steps.CONFIGURATION_PUBLISH_SENT):
            await self.cp.record(
                steps.CONFIGURATION_PUBLISH_SENT, PublishIntent(configuration_id=config_id, before=before)
            )
        for attempt in range(1, self.t.create_attempts + 1):
            try:
                async with self.writes.counting_retries("publish"):
                    answer = await self.client.publish_configuration_draft(config_id)
                return Published(
                    configuration_id=config_id, version=answer.version or "", content_hash=published
                )
            except GenesysError as exc:
                if not is_outcome_unknown(exc) or attempt == self.t.create_attempts:
                    raise
                self.log.warning("publish.outcome_unknown", error=exc.message, attempt=attempt)
                if version := await self._new_version(config_id, before):
                    self._note_adopted("publish of configuration", config_id, True)
                    return Published(
                        configuration_id=config_id,
                        version=version,
                        adopted_lost_publish=True,
                        content_hash=published,
                    )
                await self.writes.back_off(attempt)
        raise AssertionError("unreachable: the last attempt re-raises")

    async def _new_version(self, config_id: str, before: int | None) -> str | None:
        """A published version above `before`, if the publish we sent happened after all: read from the
        configuration's versions (the drafts listing never shows one)."""

        async def look(_after: float) -> str | None:
            latest = latest_published(await self.client.list_configuration_versions(config_id))
            number = latest.number if latest is not None else None
            return (
                latest.version
                if latest is not None and number is not None and number > (before or 0)
                else None
            )

        return await self.writes.settled(look)

    # -- the supported content profile -----------------------------------------------------------
    async def _supported_content(self) -> SupportedContentReady | None:
        wanted = desired_supported_content(self.spec)
        plan = self.change.supported_content
        if wanted is None:
            return None
        if plan.action is Action.CREATE:
            return await self._step(
                steps.SUPPORTED_CONTENT_READY, SupportedContentReady, lambda: self._create_profile(wanted)
            )
        assert plan.id is not None
        profile_id = plan.id
        if plan.action is Action.UPDATE:

            async def update() -> SupportedContentReady:
                await self.writes.update(
                    "supported content profile update",
                    lambda: self.client.update_supported_content(profile_id, wanted),
                    lambda: self.client.get_supported_content(profile_id),
                )
                return SupportedContentReady(profile_id=profile_id, created=False)

            return await self._step(steps.SUPPORTED_CONTENT_READY, SupportedContentReady, update)
        return SupportedContentReady(profile_id=profile_id, created=False)

    async def _create_profile(self, wanted: SupportedContent) -> SupportedContentReady:
        async def named(_after: float) -> SupportedContent | None:
            # A profile carries no description to mark: gcwm names it for its channel instead.
            return next(
                (p for p in await self.client.list_supported_content() if p.name == wanted.name), None
            )

        created, adopted = await self.writes.create_once(
            steps.SUPPORTED_CONTENT_CREATE_SENT,
            what="supported content profile create",
            create=lambda: self.client.create_supported_content(wanted),
            lookup=named,
        )
        assert created.id is not None
        self._note_adopted("supported content profile", created.id, adopted)
        return SupportedContentReady(profile_id=created.id, created=True, adopted_lost_create=adopted)

    # -- the deployment --------------------------------------------------------------------------
    async def _deployment(
        self, config: ConfigurationReady, published: Published, profile: SupportedContentReady | None
    ) -> DeploymentReady:
        plan = self.change.deployment
        assert self.change.flow_id is not None
        body = desired_deployment(
            self.spec,
            self.marker,
            configuration_id=config.configuration_id,
            configuration_version=published.version,
            flow_id=self.change.flow_id,
            supported_content_id=profile.profile_id if profile is not None else None,
        )
        if plan.action in (Action.CREATE, Action.REPLACE):
            return await self._step(
                steps.DEPLOYMENT_CREATED, DeploymentReady, lambda: self._create_deployment(body)
            )
        assert plan.id is not None
        deployment_id = plan.id
        republished = self.cp.has(steps.CONFIGURATION_PUBLISHED)
        if plan.action is Action.UPDATE or republished:

            async def update() -> DeploymentReady:
                await self.writes.update(
                    "deployment update",
                    lambda: self.client.update_deployment(deployment_id, body),
                    lambda: self.client.get_deployment(deployment_id),
                )
                return DeploymentReady(deployment_id=deployment_id, created=False)

            return await self._step(steps.DEPLOYMENT_UPDATED, DeploymentReady, update)
        return DeploymentReady(deployment_id=deployment_id, created=False)

    async def _create_deployment(self, body: WebDeployment) -> DeploymentReady:
        created, adopted = await self.writes.create_once(
            steps.DEPLOYMENT_CREATE_SENT,
            what="deployment create",
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
    async def _ours(self, listing: Awaitable[dict[str, _O]]) -> _O | None:
        """The object this job's marker names, if the listing has it."""
        for obj in (await listing).values():
            if obj.is_deleting:
                continue  # on its way out (deleted behind our back): adopting it would leave nothing
            marker = read_marker(obj.description)
            if marker is not None and marker.job == self.job_id and marker.is_for(self.spec.name):
                return obj
        return None

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
        if change.recreating and (config.created or deployment.created):
            return "recreated"
        if config.created and deployment.created:
            return "created"
        if change.action is not Action.NOOP:
            return "updated"
        return "unchanged" if change.recorded else "adopted"
