"""The machine's invariants, as functions of what it read: each returns the problems it finds, in words
that name the channel, the objects and the jobs, so a failing example says what broke.

- `always`: after every step, whatever is in flight.
- `quiescent`: once every job is terminal, held answers are released and no process is frozen.
- `outcome`: a provision that ran alone against a known org did what its outcome says.
"""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import datetime
from typing import Any

from gcwm.spec import channel_key
from gcwm.store import Job
from tests.model.observe import KINDS, Marked, OrgView, StoreView

UNFINISHED = ("queued", "running")


def _ids(objects: list[Marked]) -> str:
    return ", ".join(f"{o.id} (job {o.job}, {o.status or 'live'})" for o in objects)


def _twice(channel: str, kind: str, objects: list[Marked]) -> str:
    """A channel's kind made twice, with when each object was made (the machine's report adds what
    the jobs recorded, with times: an answer carried out after its sender gave up shows there)."""
    made = "; ".join(f"{o.id} made {o.body.get('dateCreated', '?')}" for o in objects)
    return f"channel {channel}: {len(objects)} {kind}: {_ids(objects)} ({made})"


def always(org: OrgView, store: StoreView) -> list[str]:
    """One configuration and one working deployment per channel; slots held exactly by unfinished jobs;
    objects and held slots within the org's limits. `store` must be read before `org`."""
    problems: list[str] = []
    for channel in sorted(org.channels()):
        configurations = org.of(channel, "configuration")
        working = [d for d in org.of(channel, "deployment") if d.status != "Error"]
        profiles = org.of(channel, "profile")
        if len(configurations) > 1:
            problems.append(_twice(channel, "configurations", configurations))
        # A deployment in Error is replaced by a new one before it is removed (apply.py, REPLACE).
        if len(working) > 1:
            problems.append(_twice(channel, "deployments", working))
        if len(profiles) > 1:
            problems.append(_twice(channel, "supported content profiles", profiles))
    problems += _slots(store)
    problems += _limits(org, store)
    problems += refused_by_genesys(store)
    problems += crashed(store)
    problems += fenced(store)
    return problems


def _slots(store: StoreView) -> list[str]:
    problems = []
    status = {j.id: j.status for j in store.jobs}
    for slot in store.slots:
        job_status = status.get(slot.job_id, "unknown")
        if slot.state == "held" and job_status not in UNFINISHED:
            problems.append(f"a {slot.kind} slot is held by job {slot.job_id}, which is {job_status}")
        if slot.state == "parked" and job_status in UNFINISHED:
            problems.append(f"job {slot.job_id} is {job_status} but its {slot.kind} slot is parked")
    if store.held_counts is not None:
        counted = Counter(s.kind for s in store.slots if s.state == "held")
        kept = {k: n for k, n in store.held_counts.items() if n}
        if kept != dict(counted):
            problems.append(f"held_slot_counts says {kept}, the reservations hold {dict(counted)}")
    return problems


def _limits(org: OrgView, store: StoreView) -> list[str]:
    """What exists plus what unfinished jobs will still create stays within each limit. A channel
    counts once per kind, whether its object exists or its unfinished jobs hold slots for it: a job
    superseded mid-create and the job that supersedes it hold slots for the one object the channel
    will have (the newer one adopts what the older made)."""
    problems = []
    channel_of = {j.id: j.channel_key for j in store.jobs}
    for kind in KINDS:
        existing = {o.channel for o in org.objects if o.kind == kind}
        held = {
            channel_of.get(s.job_id, s.job_id) for s in store.slots if s.kind == kind and s.state == "held"
        }
        coming = held - existing
        use = org.count(kind) + len(coming)
        if use > org.limits[kind]:
            problems.append(
                f"{kind}s: {org.count(kind)} in the org and slots held for {len(coming)} more channel(s) "
                f"({', '.join(sorted(coming))}) exceed the org's limit of {org.limits[kind]}"
            )
    return problems


def fenced(store: StoreView) -> list[str]:
    """A worker that lost its lease writes nothing more: each job's steps were recorded by its claims
    in order (no step of an earlier claim after one of a later claim)."""
    problems = []
    resumed = {j.id for j in store.jobs if j.resumed_by is not None}  # a resume counts claims afresh
    for job_id, steps in store.steps.items():
        if job_id in resumed:
            continue
        for (seq, step, attempt), (later_seq, later_step, later_attempt) in itertools.pairwise(steps):
            if later_attempt < attempt:
                problems.append(
                    f"job {job_id}: step {later_step!r} (#{later_seq}) was recorded by claim {later_attempt} "
                    f"after claim {attempt} recorded {step!r} (#{seq}): a worker wrote after losing its lease"
                )
    return problems


def crashed(store: StoreView) -> list[str]:
    """No job ends on a bug of gcwm's (the worker's catch-all: "internal error: ...")."""
    return [
        f"job {j.id} ({j.kind} of {j.channel_name}) failed on an internal error: "
        f"{(j.error or {}).get('message')}"
        for j in store.jobs
        if j.status == "failed" and str((j.error or {}).get("message", "")).startswith("internal error")
    ]


def refused_by_genesys(store: StoreView) -> list[str]:
    """No job gcwm admitted fails on Genesys's own `limit.exceeded` (its slots were given away)."""
    return [
        f"job {j.id} ({j.kind} of {j.channel_name}) was admitted, then refused by Genesys: "
        f"{(j.error or {}).get('message')}"
        for j in store.jobs
        if j.status == "failed" and "limit.exceeded" in str((j.error or {}).get("message", ""))
    ]


