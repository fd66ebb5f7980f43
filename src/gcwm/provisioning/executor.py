"""Provision one channel as a sequence of durable, idempotent steps.

Each step's result is checkpointed before the next begins, so a job that dies anywhere resumes where
it stopped. Creates are tagged with a marker (channel and job); a create whose answer was lost is
never sent again blind: the org is searched for the marker first, and what is found is adopted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar, cast

import structlog

from gcwm.errors import (
    GcwmError,
    GenesysConflict,
    GenesysError,
    GenesysNotFound,
    JobError,
    ProvisioningError,
)
from gcwm.genesys import GenesysClient, is_outcome_unknown
from gcwm.genesys.models import Flow, WebDeployment, WebDeploymentConfigurationVersion
from gcwm.observability.metrics import PROVISION_STEP_SECONDS
from gcwm.provisioning import steps
from gcwm.provisioning.inventory import OrgInventory
from gcwm.provisioning.mapping import (
    Marker,
    channel_key,
    configuration_differs,
    deployment_differs,
    desired_configuration,
    desired_deployment,
    read_marker,
)
from gcwm.provisioning.polling import ActivationClock
from gcwm.spec import ChannelSpec, EntityReference

log = structlog.get_logger(__name__)
T = TypeVar("T")
_O = TypeVar("_O", WebDeployment, WebDeploymentConfigurationVersion)


class Checkpoints(Protocol):
    """Where a job's finished steps are kept (the store, in production and in tests)."""

    def done(self, step: str) -> tuple[dict[str, Any], float] | None:
        """The data and duration (ms) of a finished step, or None."""

    async def record(self, step: str, data: dict[str, Any], duration_ms: float) -> None:
        """Persist a finished step; raises if this worker no longer owns the job."""


@dataclass(frozen=True)
class KnownIds:
    """What gcwm's own store says it made for this channel earlier (not trusted over the org)."""

    configuration_id: str | None = None
    deployment_id: str | None = None


@dataclass(frozen=True)
class Timeouts:
    """How long to wait for Genesys to make things Active, and how often to look."""

    configuration_active_s: float = 60.0
    deployment_active_s: float = 180.0
    poll_initial_s: float = 0.25
    poll_max_s: float = 2.0
    create_attempts: int = 8
    lookup_settle_s: float = 1.0


@dataclass
class ChannelResult:
    """What provisioning one channel produced."""

    name: str
    outcome: str  # created | updated | unchanged | recreated | adopted
    configuration_id: str
    configuration_version: str
    deployment_id: str
    deployment_status: str
    snippet: str
    latency_ms: dict[str, float] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class ChannelProvisioner:
    """Runs the steps for one channel against one org, through one Genesys client."""

    def __init__(
        self,
        client: GenesysClient,
        inventory: OrgInventory,
        *,
        timeouts: Timeouts | None = None,
    ) -> None:
        self._client = client
        self._inventory = inventory
        self._timeouts = timeouts or Timeouts()
        self._clock = ActivationClock()
        self._resolved: dict[tuple[str, str], object] = {}

    async def provision(
        self,
        spec: ChannelSpec,
        *,
        job_id: str,
        checkpoints: Checkpoints,
        known: KnownIds | None = None,
    ) -> ChannelResult:
        run = _Run(self, spec, job_id, checkpoints, known or KnownIds())
        started = time.perf_counter()
        try:
            result = await run.execute()
        except JobError:
            raise  # our lease was lost: the job's new owner carries on, nothing is undone
        except GcwmError as exc:
            await run.roll_back_after(exc)
            raise
        result.latency_ms["total"] = round((time.perf_counter() - started) * 1000, 1)
        return result


