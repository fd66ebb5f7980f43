"""`build_plan(desired, observed) -> Plan`: what provisioning would change, per channel. Pure: no I/O.

For each channel the plan says what happens to its configuration, its supported content profile and
its deployment (create, update with the fields that differ, replace and why, no-op), which queue and
flow it uses, and what it cannot do (a missing queue or flow). A configuration has two states that
can drift apart: its draft and its live (latest published) version. The plan tells them apart: a live
version that differs from the spec is republished (and the deployment moved to the new number); a
draft edited outside gcwm but not published is only put back (its fields are `configuration.draft.*`).
The worker checkpoints a channel's change before its first write, so a resumed job carries on with
the plan it made.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from gcwm.errors import Finding, refusal_verdict
from gcwm.genesys.models import Flow, Queue, WebDeployment, WebDeploymentConfigurationVersion
from gcwm.provisioning.mapping import (
    FieldChange,
    Marker,
    configuration_changes,
    content_hash,
    created_fields,
    deployment_changes,
    desired_configuration,
    desired_deployment,
    desired_supported_content,
    read_marker,
    read_markers,
    supported_content_changes,
)
from gcwm.provisioning.observe import OrgSnapshot, recorded_live, ref_key
from gcwm.provisioning.steps import StepResult
from gcwm.spec import ChannelSpec, EntityReference, channel_key

# Markers name the job that wrote an object; the plan compares without them, so any job id will do.
_ANY_JOB = "0"
NEW_CONFIGURATION = "(new configuration)"
NEW_PROFILE = "(new supported content profile)"
_Ref = TypeVar("_Ref", Queue, Flow)
_Obj = TypeVar("_Obj", WebDeployment, WebDeploymentConfigurationVersion)
UNRESOLVED_FLOW = "(unresolved flow)"


class Action(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    NOOP = "no-op"
    DELETE = "delete"


class ObjectChange(StepResult):
    """What happens to one Genesys object: the action, the existing object's id, the fields.

    A configuration's update says what it sends: the draft (`sendDraft`), then a publish (`publish`);
    a draft that already holds the spec needs no PUT, a draft put back as the live version is needs
    no publish."""

    action: Action
    id: str | None = None
    fields: list[FieldChange] = []
    send_draft: bool = True
    publish: bool = True


class Problem(StepResult):
    """Why a channel cannot be provisioned as specified: the spec field, and what is wrong and what to
    do (the message does not repeat the field)."""

    field: str
    message: str


class ChannelChange(StepResult):
    """One channel's planned change, as checkpointed before its first write."""

    channel: str
    action: Action
    configuration: ObjectChange
    deployment: ObjectChange
    # Plans checkpointed before profiles existed have none: their deployments named none either.
    supported_content: ObjectChange = ObjectChange(action=Action.NOOP)
    queue_id: str | None = None
    flow_id: str | None = None
    published_version: str | None = None  # the configuration's latest published version, if any
    # content_hash of the spec's configuration when the live version holds exactly it (recorded with
    # the version, so the next run needs no read of the versions)
    published_hash: str | None = None
    deployment_status: str | None = None  # as observed, for a deployment left as it is
    deployment_active: bool = False
    snippet: str | None = None
    recorded: bool = False  # gcwm's own store knew this channel's objects
    recreating: bool = False  # a recorded object is gone from the org: what is made replaces it
    reason: str | None = None  # why a replace
    notes: list[str] = []
    problem: Problem | None = None

    @property
    def fields(self) -> list[FieldChange]:
        return [*self.configuration.fields, *self.supported_content.fields, *self.deployment.fields]

    def summary(self) -> dict[str, Any]:
        """The change as `gcwm plan --output json` prints it."""
        out: dict[str, Any] = {
            "channel": self.channel,
            "action": self.action.value,
            "fields": [f.document() for f in self.fields],
        }
        if self.reason:
            out["reason"] = self.reason
        if self.notes:
            out["notes"] = list(self.notes)
        if self.problem is not None:
            out["error"] = {"field": self.problem.field, "message": self.problem.message}
        return out


@dataclass(frozen=True)
class Plan:
    """Every channel's change against one org."""

    org_id: str
    changes: tuple[ChannelChange, ...]

    @property
    def has_changes(self) -> bool:
        return any(c.action is not Action.NOOP for c in self.changes)

    @property
    def problems(self) -> list[ChannelChange]:
        return [c for c in self.changes if c.problem is not None]

    def counts(self) -> dict[Action, int]:
        """How many channels each action takes (every action present, zero or not)."""
        return {a: sum(1 for c in self.changes if c.action is a) for a in Action}


