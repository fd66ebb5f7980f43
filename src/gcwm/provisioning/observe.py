"""Observe the org once per batch: gcwm's objects, the queues and flows the specs name, local records.

Two listings (configuration drafts, deployments; cursor pages of up to 300) show every web messaging
object with its status. The drafts listing never shows a published version ("View configuration
drafts", shared/genesys/README.md "Corrections"), so which version is live, and what it holds, is
read from a configuration's versions, and only where gcwm's record cannot tell: a channel whose
draft is as specified, whose record names the version gcwm published with the hash of what it set,
and whose deployment uses that version, needs no read (`recorded_live`). The org's supported content
profiles are listed when a spec asks for one. Queues and flows are resolved in bulk: one listing of
Inbound Message flows, and queue pages or per-name look-ups, whichever costs fewer calls. The
snapshot carries the database time taken before the first read, so a worker can tell whether a job
of the same channel ended after it (and the snapshot may miss what that job made).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from typing import TypeVar

from gcwm.errors import GenesysAuthError, GenesysNotFound
from gcwm.genesys import GenesysClient
from gcwm.genesys.models import (
    LIMITS_NAMESPACE,
    Flow,
    Queue,
    SupportedContent,
    WebDeployment,
    WebDeploymentConfigurationVersion,
    latest_published,
)
from gcwm.provisioning.mapping import (
    Marker,
    configuration_changes,
    content_hash,
    desired_configuration,
    desired_supported_content,
    read_marker,
)
from gcwm.spec import ChannelSpec, EntityReference, channel_key
from gcwm.store import Channel

Configuration = WebDeploymentConfigurationVersion


@dataclass(frozen=True)
class OrgSnapshot:
    """The org's web messaging objects and the referenced queues and flows, as read at one time."""

    org_id: str
    observed_at: datetime  # database time, taken before the first listing
    drafts: dict[str, Configuration] = field(default_factory=dict)  # configuration id -> draft
    # configuration id -> its latest published version, for the ids in `versions_read` (an id read
    # and missing here was never published)
    published: dict[str, Configuration] = field(default_factory=dict)
    versions_read: frozenset[str] = frozenset()
    deployments: dict[str, WebDeployment] = field(default_factory=dict)  # not Deleting
    # profile id -> supported content profile, when `profiles_read` (a spec asked for one)
    profiles: dict[str, SupportedContent] = field(default_factory=dict)
    profiles_read: bool = False
    # reference key (`ref_key`) -> what it matched: none, one, or (for a name) several
    queues: dict[str, tuple[Queue, ...]] = field(default_factory=dict)
    flows: dict[str, tuple[Flow, ...]] = field(default_factory=dict)
    # channel key -> gcwm's own record, for the keys in `record_keys` (the specs in hand: a record
    # read for every channel of the org would grow with it on every read of the snapshot)
    records: dict[str, Channel] = field(default_factory=dict)
    record_keys: frozenset[str] = frozenset()
    sessions_recorded: int = 0  # maxConcurrentSessions over every recorded channel not removed
    # The org's web.deployments limits by full name (`web.deployments.deployments.max`); empty when
    # the limits API is not open to this OAuth client.
    org_limits: dict[str, int] = field(default_factory=dict)

    def configurations_of(self, name: str) -> list[Configuration]:
        """Drafts of configurations gcwm made for this channel, oldest first."""
        return list(self._drafts_by_channel.get(channel_key(name), ()))

    def deployments_of(self, name: str) -> list[WebDeployment]:
        return list(self._deployments_by_channel.get(channel_key(name), ()))

    def sessions_elsewhere(self, keys: Iterable[str]) -> int:
        """The concurrent sessions gcwm's recorded channels other than `keys` take (removed ones none);
        the records of `keys` were read with the snapshot (`record_keys`)."""
        return self.sessions_recorded - sum(self._sessions_of(self.records.get(k)) for k in keys)

    def knows_records_of(self, spec: ChannelSpec) -> bool:
        """Whether gcwm's record of this spec's channel (or that it has none) was read."""
        return spec.key in self.record_keys

    def serves(self, spec: ChannelSpec) -> bool:
        """Whether a plan of this spec needs nothing more (`Observer.extend` adds what it does)."""
        return (
            self.covers(spec)
            and self.knows_records_of(spec)
            and not self.versions_needed(spec)
            and (self.profiles_read or not needs_profiles(spec))
        )

    def chosen_configuration(self, spec: ChannelSpec) -> Configuration | None:
        """The configuration this channel uses: the one gcwm recorded, else the oldest it marked."""
        record = self.records.get(spec.key)
        recorded = self.drafts.get(record.configuration_id or "") if record is not None else None
        return recorded or next(iter(self._drafts_by_channel.get(spec.key, ())), None)

    def chosen_deployment(self, spec: ChannelSpec) -> WebDeployment | None:
        """The deployment this channel uses: the one gcwm recorded, else the oldest it marked."""
        record = self.records.get(spec.key)
        recorded = self.deployments.get(record.deployment_id or "") if record is not None else None
        return recorded or next(iter(self._deployments_by_channel.get(spec.key, ())), None)

    def versions_needed(self, spec: ChannelSpec) -> str | None:
        """The configuration whose versions a plan of this spec must read, if any."""
        config = self.chosen_configuration(spec)
        if config is None or config.id is None or config.id in self.versions_read:
            return None
        return None if recorded_live(spec, self) is not None else config.id

    def profile_named(self, name: str) -> SupportedContent | None:
        """The profile with this exact name (the oldest listed, if several)."""
        return next((p for p in self.profiles.values() if p.name == name), None)

    # Indexed once per snapshot: a service admits and plans every submission against the same one,
    # so a scan of the whole org per submission would grow with the org.
    @cached_property
    def _drafts_by_channel(self) -> dict[str, list[Configuration]]:
        return _by_marked_channel(self.drafts.values())

    @cached_property
    def _deployments_by_channel(self) -> dict[str, list[WebDeployment]]:
        return _by_marked_channel(self.deployments.values())

    @staticmethod
    def _sessions_of(record: Channel | None) -> int:
        if record is None or record.status == "removed":
            return 0
        return int(record.spec.get("maxConcurrentSessions", 0))

    def covers(self, spec: ChannelSpec) -> bool:
        """Whether the queue and flow this spec names were resolved in this snapshot."""
        return ref_key(spec.routing_queue) in self.queues and ref_key(spec.inbound_message_flow) in self.flows