def quiescent(
    org: OrgView, store: StoreView, tampered_at: dict[str, datetime], spec_domains: Any
) -> list[str]:
    """Every job terminal, no slot held; no object of gcwm's without a channel that wants it; each
    channel whose last job succeeded is as that job left it (unless edited behind gcwm's back since).
    `spec_domains(job)` is the set of domains the job's spec asks for."""
    problems = [f"job {j.id} ({j.kind} of {j.channel_name}) is still {j.status}" for j in store.unfinished]
    problems += [f"job {s.job_id} still holds a {s.kind} slot" for s in store.slots if s.state == "held"]
    for channel in sorted(org.channels()):
        record = store.channels.get(channel)
        if record is None or record.status == "removed":
            said = "never queued" if record is None else "destroyed"
            mine = [o for o in org.objects if o.channel == channel]
            problems.append(f"channel {channel} is {said}, yet the org holds its objects: {_ids(mine)}")
        deployments = org.of(channel, "deployment")
        if len(deployments) > 1:
            problems.append(f"channel {channel}: {len(deployments)} deployments at rest: {_ids(deployments)}")
    for key, record in sorted(store.channels.items()):
        jobs = store.jobs_of(record.name)
        if not jobs:
            continue
        last = jobs[-1]
        if last.status != "succeeded":
            continue
        if last.kind == "destroy":
            left = [o for o in org.objects if o.channel == key and o.kind != "profile"]
            if left:
                problems.append(
                    f"channel {key} was destroyed by job {last.id}, yet the org holds {_ids(left)}"
                )
            continue
        since = tampered_at.get(key)
        if since is not None and (last.started_at is None or last.started_at <= since):
            continue  # edited behind gcwm's back after its last job planned
        problems += _as_left(
            org, last, record.status, record.deployment_id, record.configuration_id, spec_domains(last)
        )
    return problems


def _as_left(
    org: OrgView,
    job: Job,
    record_status: str,
    recorded_deployment: str | None,
    recorded_configuration: str | None,
    domains: set[str],
) -> list[str]:
    """The channel's objects are those the job's result names, as its spec asks."""
    result = job.result or {}
    name = job.channel_name
    problems = []
    configurations = org.of(name, "configuration")
    deployments = org.of(name, "deployment")
    want_c, want_d = result["configuration"]["id"], result["deployment"]["id"]
    if [c.id for c in configurations] != [want_c]:
        problems.append(
            f"channel {name}: job {job.id} succeeded ({result.get('outcome')}) with configuration {want_c}, "
            f"the org holds [{_ids(configurations)}]"
        )
    if [d.id for d in deployments] != [want_d]:
        problems.append(
            f"channel {name}: job {job.id} succeeded ({result.get('outcome')}) with deployment {want_d}, "
            f"the org holds [{_ids(deployments)}]"
        )
        return problems
    (deployment,) = deployments
    body = deployment.body
    if deployment.status != "Active":
        problems.append(f"channel {name}: deployment {want_d} is {deployment.status} at rest")
    got = {d.lower() for d in body.get("allowedDomains") or []}
    if got != domains:
        problems.append(
            f"channel {name}: deployment {want_d} allows {sorted(got)}, the spec {sorted(domains)}"
        )
    version = (body.get("configuration") or {}).get("version")
    if version != result["configuration"]["version"]:
        problems.append(
            f"channel {name}: deployment {want_d} uses version {version}, job {job.id} reported "
            f"{result['configuration']['version']}"
        )
    if record_status != "active":
        problems.append(f"channel {name}: its last job {job.id} succeeded, yet its record is {record_status}")
    if (recorded_deployment, recorded_configuration) != (want_d, want_c):
        problems.append(
            f"channel {name}: the store records deployment {recorded_deployment} and configuration "
            f"{recorded_configuration}, its last job made {want_d} and {want_c}"
        )
    return problems


def outcome(
    job: Job, before: OrgView, recorded: tuple[str | None, str | None], after: OrgView, writes: dict[str, int]
) -> list[str]:
    """A provision that ran alone did what its outcome says: "created" found nothing of the channel,
    "unchanged" and "adopted" wrote nothing, "recreated" found a recorded object gone, "updated"
    wrote to objects that were there; every create was sent once (a lost answer is looked up)."""
    result = job.result or {}
    said = result.get("outcome")
    name = job.channel_name
    had = {o.id for o in before.objects if o.channel == channel_key(name) and o.kind != "profile"}
    broken = [d for d in before.of(name, "deployment") if d.status == "Error"]
    made = {result["configuration"]["id"], result["deployment"]["id"]}
    sent = sum(writes.values())
    problems = []
    if said == "created" and had:
        problems.append(f"channel {name}: outcome created, but the org held {sorted(had)} before")
    if said in ("unchanged", "adopted") and sent:
        problems.append(f"channel {name}: outcome {said}, but the job sent {writes}")
    if said in ("unchanged", "adopted") and made != had:
        problems.append(f"channel {name}: outcome {said} with {sorted(made)}, the org held {sorted(had)}")
    if said == "recreated" and all(i is None or i in had for i in recorded):
        problems.append(f"channel {name}: outcome recreated, yet every recorded id {recorded} was in the org")
    if said == "updated" and not (made & had):
        problems.append(f"channel {name}: outcome updated, but none of {sorted(made)} was in the org before")
    if said == "replaced" and not broken:
        problems.append(f"channel {name}: outcome replaced, but no deployment of it was in status Error")
    for operation, n in writes.items():
        if operation.startswith("POST") and n > 1:
            problems.append(f"channel {name}: {operation} sent {n} times by one job")
    for kind, object_id in (
        ("configuration", result["configuration"]["id"]),
        ("deployment", result["deployment"]["id"]),
    ):
        if object_id not in {o.id for o in after.of(name, kind)}:
            problems.append(
                f"channel {name}: its result names {kind} {object_id}, which the org does not hold"
            )
    return problems
