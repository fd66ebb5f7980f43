"""build_plan: what provisioning would change, from a spec and the org as observed. Pure, no I/O."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from gcwm.genesys.models import Flow, Queue, WebDeployment, WebDeploymentConfigurationVersion
from gcwm.provisioning import Action, build_plan
from gcwm.provisioning.observe import OrgSnapshot
from gcwm.spec import ChannelSpec, parse_spec
from gcwm.store import Channel

QUEUE = Queue(id="q-1", name="Support")
FLOW = Flow.model_validate(
    {
        "id": "f-1",
        "name": "Support Messaging Flow",
        "type": "INBOUNDSHORTMESSAGE",
        "publishedVersion": {"id": "1"},
    }
)
NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _spec(name: str = "web", domains: str = "[example.com]", extra: str = "") -> ChannelSpec:
    (spec,) = parse_spec(
        f"channels:\n  - name: {name}\n    routingQueue: Support\n"
        f"    inboundMessageFlow: Support Messaging Flow\n    allowedDomains: {domains}\n{extra}"
    )
    return spec


def _configuration(
    name: str, version: str, *, color: str = "#FF4F1F", marker: str | None = None
) -> dict[str, Any]:
    """A configuration version as Genesys answers it, with the fields Genesys adds around gcwm's."""
    return {
        "id": "c-1",
        "name": name,
        "version": version,
        "description": marker if marker is not None else f"[gcwm channel={name.replace(' ', '%20')} job=abc]",
        "languages": ["en-us"],
        "defaultLanguage": "en-us",
        "headlessMode": {"enabled": False},
        "messenger": {
            "enabled": True,
            "styles": {"primaryColor": color},
            "launcherButton": {"visibility": "On"},
            "fileUpload": {"enableAttachments": False},
            "apps": {"conversations": {"enabled": True, "showAgentTypingIndicator": True}},
        },
        "status": "Active",
    }


def _deployment(
    name: str, domains: list[str], *, status: str = "Active", version: str = "1"
) -> dict[str, Any]:
    return {
        "id": "d-1",
        "name": name,
        "description": f"[gcwm channel={name.replace(' ', '%20')} job=abc]",
        "allowAllDomains": False,
        "allowedDomains": domains,
        "flow": {"id": "f-1", "name": "Support Messaging Flow"},
        "configuration": {"id": "c-1", "version": version},
        "status": status,
        "snippet": "<script>...</script>",
    }


def _snapshot(
    *,
    drafts: list[dict[str, Any]] = (),  # type: ignore[assignment]
    published: list[dict[str, Any]] = (),  # type: ignore[assignment]
    deployments: list[dict[str, Any]] = (),  # type: ignore[assignment]
    records: list[Channel] = (),  # type: ignore[assignment]
    queues: tuple[Queue, ...] = (QUEUE,),
    flows: tuple[Flow, ...] = (FLOW,),
) -> OrgSnapshot:
    parse_cfg = WebDeploymentConfigurationVersion.model_validate
    return OrgSnapshot(
        org_id="org-1",
        observed_at=NOW,
        drafts={d["id"]: parse_cfg(d) for d in drafts},
        published={p["id"]: parse_cfg(p) for p in published},
        deployments={d["id"]: WebDeployment.model_validate(d) for d in deployments},
        queues={"name:support": queues},
        flows={"name:support messaging flow": flows},
        records={r.name_key: r for r in records},
    )


def _converged(name: str = "web", domains: list[str] | None = None) -> OrgSnapshot:
    return _snapshot(
        drafts=[_configuration(name, "DRAFT")],
        published=[_configuration(name, "1")],
        deployments=[_deployment(name, domains or ["example.com"])],
    )


def test_empty_org_plans_a_create_of_both_objects() -> None:
    """Nothing there yet: create the configuration and the deployment, routed through the resolved flow."""
    (change,) = build_plan([_spec()], _snapshot()).changes
    assert change.action is Action.CREATE
    assert (change.configuration.action, change.deployment.action) == (Action.CREATE, Action.CREATE)
    assert (change.queue_id, change.flow_id, change.problem) == ("q-1", "f-1", None)


def test_org_holding_what_the_spec_asks_plans_no_change() -> None:
    """Fields Genesys adds around gcwm's (typing indicators, status, ids) are not differences."""
    plan = build_plan([_spec()], _converged())
    (change,) = plan.changes
    assert change.action is Action.NOOP and change.fields == []
    assert not plan.has_changes
    assert (change.published_version, change.deployment_status) == ("1", "Active")