def plan_verdict(plan: Plan, blocking: Sequence[Finding]) -> str:
    """The line a plan opens with: what provision would refuse on, or what it would change."""
    if blocking:
        return refusal_verdict(blocking, verb="provision would refuse")
    counts = plan.counts()
    if not plan.has_changes:
        same = counts[Action.NOOP]
        return f"no changes: {same} channel{'' if same == 1 else 's'} as specified"
    return (
        f"{counts[Action.CREATE]} to create, {counts[Action.UPDATE]} to update, "
        f"{counts[Action.REPLACE]} to replace, {counts[Action.NOOP]} unchanged"
    )


def build_plan(desired: Sequence[ChannelSpec], observed: OrgSnapshot) -> Plan:
    """What provisioning `desired` into the org as `observed` would do, channel by channel."""
    return Plan(observed.org_id, tuple(plan_channel(spec, observed) for spec in desired))


def plan_channel(spec: ChannelSpec, snap: OrgSnapshot) -> ChannelChange:
    """One channel's change."""
    notes: list[str] = []
    record = snap.records.get(spec.key)
    queue, queue_problem = _one(spec.routing_queue, snap.queues, "routingQueue", "routing queue", _QUEUE_HINT)
    flow_hint = _flow_hint(queue)
    flow, flow_problem = _one(
        spec.inbound_message_flow, snap.flows, "inboundMessageFlow", "inbound message flow", flow_hint
    )
    problem = queue_problem or flow_problem or (_flow_problem(flow, flow_hint) if flow else None)
    config = snap.chosen_configuration(spec)
    deployment = snap.chosen_deployment(spec)
    _note_twins("configuration", config, snap.configurations_of(spec.name), notes)
    _note_twins("deployment", deployment, snap.deployments_of(spec.name), notes)
    _note_copied_markers(config, deployment, notes)
    recorded = record is not None and bool(record.configuration_id or record.deployment_id)
    gone: list[str] = []
    if record is not None:
        gone = [
            kind
            for kind, recorded_id, present in (
                ("configuration", record.configuration_id, config),
                ("deployment", record.deployment_id, deployment),
            )
            if recorded_id and (present is None or present.id != recorded_id)
        ]
        if gone:
            notes.append(f"recorded locally but gone from the org: recreating {' and '.join(gone)}")
    else:
        notes += [f"adopted {k} {o.id} that gcwm made earlier" for k, o in _found(config, deployment)]
    recreating = bool(gone)

    marker = Marker(spec.name, _ANY_JOB)
    live = _live_version(spec, snap, config)
    configuration, version, published_hash = _configuration_change(spec, marker, config, live, notes)
    profile = _profile_change(spec, snap)
    flow_id = flow.id if flow is not None else UNRESOLVED_FLOW
    wanted = desired_deployment(
        spec,
        marker,
        configuration_id=config.id if config is not None and config.id else NEW_CONFIGURATION,
        configuration_version=version,
        flow_id=flow_id,
        supported_content_id=_profile_id(profile, spec),
    )
    reason = None
    if deployment is None:
        dep_change = ObjectChange(action=Action.CREATE, fields=created_fields("deployment", wanted))
    elif deployment.is_broken:
        reason = (
            f"deployment {deployment.id} is in status Error; a new deployment replaces it "
            "(it has a new id, so the website's snippet changes)"
        )
        fields = deployment_changes(wanted, deployment)
        dep_change = ObjectChange(action=Action.REPLACE, id=deployment.id, fields=fields)
    else:
        fields = deployment_changes(wanted, deployment)
        dep_change = ObjectChange(
            action=Action.UPDATE if fields else Action.NOOP, id=deployment.id, fields=fields
        )
    dep_change = _with_consequences(dep_change, configuration, profile, version)
    _note_namesakes(spec, snap, deployment, notes)
    return ChannelChange(
        channel=spec.name,
        action=_overall(configuration.action, profile.action, dep_change.action),
        configuration=configuration,
        deployment=dep_change,
        supported_content=profile,
        queue_id=queue.id if queue is not None else None,
        flow_id=flow.id if flow is not None else None,
        published_version=live.version if live is not None else None,
        published_hash=published_hash,
        deployment_status=deployment.status if deployment is not None else None,
        deployment_active=deployment is not None and deployment.is_active,
        snippet=deployment.snippet if deployment is not None else None,
        recorded=recorded,
        recreating=recreating,
        reason=reason,
        notes=notes,
        problem=problem,
    )