def recorded_live(spec: ChannelSpec, snap: OrgSnapshot) -> str | None:
    """The live version of the channel's configuration when gcwm's record proves what it holds, else
    None (its versions must be read): the record names the configuration, the version gcwm published
    (or found live as specified) and the hash of what it set; the spec still hashes the same; the
    draft holds exactly that; and the deployment uses that version. A draft edited behind gcwm's
    back, a changed spec, an unknown configuration or a lost publish answer all fail one of these."""
    record = snap.records.get(spec.key)
    config = snap.chosen_configuration(spec)
    deployment = snap.chosen_deployment(spec)
    if record is None or config is None or config.id != record.configuration_id:
        return None
    version, recorded_hash = record.configuration_version, record.configuration_hash
    if not version or not recorded_hash or deployment is None or deployment.configuration is None:
        return None
    if (deployment.configuration.id, deployment.configuration.version) != (config.id, version):
        return None
    desired = desired_configuration(spec, Marker(spec.name, "0"))
    if content_hash(desired) != recorded_hash or configuration_changes(desired, config):
        return None
    return version


def needs_profiles(spec: ChannelSpec) -> bool:
    """Whether a plan of this spec must know the org's supported content profiles."""
    return desired_supported_content(spec) is not None


def ref_key(ref: EntityReference) -> str:
    """How a reference is looked up: its id, or its name compared as Genesys compares names."""
    return f"id:{ref.id}" if ref.id else f"name:{channel_key(ref.name or '')}"