def test_domain_added_behind_gcwms_back_is_an_update_of_that_field() -> None:
    """An edit in the admin UI shows as the field, with the org's value and the spec's."""
    (change,) = build_plan([_spec()], _converged(domains=["example.com", "evil.example"])).changes
    assert change.action is Action.UPDATE
    assert change.configuration.action is Action.NOOP
    assert [(f.path, f.old, f.new) for f in change.fields] == [
        ("deployment.allowedDomains", ["example.com", "evil.example"], ["example.com"])
    ]


def test_changed_colour_republishes_and_moves_the_deployment_to_the_next_version() -> None:
    """The configuration update names the leaf that changed; the deployment follows to version 2."""
    spec = _spec(extra="    messenger: {primaryColor: '#000000'}\n")
    (change,) = build_plan([spec], _converged()).changes
    assert change.action is Action.UPDATE
    assert [(f.path, f.old, f.new) for f in change.configuration.fields] == [
        ("configuration.messenger.styles.primaryColor", "#FF4F1F", "#000000")
    ]
    assert [(f.path, f.old, f.new) for f in change.deployment.fields] == [
        ("deployment.configuration.version", "1", "2")
    ]


def test_reordered_domains_are_not_a_change() -> None:
    """An allow-list has no order."""
    snapshot = _converged(domains=["b.example.com", "a.example.com"])
    (change,) = build_plan([_spec(domains="[a.example.com, b.example.com]")], snapshot).changes
    assert change.action is Action.NOOP


def test_objects_of_a_near_identical_name_are_not_this_channels() -> None:
    """`web_one`'s objects are not `web one`'s: the plan creates, and says a namesake exists."""
    (change,) = build_plan([_spec("web one")], _converged("web_one")).changes
    assert change.action is Action.CREATE


def test_a_name_differing_only_in_case_is_the_same_channel_renamed() -> None:
    """Names are compared case-insensitively, as Genesys does: `Web` renames `web` (and republishes)."""
    (change,) = build_plan([_spec("Web")], _converged("web")).changes
    assert change.action is Action.UPDATE
    assert {f.path for f in change.fields} == {
        "configuration.name",
        "deployment.name",
        "deployment.configuration.version",
    }


def test_a_marker_of_another_job_is_not_a_difference() -> None:
    """Markers name the job that wrote an object; only the user's own description text is compared."""
    described = _converged()
    for obj in (*described.drafts.values(), *described.published.values(), *described.deployments.values()):
        object.__setattr__(obj, "description", "Chat for the shop [gcwm channel=web job=0123-abcd]")
    same = _spec(extra="    description: Chat for the shop\n")
    other = _spec(extra="    description: Chat for the store\n")
    assert build_plan([same], described).changes[0].action is Action.NOOP
    (change,) = build_plan([other], described).changes
    assert ("deployment.description", "Chat for the shop", "Chat for the store") in [
        (f.path, f.old, f.new) for f in change.fields
    ]


def test_an_object_found_by_its_marker_but_not_recorded_is_adopted() -> None:
    """gcwm's store lost its record (another machine, a wiped database): the org's word counts."""
    (change,) = build_plan([_spec()], _converged()).changes
    assert not change.recorded
    assert change.notes == [
        "adopted configuration c-1 that gcwm made earlier",
        "adopted deployment d-1 that gcwm made earlier",
    ]


def test_a_recorded_deployment_gone_from_the_org_is_created_again() -> None:
    """The local record is not trusted over the org: a deleted deployment is recreated, and said so."""
    record = Channel(
        id="x", org_id="org-1", name="web", name_key="web", spec={}, spec_hash="h", status="active",
        configuration_id="c-1", configuration_version="1", deployment_id="d-gone", deployment_status="Active",
        snippet="", created_at=NOW, updated_at=NOW, proposed_csp=None,
    )  # fmt: skip
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")], published=[_configuration("web", "1")], records=[record]
    )
    (change,) = build_plan([_spec()], snapshot).changes
    assert change.recorded
    assert (change.configuration.action, change.deployment.action) == (Action.NOOP, Action.CREATE)
    assert change.notes == ["recorded locally but gone from the org: recreating deployment"]


def test_a_configuration_never_published_is_published() -> None:
    """A draft with no numbered version (a crash between create and publish, by hand or by tool)."""
    snapshot = _snapshot(drafts=[_configuration("web", "DRAFT")], deployments=[])
    (change,) = build_plan([_spec()], snapshot).changes
    assert change.configuration.action is Action.UPDATE and change.configuration.fields == []
    assert any("never published" in note for note in change.notes)