class _Run:
    """One execution of the steps for one channel (state lives in the checkpoints)."""

    def __init__(
        self,
        owner: ChannelProvisioner,
        spec: ChannelSpec,
        job_id: str,
        checkpoints: Checkpoints,
        known: KnownIds,
    ) -> None:
        self.client = owner._client
        self.inventory = owner._inventory
        self.t = owner._timeouts
        self.clock = owner._clock
        self.resolved = owner._resolved
        self.spec = spec
        self.job_id = job_id
        self.cp = checkpoints
        self.known = known
        self.marker = Marker(channel_key(spec.name), job_id)
        self.latency: dict[str, float] = {}
        self.log = log.bind(channel=spec.name, job_id=job_id)

    # -- the steps ----------------------------------------------------------------------------
    async def execute(self) -> ChannelResult:
        found = await self._step(steps.DISCOVERED, self._discover)
        await self._step(steps.QUEUE_RESOLVED, self._resolve_queue)
        flow = await self._step(steps.FLOW_RESOLVED, self._resolve_flow)
        config = await self._step(steps.CONFIGURATION_CREATED, lambda: self._ensure_configuration(found))
        published = await self._step(steps.CONFIGURATION_PUBLISHED, lambda: self._ensure_published(config))
        deployment = await self._step(
            steps.DEPLOYMENT_CREATED,
            lambda: self._ensure_deployment(found, published, flow["flowId"]),
        )
        active = await self._step(steps.DEPLOYMENT_ACTIVE, lambda: self._wait_deployment_active(deployment))
        return ChannelResult(
            name=self.spec.name,
            outcome=self._outcome(found, config, published, deployment),
            configuration_id=config["configurationId"],
            configuration_version=published["version"],
            deployment_id=deployment["deploymentId"],
            deployment_status=active["status"],
            snippet=active["snippet"],
            latency_ms={k: round(v, 1) for k, v in self.latency.items()},
            notes=list(found.get("notes", [])),
        )

    async def _discover(self) -> dict[str, Any]:
        """Find what already exists for this channel; the org's word beats the local record."""
        notes: list[str] = []
        config_id = deployment_id = None
        if self.known.configuration_id or self.known.deployment_id:
            config_id = await self._existing_configuration(self.known.configuration_id)
            deployment_id = await self._existing_deployment(self.known.deployment_id)
            if config_id is None or deployment_id is None:
                notes.append(
                    "recorded locally but gone from the org: recreating "
                    + ", ".join(
                        kind
                        for kind, present in (
                            ("configuration", config_id),
                            ("deployment", deployment_id),
                        )
                        if present is None
                    )
                )
        if config_id is None or deployment_id is None:
            managed = await self.inventory.snapshot()
            key = channel_key(self.spec.name)
            if config_id is None and (configs := managed.configurations.get(key)):
                config_id = configs[0].id
                notes.append(f"adopted configuration {config_id} that gcwm made earlier")
            if deployment_id is None and (deps := managed.deployments.get(key)):
                deployment_id = deps[0].id
                notes.append(f"adopted deployment {deployment_id} that gcwm made earlier")
        recorded = bool(self.known.configuration_id or self.known.deployment_id)
        return {
            "configurationId": config_id,
            "deploymentId": deployment_id,
            "recorded": recorded,
            "notes": notes,
        }

    async def _existing_configuration(self, config_id: str | None) -> str | None:
        if not config_id:
            return None
        try:
            await self.client.get_configuration_draft(config_id)
        except GenesysNotFound:
            return None
        return config_id

    async def _existing_deployment(self, deployment_id: str | None) -> str | None:
        return deployment_id if await self._deployment_or_none(deployment_id) else None

    async def _resolve_queue(self) -> dict[str, Any]:
        queue = await self._find(
            self.spec.routing_queue,
            "routing queue",
            "routingQueue",
            get=self.client.get_queue,
            search=self.client.find_queues,
            hint="create the queue in Genesys Cloud (Admin > Contact Center > Queues) or fix routingQueue",
        )
        return {"queueId": queue.id, "queueName": queue.name}

    async def _resolve_flow(self) -> dict[str, Any]:
        queue_name = (self.cp.done(steps.QUEUE_RESOLVED) or ({}, 0.0))[0].get("queueName", "")
        hint = (
            "create and publish an Inbound Message flow in Architect that transfers to queue "
            f"{queue_name!r}, or fix inboundMessageFlow"
        )
        flow: Flow = await self._find(
            self.spec.inbound_message_flow,
            "inbound message flow",
            "inboundMessageFlow",
            get=self.client.get_flow,
            search=self.client.find_flows,
            hint=hint,
        )
        if flow.type is not None and flow.type != "INBOUNDSHORTMESSAGE":
            msg = (
                f"inboundMessageFlow: flow {flow.name!r} is of type {flow.type}, "
                f"not INBOUNDSHORTMESSAGE; {hint}"
            )
            raise self._fail(msg, steps.FLOW_RESOLVED)
        if flow.published_version is None:
            msg = (
                f"inboundMessageFlow: flow {flow.name!r} ({flow.id}) is not published; "
                "publish it in Architect"
            )
            raise self._fail(msg, steps.FLOW_RESOLVED)
        return {"flowId": flow.id, "flowName": flow.name}

    async def _ensure_configuration(self, found: dict[str, Any]) -> dict[str, Any]:
        if found.get("configurationId"):
            return {"configurationId": found["configurationId"], "created": False}
        body = desired_configuration(self.spec, self.marker)
        created = await self._create_once(
            steps.CONFIGURATION_CREATE_SENT,
            create=lambda: self.client.create_configuration(body),
            lookup=self._lookup_configuration,
        )
        assert created.id is not None
        self.log.info("configuration.created", configuration_id=created.id)
        return {"configurationId": created.id, "created": True}

    async def _ensure_published(self, config: dict[str, Any]) -> dict[str, Any]:
        config_id = config["configurationId"]
        desired = desired_configuration(self.spec, self.marker)
        before: list[str] = []
        # A configuration this job just created has nothing published, unless a publish was sent
        # before a crash: then look, as for any configuration that existed already.
        resent = self.cp.done(steps.CONFIGURATION_PUBLISH_SENT) is not None
        if not config.get("created") or resent:
            versions = await self.client.list_configuration_versions(config_id)
            published = _latest_published(versions)
            if published is not None and not configuration_differs(desired, published):
                changed = bool(config.get("created"))
                return {"configurationId": config_id, "version": published.version, "changed": changed}
            before = [v.version for v in versions if v.version]
            draft = next((v for v in versions if (v.version or "").upper() == "DRAFT"), None)
            if draft is None or configuration_differs(desired, draft):
                await self.client.update_configuration_draft(config_id, desired)
        await self._wait_until(
            lambda: self.client.get_configuration_draft(config_id),
            "configuration draft",
            config_id,
            self.t.configuration_active_s,
        )
        if not resent:
            await self.cp.record(steps.CONFIGURATION_PUBLISH_SENT, {"configurationId": config_id}, 0.0)
        version = await self._publish(config_id, before)
        self.log.info("configuration.published", configuration_id=config_id, version=version)
        return {"configurationId": config_id, "version": version, "changed": True}

    async def _ensure_deployment(
        self, found: dict[str, Any], published: dict[str, Any], flow_id: str
    ) -> dict[str, Any]:
        desired = desired_deployment(
            self.spec,
            self.marker,
            configuration_id=published["configurationId"],
            configuration_version=published["version"],
            flow_id=flow_id,
        )
        observed = await self._deployment_or_none(found.get("deploymentId"))
        if observed is not None and observed.id:
            deployment_id = observed.id
            changed = deployment_differs(desired, observed)
            if changed:
                await self.client.update_deployment(deployment_id, desired)
                self.log.info("deployment.updated", deployment_id=deployment_id, fields=changed)
                return {"deploymentId": deployment_id, "created": False, "changed": True}
            # Unchanged: what we just read is the state to report; no need to poll for it.
            return {
                "deploymentId": deployment_id,
                "created": False,
                "changed": False,
                "status": observed.status,
                "snippet": observed.snippet or "",
            }
        created = await self._create_once(
            steps.DEPLOYMENT_CREATE_SENT,
            create=lambda: self.client.create_deployment(desired),
            lookup=self._lookup_deployment,
        )
        assert created.id is not None
        self.log.info("deployment.created", deployment_id=created.id)
        return {"deploymentId": created.id, "created": True, "changed": True}

    async def _deployment_or_none(self, deployment_id: str | None) -> WebDeployment | None:
        # Found earlier, but it may have been deleted since (by a person, or by Genesys).
        if not deployment_id:
            return None
        try:
            deployment = await self.client.get_deployment(deployment_id)
        except GenesysNotFound:
            return None
        return None if deployment.status == "Deleting" else deployment

    async def _wait_deployment_active(self, step: dict[str, Any]) -> dict[str, Any]:
        deployment_id = step["deploymentId"]
        if not step["changed"] and step.get("status") == "Active":
            return {"deploymentId": deployment_id, "status": "Active", "snippet": step["snippet"]}
        deployment = await self._wait_until(
            lambda: self.client.get_deployment(deployment_id),
            "deployment",
            deployment_id,
            self.t.deployment_active_s,
        )
        return {
            "deploymentId": deployment_id,
            "status": deployment.status,
            "snippet": deployment.snippet or "",
        }

    # -- creates that are never duplicated -----------------------------------------------------
    async def _create_once(
        self,
        intent_step: str,
        *,
        create: Callable[[], Awaitable[T]],
        lookup: Callable[[], Awaitable[T | None]],
    ) -> T:
        """Create, unless an earlier attempt (this run or a crashed one) already did."""
        if self.cp.done(intent_step) is not None:
            # A previous worker sent this create and died before recording the answer.
            if (existing := await self._settled_lookup(lookup)) is not None:
                return existing
        else:
            await self.cp.record(intent_step, {"marker": self.marker.render()}, 0.0)
        for attempt in range(1, self.t.create_attempts + 1):
            try:
                return await create()
            except GenesysError as exc:
                if not is_outcome_unknown(exc) or attempt == self.t.create_attempts:
                    raise
                self.log.warning("create.outcome_unknown", error=exc.message, attempt=attempt)
                if (existing := await self._settled_lookup(lookup)) is not None:
                    self.log.info("create.adopted_after_lost_answer")
                    return existing
                await asyncio.sleep(min(self.t.poll_max_s, self.t.poll_initial_s * 2**attempt))
        msg = "unreachable"
        raise AssertionError(msg)

    async def _settled_lookup(self, lookup: Callable[[], Awaitable[T | None]]) -> T | None:
        # Listings may lag a create slightly: look twice before concluding nothing was made.
        if (found := await lookup()) is not None:
            return found
        await asyncio.sleep(self.t.lookup_settle_s)
        return await lookup()

    async def _lookup_configuration(self) -> WebDeploymentConfigurationVersion | None:
        return _ours(await self.inventory.fresh_configurations(self.spec.name), self.job_id)

    async def _lookup_deployment(self) -> WebDeployment | None:
        return _ours(await self.inventory.fresh_deployments(self.spec.name), self.job_id)

    async def _publish(self, config_id: str, before: list[str]) -> str:
        for attempt in range(1, self.t.create_attempts + 1):
            try:
                version = (await self.client.publish_configuration_draft(config_id)).version
                return version or ""
            except GenesysError as exc:
                if not is_outcome_unknown(exc) or attempt == self.t.create_attempts:
                    raise
                # Did the publish happen? A numbered version that was not there before says yes.
                versions = await self.client.list_configuration_versions(config_id)
                new = [v for v in versions if v.version and v.version.isdigit() and v.version not in before]
                if new:
                    return max(new, key=lambda v: int(v.version or 0)).version or ""
        msg = "unreachable"
        raise AssertionError(msg)

    # -- helpers ----------------------------------------------------------------------------
    async def _step(self, name: str, run: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
        if (done := self.cp.done(name)) is not None:
            data, ms = done
            self.latency[name] = ms
            return data
        started = time.perf_counter()
        outcome = "error"
        try:
            data = await run()
            outcome = "ok"
        finally:
            elapsed = time.perf_counter() - started
            PROVISION_STEP_SECONDS.labels(step=name, outcome=outcome).observe(elapsed)
        ms = round(elapsed * 1000, 1)
        await self.cp.record(name, data, ms)
        self.latency[name] = ms
        return data

    async def _find(
        self,
        ref: EntityReference,
        what: str,
        field_name: str,
        *,
        get: Callable[[str], Awaitable[T]],
        search: Callable[[str], Awaitable[list[T]]],
        hint: str,
    ) -> T:
        # Queues and flows are shared by many channels: one run looks each up once. A miss is not
        # remembered, so it is reported per channel, and a queue made meanwhile is found next time.
        key = (what, ref.id or (ref.name or "").casefold())
        if (hit := self.resolved.get(key)) is not None:
            return cast(T, hit)
        if ref.id is not None:
            try:
                found = await get(ref.id)
            except GenesysNotFound as exc:
                msg = f"{field_name}: {what} with id {ref.id} not found in the org; {hint}"
                raise self._fail(msg, field_name) from exc
        else:
            assert ref.name is not None
            matches = await search(ref.name)
            if not matches:
                msg = f"{field_name}: {what} {ref.name!r} not found in the org; {hint}"
                raise self._fail(msg, field_name)
            if len(matches) > 1:
                ids = ", ".join(str(getattr(m, "id", "?")) for m in matches)
                msg = (
                    f"{field_name}: {len(matches)} {what}s are named {ref.name!r} ({ids}); "
                    "give its id instead"
                )
                raise self._fail(msg, field_name)
            found = matches[0]
        self.resolved[key] = found
        return found

    async def _wait_until(
        self,
        fetch: Callable[[], Awaitable[Any]],
        what: str,
        object_id: str,
        timeout_s: float,
    ) -> Any:
        """Poll until status is Active; Error fails at once; 404 means "not there yet"."""
        started = time.monotonic()
        deadline = started + timeout_s
        # Right after a create or publish the answer is Pending: wait before the first look.
        await asyncio.sleep(self.clock.first_delay(what, self.t.poll_initial_s))
        delay = self.t.poll_initial_s
        status = "unknown"
        while True:
            try:
                obj = await fetch()
                status = obj.status or "unknown"
                if status == "Active":
                    self.clock.observe(what, time.monotonic() - started)
                    return obj
                if status == "Error":
                    msg = f"{what} {object_id} went to status Error in Genesys Cloud"
                    raise self._fail(msg, what)
            except GenesysNotFound:
                status = "not yet visible"  # read-after-write: Terraform retries 404 here too
            if time.monotonic() + delay > deadline:
                msg = f"{what} {object_id} was still {status} after {timeout_s:.0f} s"
                raise self._fail(msg, what)
            await asyncio.sleep(delay)
            delay = min(self.t.poll_max_s, delay * 1.5)

    def _fail(self, message: str, step: str) -> ProvisioningError:
        return ProvisioningError(f"channel {self.spec.name!r}: {message}", channel=self.spec.name, step=step)

    def _outcome(
        self,
        found: dict[str, Any],
        config: dict[str, Any],
        published: dict[str, Any],
        deployment: dict[str, Any],
    ) -> str:
        if found.get("recorded") and (config.get("created") or deployment.get("created")):
            return "recreated"
        if config.get("created") and deployment.get("created"):
            return "created"
        if published.get("changed") or deployment.get("changed"):
            return "updated"
        return "unchanged" if found.get("recorded") else "adopted"

    # -- undo ---------------------------------------------------------------------------------
    async def roll_back_after(self, exc: GcwmError) -> None:
        """After a permanent failure, remove what this job created, so nothing half-made stays."""
        if isinstance(exc, GenesysError) and is_outcome_unknown(exc):
            return  # transient trouble: keep the work, the job can be resumed
        created_deployment = self.cp.done(steps.DEPLOYMENT_CREATED)
        created_config = self.cp.done(steps.CONFIGURATION_CREATED)
        removed: list[str] = []
        if created_deployment and created_deployment[0].get("created"):
            dep_id = created_deployment[0]["deploymentId"]
            await self._delete(lambda: self.client.delete_deployment(dep_id))
            removed.append(f"deployment {dep_id}")
        if created_config and created_config[0].get("created"):
            cfg_id = created_config[0]["configurationId"]
            await self._delete(lambda: self.client.delete_configuration(cfg_id))
            removed.append(f"configuration {cfg_id}")
        if removed:
            self.log.warning("channel.rolled_back", removed=removed)
            await self.cp.record(steps.ROLLED_BACK, {"removed": removed}, 0.0)
            exc.message += f" (rolled back: removed {', '.join(removed)})"
            exc.args = (exc.message,)

    async def _delete(self, delete: Callable[[], Awaitable[None]]) -> None:
        deadline = time.monotonic() + 30.0
        while True:
            try:
                await delete()
                return
            except GenesysNotFound:
                return
            except GenesysConflict:
                # The configuration is still in use while its deployment is being deleted.
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)


def _latest_published(
    versions: list[WebDeploymentConfigurationVersion],
) -> WebDeploymentConfigurationVersion | None:
    numbered = [v for v in versions if v.version and v.version.isdigit()]
    return max(numbered, key=lambda v: int(v.version or 0)) if numbered else None


def _ours(objects: list[_O], job_id: str) -> _O | None:
    for obj in objects:
        marker = read_marker(obj.description)
        if marker is not None and marker.job == job_id:
            return obj
    return None