async def _nothing() -> dict[str, SupportedContent]:
    return {}


def _live(records: Iterable[Channel]) -> dict[str, Channel]:
    # A destroyed channel's record keeps its last ids for the record; they name nothing now.
    return {r.name_key: r for r in records if r.status != "removed"}


_Marked = TypeVar("_Marked", Configuration, WebDeployment)


def _by_marked_channel(objects: Iterable[_Marked]) -> dict[str, list[_Marked]]:
    """The objects gcwm marked, by the key of the channel each marker names, in listing order."""
    out: dict[str, list[_Marked]] = {}
    for obj in objects:
        marker = read_marker(obj.description)
        if marker is not None:
            out.setdefault(channel_key(marker.channel), []).append(obj)
    return out


class Observer:
    """Reads snapshots of one org through one client; `now` is the database's clock."""

    def __init__(
        self,
        client: GenesysClient,
        org_id: str,
        *,
        now: Callable[[], datetime],
        records: Callable[[list[str]], Awaitable[list[Channel]]],
        sessions: Callable[[], int],
    ) -> None:
        self._client = client
        self._org_id = org_id
        self._now = now
        self._records = records  # the records of these channel keys
        self._sessions = sessions  # maxConcurrentSessions over the org's recorded channels

    async def observe(self, specs: Iterable[ChannelSpec]) -> OrgSnapshot:
        """Everything a plan for these specs needs, read now."""
        wanted = list(specs)
        observed_at = await asyncio.to_thread(self._now)
        read_profiles = any(needs_profiles(s) for s in wanted)
        drafts, deployments, org_limits, profiles = await asyncio.gather(
            self._client.list_configurations(),
            self._client.list_deployments(),
            self._org_limits(),
            self._profiles() if read_profiles else _nothing(),
        )
        queues, flows = await asyncio.gather(self._queues(wanted), self._flows(wanted))
        keys = sorted({s.key for s in wanted})
        # The sum over the org's records is the heavier read (9 ms with 6000 channels): on a thread.
        records, sessions = await asyncio.gather(self._records(keys), asyncio.to_thread(self._sessions))
        snapshot = OrgSnapshot(
            org_id=self._org_id,
            observed_at=observed_at,
            drafts={c.id: c for c in drafts if c.id and not c.is_deleting},
            deployments={d.id: d for d in deployments if d.id and not d.is_deleting},
            profiles=profiles,
            profiles_read=read_profiles,
            queues=queues,
            flows=flows,
            records=_live(records),
            record_keys=frozenset(keys),
            sessions_recorded=sessions,
            org_limits=org_limits,
        )
        return await self._with_versions(snapshot, wanted)

    async def extend(self, snapshot: OrgSnapshot, specs: Iterable[ChannelSpec]) -> OrgSnapshot:
        """The same snapshot with what plans of more specs need: their queues and flows resolved,
        gcwm's records of their channels read (now)."""
        specs = list(specs)
        uncovered = [s for s in specs if not snapshot.covers(s)]
        if uncovered:
            queues, flows = await asyncio.gather(self._queues(uncovered), self._flows(uncovered))
            snapshot = replace(
                snapshot, queues={**snapshot.queues, **queues}, flows={**snapshot.flows, **flows}
            )
        keys = sorted({s.key for s in specs if not snapshot.knows_records_of(s)})
        if keys:
            records = await self._records(keys)
            snapshot = replace(
                snapshot,
                records={**snapshot.records, **_live(records)},
                record_keys=snapshot.record_keys | frozenset(keys),
            )
        if not snapshot.profiles_read and any(needs_profiles(s) for s in specs):
            snapshot = replace(snapshot, profiles=await self._profiles(), profiles_read=True)
        return await self._with_versions(snapshot, specs)

    async def _with_versions(self, snapshot: OrgSnapshot, specs: list[ChannelSpec]) -> OrgSnapshot:
        """The snapshot with the latest published version of every configuration whose record cannot
        say what is live (one read of its versions each)."""
        ids = sorted({i for s in specs if (i := snapshot.versions_needed(s)) is not None})
        if not ids:
            return snapshot
        found = await asyncio.gather(*(self._latest_published(i) for i in ids))
        published = {i: v for i, v in zip(ids, found, strict=True) if v is not None}
        return replace(
            snapshot,
            published={**snapshot.published, **published},
            versions_read=snapshot.versions_read | frozenset(ids),
        )

    async def _latest_published(self, configuration_id: str) -> Configuration | None:
        try:
            return latest_published(await self._client.list_configuration_versions(configuration_id))
        except GenesysNotFound:
            return None  # deleted since the listing: the plan's next read will not show it

    async def _profiles(self) -> dict[str, SupportedContent]:
        return {p.id: p for p in await self._client.list_supported_content() if p.id}

    async def _queues(self, specs: list[ChannelSpec]) -> dict[str, tuple[Queue, ...]]:
        refs = {ref_key(s.routing_queue): s.routing_queue for s in specs}
        out: dict[str, tuple[Queue, ...]] = {}
        ids = sorted({r.id for r in refs.values() if r.id})
        if ids:
            found = await self._all_queue_pages(ids=ids)
            by_id = {q.id: q for q in found}
            out.update({f"id:{i}": (by_id[i],) if i in by_id else () for i in ids})
        names = {k: r.name or "" for k, r in refs.items() if not r.id}
        if not names:
            return out
        # One page of all queues may answer several names at once; single names are cheaper asked.
        matched: dict[str, list[Queue]] = {k: [] for k in names}
        pending = dict(names)
        if len(names) > 1:
            page = await self._client.queue_page(1)
            pages = page.page_count or 1
            queues = list(page.entities)
            if pages - 1 < len(names):
                for number in range(2, pages + 1):
                    queues += (await self._client.queue_page(number)).entities
                pending = {}
            for queue in queues:
                key = f"name:{channel_key(queue.name)}"
                if key in matched:
                    matched[key].append(queue)
                    pending.pop(key, None)
        lookups = await asyncio.gather(*(self._client.find_queues(n) for n in pending.values()))
        matched.update(dict(zip(pending, lookups, strict=True)))
        out.update({k: tuple(v) for k, v in matched.items()})
        return out

    async def _all_queue_pages(self, *, ids: list[str]) -> list[Queue]:
        number, queues = 1, []
        while True:
            page = await self._client.queue_page(number, ids=ids)
            queues += page.entities
            if not page.entities or number >= (page.page_count or 1):
                return queues
            number += 1

    async def _flows(self, specs: list[ChannelSpec]) -> dict[str, tuple[Flow, ...]]:
        refs = {ref_key(s.inbound_message_flow): s.inbound_message_flow for s in specs}
        if not refs:
            return {}
        flows = await self._client.list_message_flows()
        out: dict[str, tuple[Flow, ...]] = {}
        for key, ref in refs.items():
            if ref.id:
                match = [f for f in flows if f.id == ref.id]
                if not match:
                    # Not a message flow (or not there): read it, so the error can say which.
                    match = [f for f in [await self._flow_or_none(ref.id)] if f is not None]
                out[key] = tuple(match)
            else:
                out[key] = tuple(f for f in flows if channel_key(f.name) == channel_key(ref.name or ""))
        return out

    async def _org_limits(self) -> dict[str, int]:
        try:
            limits = await self._client.limits(LIMITS_NAMESPACE)
        except (GenesysNotFound, GenesysAuthError):
            return {}  # not readable by this client: Genesys's own checks on create still apply
        return {f"{LIMITS_NAMESPACE}.{limit.key}": limit.value for limit in limits}

    async def _flow_or_none(self, flow_id: str) -> Flow | None:
        try:
            return await self._client.get_flow(flow_id)
        except GenesysNotFound:
            return None