def test_a_deployment_in_error_is_replaced_and_the_plan_says_why() -> None:
    """Genesys gave up on it; a new deployment has a new id, so the website's snippet changes."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        published=[_configuration("web", "1")],
        deployments=[_deployment("web", ["example.com"], status="Error")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    assert change.action is Action.REPLACE
    assert change.deployment.id == "d-1"
    assert change.reason is not None and "Error" in change.reason and "snippet" in change.reason


def test_a_missing_queue_is_a_problem_naming_the_field_and_what_to_do() -> None:
    """The plan still shows the change, and says why it cannot be made."""
    (change,) = build_plan([_spec()], _snapshot(queues=())).changes
    assert change.problem is not None
    assert change.problem.field == "routingQueue"
    assert "routing queue 'Support' not found" in change.problem.message
    assert "create the queue" in change.problem.message


def test_two_queues_of_one_name_ask_for_an_id() -> None:
    """A name that matches twice cannot be guessed between."""
    twin = Queue(id="q-2", name="support")
    (change,) = build_plan([_spec()], _snapshot(queues=(QUEUE, twin))).changes
    assert change.problem is not None and "give its id instead" in change.problem.message


def test_an_unpublished_or_wrong_type_flow_is_a_problem() -> None:
    """The deployment would point at a flow that cannot route messages."""
    draft_flow = Flow(id="f-2", name="Support Messaging Flow", type="INBOUNDSHORTMESSAGE")
    voice = Flow.model_validate({**FLOW.model_dump(by_alias=True), "type": "INBOUNDCALL"})
    for flow, expected in ((draft_flow, "is not published"), (voice, "is of type INBOUNDCALL")):
        (change,) = build_plan([_spec()], _snapshot(flows=(flow,))).changes
        assert change.problem is not None and expected in change.problem.message


def test_a_deployment_of_the_same_name_gcwm_did_not_make_is_left_alone_and_noted() -> None:
    """Genesys allows two deployments with one name: gcwm makes its own and says the other exists."""
    theirs = {**_deployment("web", ["other.example"]), "id": "d-9", "description": "made by hand"}
    (change,) = build_plan([_spec()], _snapshot(deployments=[theirs])).changes
    assert change.deployment.action is Action.CREATE
    assert change.notes == ["deployment d-9 is also named 'web' but gcwm did not make it; left alone"]


def test_of_two_deployments_marked_for_a_channel_the_first_listed_is_used_and_the_other_named() -> None:
    """Markers are compared as names are (`Web` is `web`); a marker for another channel is not a twin."""
    first = {**_deployment("web", ["example.com"]), "id": "d-1"}
    twin = {**_deployment("web", ["example.com"]), "id": "d-2", "description": "[gcwm channel=Web job=b]"}
    other = {
        **_deployment("web", ["example.com"]),
        "id": "d-3",
        "description": "[gcwm channel=webshop job=c]",
    }
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        published=[_configuration("web", "1")],
        deployments=[first, twin, other],
    )
    assert [d.id for d in snapshot.deployments_of("WEB")] == ["d-1", "d-2"]
    (change,) = build_plan([_spec()], snapshot).changes
    assert change.deployment.id == "d-1"
    assert "2 deployments are marked for this channel: using d-1; left alone: d-2" in change.notes


def _record(name: str, sessions: int, status: str = "active") -> Channel:
    return Channel(
        id=name, org_id="org-1", name=name, name_key=name, spec={"maxConcurrentSessions": sessions},
        spec_hash="h", status=status, configuration_id=None, configuration_version=None, deployment_id=None,
        deployment_status=None, snippet=None, created_at=NOW, updated_at=NOW, proposed_csp=None,
    )  # fmt: skip


def test_sessions_elsewhere_are_the_recorded_total_less_the_channels_in_hand() -> None:
    """The total comes from the store (every channel not removed); the channels in hand are taken
    out by their own records, so a channel resubmitted does not count against itself."""
    in_hand = [_record("a", 30), _record("b", 20, "removed"), _record("c", 10)]
    snapshot = replace(_snapshot(records=in_hand), sessions_recorded=100)
    assert snapshot.sessions_elsewhere({"a"}) == 70
    assert snapshot.sessions_elsewhere({"b"}) == 100  # a removed channel takes none
    assert snapshot.sessions_elsewhere({"a", "c", "new"}) == 60
