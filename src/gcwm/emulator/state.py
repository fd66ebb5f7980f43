"""The emulated organisation: queues, flows, configurations, deployments and supported content
profiles (profiles.py), behind one lock.

Uvicorn serves the app on one event loop, but tests and the embedding process may read the state
from other threads, hence the lock. Routes that render several objects hold `state.lock` (an RLock)
while they do, so they never see a half-made change."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gcwm.emulator import persistence
from gcwm.emulator.entities import Configuration, ConfigVersion, Deployment, Flow, Queue
from gcwm.emulator.errors import ApiError, invalid, not_found
from gcwm.emulator.lifecycle import Timings, is_gone, is_not_yet_readable, version_status
from gcwm.emulator.profiles import ProfileBook, seed_profile
from gcwm.emulator.seed import MESSAGE_FLOW, seed_flows, seed_queues

LIMITS_NAMESPACE = "web.deployments"


@dataclass(frozen=True)
class OrgLimits:
    """The `web.deployments` limits this org enforces on create (key names: shared/genesys/README.md)."""

    deployments_max: int = 1000
    configurations_max: int = 1000

    def as_keys(self) -> dict[str, int]:
        return {"deployments.max": self.deployments_max, "configuration.max": self.configurations_max}

    def with_keys(self, values: dict[str, int]) -> OrgLimits:
        """These limits with some changed, by full name (`web.deployments.deployments.max`) or key."""
        fields = {"deployments.max": "deployments_max", "configuration.max": "configurations_max"}
        changes: dict[str, int] = {}
        for name, value in values.items():
            key = name.removeprefix(f"{LIMITS_NAMESPACE}.")
            if key not in fields:
                known = ", ".join(f"{LIMITS_NAMESPACE}.{k}" for k in fields)
                msg = f"unknown limit {name!r}: the emulator enforces {known}"
                raise ValueError(msg)
            if value < 0:
                msg = f"limit {name} must be 0 or more, not {value}"
                raise ValueError(msg)
            changes[fields[key]] = value
        return replace(self, **changes)


class OrgState:
    """All of one organisation's objects; writes are saved to `state_file` before they return."""

    def __init__(
        self,
        timings: Timings,
        limits: OrgLimits,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.timings = timings
        self.limits = limits
        self.clock = clock
        self.lock = threading.RLock()
        self._file = persistence.StateFile(state_file) if state_file is not None else None
        loaded = self._file.load() if self._file is not None else None
        if loaded is None:
            now = clock()
            self._snap = persistence.Snapshot(str(uuid.uuid4()), 1, seed_queues(now), seed_flows(now))
        else:
            self._snap = loaded
        self._configs = {c.id: c for c in self._snap.configurations}
        self._deployments = {d.id: d for d in self._snap.deployments}
        self.profiles = ProfileBook(
            self.lock, clock, lambda entry: self._record(extra=entry), self._profile_users, self._next_seq
        )
        if not self._snap.profiles:  # a new org, or a state saved before profiles existed
            seed = seed_profile(self.org_id, clock())
            self._snap.profiles, self._snap.default_profile_id = [seed], seed.id
        self.profiles.load(self._snap.profiles, self._snap.default_profile_id)
        self._sweep()
        if self._file is not None:
            self._file.write_snapshot(self._snapshot())  # a new org keeps its id and seed from now on

    @property
    def org_id(self) -> str:
        return self._snap.org_id

    # -- queues and flows (read-only seed) -----------------------------------------------------
    def queues(self) -> list[Queue]:
        return list(self._snap.queues)

    def queue(self, queue_id: str) -> Queue:
        for queue in self._snap.queues:
            if queue.id == queue_id:
                return queue
        raise not_found(f"Queue {queue_id} not found", queue_id)

    def flows(self) -> list[Flow]:
        return list(self._snap.flows)

    def flow(self, flow_id: str) -> Flow:
        flow = self.find_flow(flow_id)
        if flow is None:
            raise not_found(f"Flow {flow_id} not found", flow_id)
        return flow

    def find_flow(self, flow_id: str) -> Flow | None:
        return next((f for f in self._snap.flows if f.id == flow_id), None)

    def find_configuration(self, configuration_id: str) -> Configuration | None:
        """A configuration not yet gone, or None (no 404, no read-after-write window)."""
        with self.lock:
            return self._configs.get(configuration_id)

    # -- configurations ---------------------------------------------------------------------------
    def configurations(self) -> list[Configuration]:
        """Every configuration not yet gone (those Deleting included), in creation order."""
        with self.lock:
            self._sweep()
            return sorted(self._configs.values(), key=lambda c: c.seq)

    def configuration(self, configuration_id: str, *, reading: bool = False) -> Configuration:
        with self.lock:
            self._sweep()
            config = self._configs.get(configuration_id)
            now = self.clock()
            if config is None or (reading and is_not_yet_readable(config.date_created, now, self.timings)):
                raise not_found(f"Configuration {configuration_id} not found", configuration_id)
            return config

    def create_configuration(self, settings: dict[str, Any]) -> Configuration:
        with self.lock:
            self._sweep()
            live = sum(1 for c in self._configs.values() if c.deleted_at is None)
            _check_limit("configuration.max", live, self.limits.configurations_max)
            now = self.clock()
            draft = ConfigVersion("DRAFT", settings, now, now)
            config = Configuration(str(uuid.uuid4()), self._next_seq(), now, draft)
            self._configs[config.id] = config
            self._record(configuration=config)
            return config

    def replace_draft(self, configuration_id: str, settings: dict[str, Any]) -> Configuration:
        """Replace the draft's settings; the draft is Pending again."""
        with self.lock:
            config = self._writable_configuration(configuration_id)
            config.draft.settings = settings
            config.draft.date_modified = self.clock()
            self._record(configuration=config)
            return config

    def publish_draft(self, configuration_id: str) -> ConfigVersion:
        """Copy the (Active) draft to the next numbered version; the draft stays for later edits."""
        with self.lock:
            config = self._writable_configuration(configuration_id)
            now = self.clock()
            status = version_status(config, config.draft, now, self.timings)
            if status != "Active":
                msg = f"The draft of configuration {configuration_id} is {status}; only an Active draft "
                msg += "can be published"
                raise ApiError(400, msg, entity_id=configuration_id)
            number = str(len(config.published) + 1)
            version = ConfigVersion(number, dict(config.draft.settings), now, now, date_published=now)
            config.published.append(version)
            self._record(configuration=config)
            return version

    def delete_configuration(self, configuration_id: str) -> None:
        with self.lock:
            config = self.configuration(configuration_id)
            if config.deleted_at is not None:
                return  # already Deleting: deleting again changes nothing (emulator choice)
            users = [
                d.id
                for d in self._deployments.values()
                if d.deleted_at is None and d.configuration_ref[0] == configuration_id
            ]
            if users:
                # Emulator choice: Genesys's answer here is unconfirmed (shared/genesys/README.md).
                msg = f"Configuration {configuration_id} is used by deployment(s) {', '.join(users)}"
                raise ApiError(409, msg, entity_id=configuration_id)
            config.deleted_at = self.clock()
            self._record(configuration=config)

    # -- deployments ------------------------------------------------------------------------------
    def deployments(self) -> list[Deployment]:
        with self.lock:
            self._sweep()
            return sorted(self._deployments.values(), key=lambda d: d.seq)

    def deployment(self, deployment_id: str, *, reading: bool = False) -> Deployment:
        with self.lock:
            self._sweep()
            deployment = self._deployments.get(deployment_id)
            now = self.clock()
            if deployment is None or (
                reading and is_not_yet_readable(deployment.date_created, now, self.timings)
            ):
                raise not_found(f"Deployment {deployment_id} not found", deployment_id)
            return deployment

    def create_deployment(self, settings: dict[str, Any]) -> Deployment:
        with self.lock:
            self._sweep()
            live = sum(1 for d in self._deployments.values() if d.deleted_at is None)
            _check_limit("deployments.max", live, self.limits.deployments_max)
            self._check_references(settings)
            now = self.clock()
            deployment = Deployment(str(uuid.uuid4()), self._next_seq(), now, now, settings)
            self._deployments[deployment.id] = deployment
            self._record(deployment=deployment)
            return deployment

    def replace_deployment(self, deployment_id: str, settings: dict[str, Any]) -> Deployment:
        """Replace the whole deployment; it is Pending again, then Active."""
        with self.lock:
            deployment = self.deployment(deployment_id)
            if deployment.deleted_at is not None:
                raise not_found(f"Deployment {deployment_id} is being deleted", deployment_id)
            self._check_references(settings)
            deployment.settings = settings
            deployment.date_modified = self.clock()
            self._record(deployment=deployment)
            return deployment

    def break_deployment(self, deployment_id: str) -> Deployment:
        """Put a deployment in status Error, as Genesys might (admin API only)."""
        with self.lock:
            deployment = self.deployment(deployment_id)
            deployment.broken = True
            self._record(deployment=deployment)
            return deployment

    def delete_deployment(self, deployment_id: str) -> None:
        with self.lock:
            deployment = self.deployment(deployment_id)
            if deployment.deleted_at is None:
                deployment.deleted_at = self.clock()
                self._record(deployment=deployment)

    # -- whole org --------------------------------------------------------------------------------
    def live_counts(self) -> tuple[int, int]:
        """(configurations, deployments) that are not deleted."""
        with self.lock:
            configs = sum(1 for c in self._configs.values() if c.deleted_at is None)
            deployments = sum(1 for d in self._deployments.values() if d.deleted_at is None)
            return configs, deployments

    def reset(self) -> None:
        """Back to the seed: drop configurations, deployments and profiles but the seeded default
        (as seeded, and the default again); keep the org id, queues and flows."""
        with self.lock:
            self._configs.clear()
            self._deployments.clear()
            seed = seed_profile(self.org_id, self.clock())
            self.profiles.load([seed], seed.id)
            self._record(
                reset=True,
                extra={"supportedContent": seed.to_dict(), "defaultSupportedContentId": seed.id},
            )

    # -- internals --------------------------------------------------------------------------------
    def _writable_configuration(self, configuration_id: str) -> Configuration:
        config = self.configuration(configuration_id)
        if config.deleted_at is not None:
            # Emulator choice: writes to a configuration being deleted answer 404.
            raise not_found(f"Configuration {configuration_id} is being deleted", configuration_id)
        return config

    def _check_references(self, settings: dict[str, Any]) -> None:
        """The deployment's configuration version must be published, its flow a published message flow."""
        config_id, version = (str(settings["configuration"][k]) for k in ("id", "version"))
        config = self._configs.get(config_id)
        if config is None or config.deleted_at is not None:
            raise invalid("configuration.id", f"configuration {config_id} does not exist")
        if version.upper() == "DRAFT":
            msg = f'"{version}" is not a published version of configuration {config_id}; '
            msg += "publish the draft first"
            raise invalid("configuration.version", msg)
        if config.version(version) is None:
            raise invalid(
                "configuration.version", f'configuration {config_id} has no published version "{version}"'
            )
        flow_id = str(settings["flow"]["id"])
        flow = self.find_flow(flow_id)
        if flow is None:
            raise invalid("flow.id", f"flow {flow_id} does not exist")
        if flow.type != MESSAGE_FLOW:
            raise invalid(
                "flow.id", f'flow "{flow.name}" ({flow_id}) is of type {flow.type}, not {MESSAGE_FLOW}'
            )
        if not flow.published:
            raise invalid("flow.id", f'flow "{flow.name}" ({flow_id}) is not published')
        profile_id = settings.get("supportedContent", {}).get("id")
        if profile_id is not None and self.profiles.find(str(profile_id)) is None:
            msg = f"supported content profile {profile_id} does not exist"
            raise invalid("supportedContent.id", msg)

    def _profile_users(self, profile_id: str) -> list[str]:
        """The deployments (not being deleted) that name a supported content profile."""
        return [
            d.id
            for d in self._deployments.values()
            if d.deleted_at is None and d.supported_content_id == profile_id
        ]

    def _next_seq(self) -> int:
        seq = self._snap.next_seq
        self._snap.next_seq += 1
        return seq

    def _sweep(self) -> None:
        """Forget objects whose deletion has finished (they answer 404 from now on)."""
        now = self.clock()
        for table in (self._configs, self._deployments):
            gone = [key for key, obj in table.items() if is_gone(obj.deleted_at, now, self.timings)]
            for key in gone:
                del table[key]

    def _record(
        self,
        *,
        configuration: Configuration | None = None,
        deployment: Deployment | None = None,
        reset: bool = False,
        extra: dict[str, Any] | None = None,
    ) -> None:
        """Make a committed write durable (journal or snapshot) before its answer is sent;
        `extra` carries profile entries (persistence.Snapshot.apply reads them)."""
        if self._file is None:
            return
        entry: dict[str, Any] = {"nextSeq": self._snap.next_seq}
        if reset:
            entry["reset"] = True
        entry.update(extra or {})
        if configuration is not None:
            entry["configuration"] = configuration.to_dict()
        if deployment is not None:
            entry["deployment"] = deployment.to_dict()
        live = len(self._configs) + len(self._deployments) + len(self.profiles.all())
        self._file.record(entry, live, self._snapshot)

    def _snapshot(self) -> persistence.Snapshot:
        self._snap.configurations = list(self._configs.values())
        self._snap.deployments = list(self._deployments.values())
        self._snap.profiles = self.profiles.all()
        self._snap.default_profile_id = self.profiles.default_id
        return self._snap


def _check_limit(key: str, current: int, allowed: int) -> None:
    if current >= allowed:
        msg = f"The organization limit {key} ({allowed}) in namespace {LIMITS_NAMESPACE} has been reached"
        limit = {"key": key, "namespace": LIMITS_NAMESPACE, "value": allowed}
        raise ApiError(400, msg, code="limit.exceeded", limit=limit)