def _live_version(
    spec: ChannelSpec, snap: OrgSnapshot, config: WebDeploymentConfigurationVersion | None
) -> WebDeploymentConfigurationVersion | None:
    """The configuration's live (latest published) version: proven by gcwm's record (then the draft,
    which holds exactly what was published, stands for it), or read from its versions; None if it
    was never published (or, should the snapshot lack the read, is unknown: republishing is safe)."""
    if config is None or config.id is None:
        return None
    if (version := recorded_live(spec, snap)) is not None:
        return config.model_copy(update={"version": version})
    return snap.published.get(config.id)


def _configuration_change(
    spec: ChannelSpec,
    marker: Marker,
    config: WebDeploymentConfigurationVersion | None,
    live: WebDeploymentConfigurationVersion | None,
    notes: list[str],
) -> tuple[ObjectChange, str, str | None]:
    """The configuration's change, the version the deployment will use after it, and the hash of
    what the live version holds when that is the spec."""
    wanted = desired_configuration(spec, marker)
    if config is None:
        return ObjectChange(action=Action.CREATE, fields=created_fields("configuration", wanted)), "1", None
    draft_fields = configuration_changes(wanted, config)
    if live is None or live.number is None:
        notes.append(f"configuration {config.id} was never published: publishing it")
        fields = draft_fields
        return (
            ObjectChange(action=Action.UPDATE, id=config.id, fields=fields, send_draft=bool(fields)),
            "1",
            None,
        )
    live_fields = configuration_changes(wanted, live)
    if live_fields:
        # Publishing makes the next numbered version (shared/genesys/README.md, step 5).
        following = str(live.number + 1)
        notes.append(f"the live version {live.version} differs from the spec: publishing version {following}")
        change = ObjectChange(
            action=Action.UPDATE, id=config.id, fields=live_fields, send_draft=bool(draft_fields)
        )
        return change, following, None
    version = live.version or ""
    if draft_fields:
        notes.append(
            f"the draft was edited outside gcwm and not published (the live version {version} is as "
            "specified): putting the draft back"
        )
        fields = [
            f.model_copy(
                update={
                    "path": f.path.replace("configuration.", "configuration.draft.", 1),
                    "consequence": _DRAFT_PUT_BACK,
                }
            )
            for f in draft_fields
        ]
        change = ObjectChange(action=Action.UPDATE, id=config.id, fields=fields, publish=False)
        return change, version, content_hash(wanted)
    return ObjectChange(action=Action.NOOP, id=config.id), version, content_hash(wanted)


def _profile_change(spec: ChannelSpec, snap: OrgSnapshot) -> ObjectChange:
    """The channel's supported content profile: the one gcwm recorded, else the one named for it."""
    wanted = desired_supported_content(spec)
    if wanted is None:
        return ObjectChange(action=Action.NOOP)
    record = snap.records.get(spec.key)
    recorded = snap.profiles.get(record.supported_content_id or "") if record is not None else None
    existing = recorded or snap.profile_named(wanted.name)
    if existing is None:
        return ObjectChange(action=Action.CREATE, fields=created_fields("supportedContent", wanted))
    fields = supported_content_changes(wanted, existing)
    return ObjectChange(action=Action.UPDATE if fields else Action.NOOP, id=existing.id, fields=fields)


_DRAFT_PUT_BACK = "the draft was edited outside gcwm and not published; the live version is as specified"


def _with_consequences(
    deployment: ObjectChange, configuration: ObjectChange, profile: ObjectChange, version: str
) -> ObjectChange:
    """The deployment's change with the fields that only follow from another change marked so: the
    configuration it points at (a new one, or the version a republish makes) and a new profile."""
    causes: dict[str, str] = {}
    if configuration.action is Action.CREATE:
        causes["deployment.configuration.id"] = "creating the configuration"
        causes["deployment.configuration.version"] = "creating the configuration"
    elif configuration.action is Action.UPDATE and configuration.publish:
        causes["deployment.configuration.version"] = f"publishing the configuration as version {version}"
    if profile.action is Action.CREATE:
        causes["deployment.supportedContent.id"] = "creating the supported content profile"
    if not causes or not deployment.fields:
        return deployment
    fields = [
        f.model_copy(update={"consequence": causes[f.path]}) if f.path in causes else f
        for f in deployment.fields
    ]
    return deployment.model_copy(update={"fields": fields})


