"""Before any write: review a batch against the policy, and admit it under the org's limits.

`review` runs every check that needs no Genesys read (per channel: XSS, domains, visitor text, the
proposed CSP; for the run: the allowed regions). `admission` turns a plan into the slots its creates
take and the limit check the queue runs in its transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gcwm.errors import Finding
from gcwm.genesys import messenger, resolve_region
from gcwm.policy import Counts, LimitUse, LocalPolicy, limit_uses, refuse_if_exceeded
from gcwm.provisioning.checks import ChannelChecks, SiteNeeds, check_channel
from gcwm.provisioning.observe import OrgSnapshot
from gcwm.provisioning.plan import Action, ChannelChange, Plan
from gcwm.provisioning.queue import Admission
from gcwm.provisioning.results import OrgRef
from gcwm.spec import ChannelSpec, channel_key
from gcwm.store import Job, UnitOfWork


@dataclass(frozen=True)
class Review:
    """What the checks say about a batch: per channel, and for the run."""

    channels: dict[str, ChannelChecks]  # by channel key
    run: list[Finding]

    @property
    def findings(self) -> list[Finding]:
        return [*self.run, *(f for c in self.channels.values() for f in c.findings)]

    def blocking(self, policy: LocalPolicy) -> list[Finding]:
        return [f for f in self.findings if f.severity in policy.blocking_severities]


def site_needs(org: OrgRef) -> SiteNeeds:
    """What Messenger needs from the embedding site: the region's hosts, or the emulator's origin."""
    if org.region is not None:
        return SiteNeeds(messenger.narrow_needs(org.region), messenger.template_needs(org.region))
    origin = messenger.origin_needs(org.target)
    return SiteNeeds(origin, origin)


def review(specs: Sequence[ChannelSpec], *, source: str, policy: LocalPolicy, org: OrgRef) -> Review:
    """Every finding about the batch, without reading or writing anything."""
    needs = site_needs(org)
    channels = {s.key: check_channel(s, source=source, policy=policy, needs=needs) for s in specs}
    run: list[Finding] = []
    if policy.allowed_regions is not None and org.region is not None:
        allowed = {resolve_region(r) for r in policy.allowed_regions}
        if org.region not in allowed:
            said = f"the local policy allows {', '.join(sorted(allowed))}; "
            said += f"these credentials are for {org.region}"
            run.append(Finding("region_not_allowed", "high", "allowedRegions", said, source=source))
    return Review(channels, run)


def reference_findings(plan: Plan, *, source: str) -> list[Finding]:
    """A queue or flow a channel names that the org does not hold (or holds twice, or unpublished), as
    findings: they always refuse a batch before any write (whatever severities the policy blocks),
    since the job could only fail."""
    return [
        Finding("reference_not_usable", "high", c.problem.field, c.problem.message, source, c.channel)
        for c in plan.problems
        if c.problem is not None
    ]


def creates(plan: Plan) -> dict[str, list[str]]:
    """The kinds of object each channel's plan creates (a replaced deployment is a new one)."""
    out: dict[str, list[str]] = {}
    for change in plan.changes:
        kinds = []
        if change.configuration.action is Action.CREATE:
            kinds.append("configuration")
        if change.deployment.action in (Action.CREATE, Action.REPLACE):
            kinds.append("deployment")
        out[channel_key(change.channel)] = kinds
    return out


def uses(
    specs: Sequence[ChannelSpec],
    plan: Plan,
    snapshot: OrgSnapshot,
    policy: LocalPolicy,
    held: dict[str, int],
    *,
    reused: set[str] | None = None,
) -> list[LimitUse]:
    """Every limit with its use before and after the plan; `held` is what queued jobs still take."""
    skip = reused or set()
    made = creates(plan)
    adding = Counts(
        deployments=sum("deployment" in k for key, k in made.items() if key not in skip),
        configurations=sum("configuration" in k for key, k in made.items() if key not in skip),
    )
    in_use = Counts(
        deployments=len(snapshot.deployments) + held.get("deployment", 0),
        configurations=len(snapshot.drafts) + held.get("configuration", 0),
    )
    elsewhere = snapshot.sessions_elsewhere({s.key for s in specs})
    return limit_uses(
        org_limits=snapshot.org_limits,
        in_use=in_use,
        adding=adding,
        policy=policy,
        sessions={s.name: s.max_concurrent_sessions for s in specs},
        sessions_elsewhere=elsewhere,
    )


def missing_slots(tx: UnitOfWork, job: Job, spec: ChannelSpec, change: ChannelChange) -> list[str]:
    """The kinds a job's plan creates that the job holds no slot of (and made none of)."""
    wanted = creates(Plan(job.org_id, (change,))).get(spec.key, [])
    return [kind for kind in wanted if kind not in tx.slots.kinds_of(job.id)] if wanted else []


def reserve_for_plan(
    tx: UnitOfWork,
    job: Job,
    spec: ChannelSpec,
    change: ChannelChange,
    snapshot: OrgSnapshot,
    policy: LocalPolicy,
) -> list[str]:
    """Take the slots a job's plan made at run time creates and the job does not hold yet (its plan
    changed since it was queued: a destroy ran before it, or it was resumed), under the org's limits,
    in the caller's transaction; the kinds taken. LimitExceeded, taking none, if there is no room."""
    plan = Plan(job.org_id, (change,))
    missing = missing_slots(tx, job, spec, change)
    if not missing:
        return []
    tx.slots.lock_org(job.org_id)
    held = tx.slots.counted(job.org_id, snapshot.observed_at)
    # What the job holds or made already is counted (as held, or in the org) and in the plan's
    # creates: once is enough.
    for kind in set(creates(plan).get(spec.key, [])) & tx.slots.kinds_of(job.id):
        held[kind] = held.get(kind, 0) - 1
    refuse_if_exceeded(uses([spec], plan, snapshot, policy, held))
    tx.slots.reserve(job.org_id, job.id, missing)
    return missing


def admission(
    specs: Sequence[ChannelSpec],
    plan: Plan,
    snapshot: OrgSnapshot,
    policy: LocalPolicy,
    review: Review,
    *,
    source: str,
) -> Admission:
    """The slots the batch takes and the check the queue runs, under its lock, before taking them."""

    def check(held: dict[str, int], reused: set[str]) -> None:
        refuse_if_exceeded(
            uses(specs, plan, snapshot, policy, held, reused=reused), source=source, channels=len(specs)
        )

    return Admission(
        slots=creates(plan),
        check=check,
        since=snapshot.observed_at,
        csp={key: checks.csp for key, checks in review.channels.items()},
    )
