"""What the machine reads after a step: the org through Genesys's public API (deployments,
configuration drafts, supported content profiles) and gcwm's store (jobs, channels, slot
reservations), each object put to the channel gcwm's marker names."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from gcwm.provisioning.mapping import profile_channel, read_marker
from gcwm.spec import channel_key
from gcwm.store import Channel, Job
from gcwm.store.tables import held_slot_counts, job_steps, jobs, slot_reservations
from gcwm.store.unit_of_work import UnitOfWork
from tests.model.world import CONFIGS, DEPLOYMENTS, PROFILES, World

KINDS = ("configuration", "deployment")


@dataclass(frozen=True)
class Slot:
    job_id: str
    kind: str
    state: str


@dataclass(frozen=True)
class Marked:
    """One live object gcwm's marker (or, for a profile, its name) gives to a channel."""

    kind: str  # configuration | deployment | profile
    id: str
    channel: str  # channel_key of the name
    job: str | None  # the job its marker names (None for a profile)
    status: str
    body: dict[str, Any] = field(repr=False, compare=False)


@dataclass(frozen=True)
class OrgView:
    """The org's live objects (those being deleted are left out) and its enforced limits."""

    objects: list[Marked]
    unmarked: dict[str, int]  # kind -> live objects with no gcwm marker
    limits: dict[str, int]

    def of(self, channel: str, kind: str) -> list[Marked]:
        key = channel_key(channel)
        return [o for o in self.objects if o.channel == key and o.kind == kind]

    def count(self, kind: str) -> int:
        return sum(o.kind == kind for o in self.objects) + self.unmarked.get(kind, 0)

    def channels(self) -> set[str]:
        return {o.channel for o in self.objects}


@dataclass(frozen=True)
class StoreView:
    jobs: list[Job]  # oldest first
    channels: dict[str, Channel]  # by name key
    slots: list[Slot]
    held_counts: dict[str, int] | None  # SQLite's trigger-kept counts; None on PostgreSQL
    steps: dict[str, list[tuple[int, str, int]]]  # job id -> (seq, step, attempt), in seq order

    def job(self, job_id: str) -> Job:
        return next(j for j in self.jobs if j.id == job_id)

    @property
    def unfinished(self) -> list[Job]:
        return [j for j in self.jobs if not j.is_finished]

    def jobs_of(self, channel: str) -> list[Job]:
        key = channel_key(channel)
        return [j for j in self.jobs if j.channel_key == key]


def read_org(world: World) -> OrgView:
    objects: list[Marked] = []
    unmarked: Counter[str] = Counter()
    for kind, path in (("configuration", CONFIGS), ("deployment", DEPLOYMENTS)):
        for body in world.listing(path):
            marker = read_marker(body.get("description"))
            if marker is None:
                unmarked[kind] += 1
                continue
            objects.append(
                Marked(
                    kind, body["id"], channel_key(marker.channel), marker.job, str(body.get("status")), body
                )
            )
    for body in world.listing(PROFILES):
        owner = profile_channel(body.get("name"))
        if owner is not None:
            objects.append(Marked("profile", body["id"], channel_key(owner), None, "", body))
    return OrgView(objects, dict(unmarked), world.limits())


def read_store(world: World) -> StoreView:
    """Jobs, channels, slots and steps as of one moment: one read transaction, a snapshot on both
    databases (REPEATABLE READ on PostgreSQL), since workers change them meanwhile. Read in several,
    a job that ended between two reads showed as running with its slots parked."""
    org = world.app.org_id
    engine = world.store.engine
    if engine.dialect.name == "postgresql":
        engine = engine.execution_options(isolation_level="REPEATABLE READ")
    r = slot_reservations.c
    with UnitOfWork(engine, read_only=True) as tx:
        found = sorted(
            (j for j in tx.jobs.list(limit=10_000) if j.org_id == org), key=lambda j: (j.created_at, j.id)
        )
        channels = {c.name_key: c for c in tx.channels.list(org)}
        rows = tx.connection.execute(sa.select(r.job_id, r.kind, r.state).where(r.org_id == org)).all()
        held: dict[str, int] | None = None
        if tx.connection.dialect.name == "sqlite":
            h = held_slot_counts.c
            held = {
                kind: int(n)
                for kind, n in tx.connection.execute(sa.select(h.kind, h.held).where(h.org_id == org)).all()
            }
        t = job_steps.c
        steps: dict[str, list[tuple[int, str, int]]] = {}
        recorded = sa.select(t.job_id, t.seq, t.step, t.attempt).join(jobs, jobs.c.id == t.job_id)
        for job_id, seq, step, attempt in tx.connection.execute(
            recorded.where(jobs.c.org_id == org).order_by(t.job_id, t.seq)
        ):
            steps.setdefault(job_id, []).append((seq, step, attempt))
    return StoreView(found, channels, [Slot(*row) for row in rows], held, steps)


def hang_evidence(world: World) -> str:
    """What a hang waited on: the database's sessions of this example (PostgreSQL: their state, the
    lock each waits for, how long its transaction has been open), the worker processes (frozen or
    not) and their logs' last lines."""
    lines = []
    if world.store.engine.dialect.name == "postgresql":
        query = sa.text(
            "SELECT pid, state, wait_event_type, wait_event, now() - xact_start AS open_for, "
            "left(query, 160) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() ORDER BY xact_start NULLS LAST"
        )
        try:
            with world.store.engine.connect() as connection:
                lines += [f"  session {tuple(row)}" for row in connection.execute(query)]
        except sa.exc.SQLAlchemyError as exc:
            lines.append(f"  (sessions not read: {exc})")
    for process in world.processes:
        state = "frozen" if process.frozen else "ended" if process.popen.poll() is not None else "running"
        lines.append(f"  worker {process.pid} ({state}, {process.log.name}):")
        tail = process.log.read_text(errors="replace").splitlines()[-15:] if process.log.exists() else []
        lines += [f"    {line[:300]}" for line in tail]
    return "\nhang evidence:\n" + "\n".join(lines)