def _profile_id(profile: ObjectChange, spec: ChannelSpec) -> str | None:
    if desired_supported_content(spec) is None:
        return None
    return profile.id or NEW_PROFILE


def _overall(configuration: Action, profile: Action, deployment: Action) -> Action:
    if configuration is Action.CREATE and deployment is Action.CREATE:
        return Action.CREATE
    if Action.REPLACE in (configuration, deployment):
        return Action.REPLACE
    if configuration is Action.NOOP and profile is Action.NOOP and deployment is Action.NOOP:
        return Action.NOOP
    return Action.UPDATE


def _note_twins(kind: str, chosen: _Obj | None, marked: Sequence[_Obj], notes: list[str]) -> None:
    """Say which of several objects marked for this channel is used; the others are left alone."""
    others = [o.id for o in marked if chosen is None or o.id != chosen.id]
    if chosen is not None and others:
        left = ", ".join(map(str, others))
        notes.append(
            f"{len(marked)} {kind}s are marked for this channel: using {chosen.id}; left alone: {left}"
        )


def _note_copied_markers(
    config: WebDeploymentConfigurationVersion | None, deployment: WebDeployment | None, notes: list[str]
) -> None:
    """An object whose description carries another channel's marker too (text copied in the admin UI):
    gcwm reads its own (the last) and says so, for a person to clean the description up."""
    for kind, obj in (("configuration", config), ("deployment", deployment)):
        names = list(dict.fromkeys(m.channel for m in read_markers(obj.description if obj else None)))
        if len(names) > 1:
            others = ", ".join(repr(n) for n in names[:-1])
            notes.append(
                f"{kind} {obj.id if obj else ''} carries the markers of two channels ({others} copied in "
                f"front of {names[-1]!r}'s): gcwm reads the last, its own; remove the copied text"
            )


def _note_namesakes(
    spec: ChannelSpec, snap: OrgSnapshot, deployment: WebDeployment | None, notes: list[str]
) -> None:
    # Genesys allows two deployments with one name; say so rather than touch one gcwm did not make.
    for other in snap.deployments.values():
        if other is deployment or channel_key(other.name) != spec.key:
            continue
        marker = read_marker(other.description)
        if marker is None or not marker.is_for(spec.name):
            notes.append(
                f"deployment {other.id} is also named {other.name!r} but gcwm did not make it; left alone"
            )


def _found(
    config: WebDeploymentConfigurationVersion | None, deployment: WebDeployment | None
) -> list[tuple[str, WebDeployment | WebDeploymentConfigurationVersion]]:
    return [(k, o) for k, o in (("configuration", config), ("deployment", deployment)) if o is not None]


_QUEUE_HINT = "create the queue in Genesys Cloud (Admin > Contact Center > Queues) or fix routingQueue"


def _flow_hint(queue: Queue | None) -> str:
    target = f" that transfers to queue {queue.name!r}" if queue is not None else ""
    return f"create and publish an Inbound Message flow in Architect{target}, or fix inboundMessageFlow"


def _one(
    ref: EntityReference, found: dict[str, tuple[_Ref, ...]], field: str, what: str, hint: str
) -> tuple[_Ref | None, Problem | None]:
    matches = found.get(ref_key(ref), ())
    if len(matches) == 1:
        return matches[0], None
    if not matches:
        named = f"with id {ref.id}" if ref.id else repr(ref.name)
        return None, Problem(field=field, message=f"{what} {named} not found in the org; {hint}")
    ids = ", ".join(m.id for m in matches)
    message = f"{len(matches)} {what}s are named {ref.name!r} ({ids}); give its id instead"
    return None, Problem(field=field, message=message)


def _flow_problem(flow: Flow, hint: str) -> Problem | None:
    field = "inboundMessageFlow"
    if not flow.is_message_flow:
        return Problem(
            field=field,
            message=f"flow {flow.name!r} is of type {flow.type}, not an Inbound Message flow; " + hint,
        )
    if not flow.is_published:
        return Problem(
            field=field,
            message=f"flow {flow.name!r} ({flow.id}) is not published; publish it in Architect",
        )
    return None
