"""The plan as `gcwm plan --output json` and provision read it (issue 25): the document's keys, the
overall action of a mixed plan, the target version of a new or unpublished configuration, what
follows from what, and each note word for word."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from gcwm.genesys.models import Flow, Queue
from gcwm.provisioning import Action, build_plan
from gcwm.provisioning.plan import ChannelChange, ObjectChange, plan_verdict
from gcwm.store import Channel
from tests.unit.test_plan import FLOW, NOW, QUEUE, _configuration, _converged, _deployment, _snapshot, _spec

FILE_UPLOAD = "    messenger:\n      fileUpload: {enabled: true, fileTypes: [image/png]}\n"


def _record(**ids: str | None) -> Channel:
    fields: dict[str, Any] = {"configuration_id": None, "configuration_version": None, "deployment_id": None}
    fields |= ids
    return Channel(
        id="x",
        org_id="org-1",
        name="web",
        name_key="web",
        spec={},
        spec_hash="h",
        status="active",
        deployment_status="Active",
        snippet="",
        created_at=NOW,
        updated_at=NOW,
        proposed_csp=None,
        **fields,
    )


def test_action_names_are_the_documents_words() -> None:
    """What `action` says in the JSON, and what a checkpoint stores."""
    assert [a.value for a in Action] == ["create", "update", "replace", "no-op", "delete"]
    assert Action("delete") is Action.DELETE


def test_a_create_points_the_deployment_at_version_1_of_the_configuration_it_makes() -> None:
    """Both follow from creating the configuration; a flow not found is named as unresolved."""
    (change,) = build_plan([_spec()], _snapshot()).changes
    fields = {f.path: f for f in change.deployment.fields}
    assert (fields["deployment.configuration.id"].new, fields["deployment.configuration.version"].new) == (
        "(new configuration)",
        "1",
    )
    assert fields["deployment.configuration.version"].consequence == "creating the configuration"
    assert change.summary()["action"] == "create"
    (unresolved,) = build_plan([_spec()], _snapshot(flows=())).changes
    assert {f.path: f.new for f in unresolved.deployment.fields}["deployment.flow.id"] == "(unresolved flow)"


def test_a_new_profile_is_created_with_its_own_fields_and_the_deployment_points_at_it() -> None:
    """`supportedContent.*` fields from null; the deployment's profile id follows from the create."""
    (change,) = build_plan([_spec(extra=FILE_UPLOAD)], _snapshot()).changes
    assert change.supported_content.action is Action.CREATE
    assert {f.path for f in change.supported_content.fields} >= {"supportedContent.name"}
    fields = {f.path: f for f in change.deployment.fields}
    assert fields["deployment.supportedContent.id"].new == "(new supported content profile)"


def test_an_unpublished_configuration_is_published_as_version_1_and_the_deployment_follows() -> None:
    """Never published: the deployment's version moves to 1, as a consequence of publishing."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        deployments=[_deployment("web", ["example.com"], version="7")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    (moved,) = change.deployment.fields
    assert (moved.path, moved.old, moved.new) == ("deployment.configuration.version", "7", "1")
    assert moved.consequence == "publishing the configuration as version 1"
    assert change.notes[-1] == "configuration c-1 was never published: publishing it"


def test_a_republish_says_which_version_differs_and_which_it_makes() -> None:
    """The note names the live version and the next."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT", color="#000000")],
        published=[_configuration("web", "3", color="#000000")],
        deployments=[_deployment("web", ["example.com"], version="3")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    assert "the live version 3 differs from the spec: publishing version 4" in change.notes
    assert change.summary()["action"] == "update"


def test_a_configuration_to_create_beside_a_deployment_that_exists_is_an_update() -> None:
    """Only a create of both is a create."""
    (change,) = build_plan([_spec()], _snapshot(deployments=[_deployment("web", ["example.com"])])).changes
    assert (change.configuration.action, change.deployment.action) == (Action.CREATE, Action.UPDATE)
    assert change.action is Action.UPDATE


def test_a_recorded_profile_is_used_even_when_renamed_in_the_org() -> None:
    """gcwm's record names the profile: renamed by hand, it is updated back, not made again."""
    profile = {"id": "p-9", "name": "renamed", "mediaTypes": {"allow": {"inbound": [{"type": "image/png"}]}}}
    from gcwm.genesys.models import SupportedContent

    snapshot = dataclasses.replace(
        _converged(),
        records={"web": _record(configuration_id="c-1", deployment_id="d-1", supported_content_id="p-9")},
        profiles={"p-9": SupportedContent.model_validate(profile)},
        profiles_read=True,
    )
    (change,) = build_plan([_spec(extra=FILE_UPLOAD)], snapshot).changes
    assert (change.supported_content.action, change.supported_content.id) == (Action.UPDATE, "p-9")
    assert change.recorded


def test_a_record_holding_only_a_configuration_counts_as_recorded() -> None:
    """Either id recorded is gcwm's own knowledge of the channel."""
    (change,) = build_plan(
        [_spec()], dataclasses.replace(_converged(), records={"web": _record(configuration_id="c-1")})
    ).changes
    assert change.recorded


def test_both_objects_recorded_and_gone_are_both_recreated_and_said_so() -> None:
    """One note naming both."""
    snapshot = _snapshot(records=[_record(configuration_id="c-gone", deployment_id="d-gone")])
    (change,) = build_plan([_spec()], snapshot).changes
    assert change.notes == ["recorded locally but gone from the org: recreating configuration and deployment"]
    assert change.recreating


def test_twins_and_copied_markers_are_noted_word_for_word() -> None:
    """Three configurations marked for the channel; a deployment carrying another channel's marker too."""
    drafts = [{**_configuration("web", "DRAFT"), "id": f"c-{n}"} for n in (1, 2, 3)]
    copied = {
        **_deployment("web", ["example.com"]),
        "description": "[gcwm channel=shop job=a] [gcwm channel=web job=b]",
    }
    snapshot = _snapshot(drafts=drafts, published=[_configuration("web", "1")], deployments=[copied])
    (change,) = build_plan([_spec()], snapshot).changes
    assert "3 configurations are marked for this channel: using c-1; left alone: c-2, c-3" in change.notes
    assert (
        "deployment d-1 carries the markers of two channels ('shop' copied in front of 'web''s): gcwm"
        " reads the"
        " last, its own; remove the copied text"
    ) in change.notes


def test_namesakes_gcwm_did_not_make_are_noted_and_twins_or_other_names_are_not() -> None:
    """Another channel's deployment, or one of another name, is not this channel's namesake."""
    mine = _deployment("web", ["example.com"])
    twin = {**mine, "id": "d-2", "description": "[gcwm channel=web job=b]"}
    elsewhere = {**mine, "id": "d-3", "name": "shop", "description": "made by hand"}
    theirs = {**mine, "id": "d-4", "description": "[gcwm channel=shop job=c]"}
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        published=[_configuration("web", "1")],
        deployments=[mine, twin, elsewhere, theirs],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    namesakes = [n for n in change.notes if "gcwm did not make it" in n]
    assert namesakes == ["deployment d-4 is also named 'web' but gcwm did not make it; left alone"]


@pytest.mark.parametrize(
    ("queues", "flows", "field", "message"),
    [
        (
            (),
            (FLOW,),
            "routingQueue",
            "routing queue 'Support' not found in the org; create the queue in Genesys Cloud (Admin >"
            " Contact Center > Queues) or fix routingQueue",
        ),
        (
            (QUEUE, Queue(id="q-2", name="support")),
            (FLOW,),
            "routingQueue",
            "2 routing queues are named 'Support' (q-1, q-2); give its id instead",
        ),
        (
            (QUEUE,),
            (),
            "inboundMessageFlow",
            "inbound message flow 'Support Messaging Flow' not found in the org; create and publish an"
            " Inbound Message flow in Architect that transfers to queue 'Support', or fix"
            " inboundMessageFlow",
        ),
        (
            (QUEUE,),
            (Flow(id="f-2", name="Support Messaging Flow", type="INBOUNDSHORTMESSAGE"),),
            "inboundMessageFlow",
            "flow 'Support Messaging Flow' (f-2) is not published; publish it in Architect",
        ),
    ],
)
def test_a_reference_that_cannot_be_used_is_a_problem_naming_the_field_and_what_to_do(
    queues: tuple[Queue, ...], flows: tuple[Flow, ...], field: str, message: str
) -> None:
    """The plan lists the channel's problem, and the document carries it as its error."""
    plan = build_plan([_spec()], _snapshot(queues=queues, flows=flows))
    (change,) = plan.changes
    assert change.problem is not None and (change.problem.field, change.problem.message) == (field, message)
    assert plan.problems == [change]
    assert change.summary()["error"] == {"field": field, "message": message}


def test_a_queue_given_by_an_id_the_org_lacks_is_named_by_its_id() -> None:
    """`routingQueue: {id: ...}`."""
    spec = _spec().model_copy(
        update={"routing_queue": _spec().routing_queue.model_copy(update={"id": "q-9", "name": None})}
    )
    (change,) = build_plan([spec], _snapshot(queues=())).changes
    assert change.problem is not None and change.problem.message.startswith(
        "routing queue with id q-9 not found"
    )


def test_the_document_of_a_plan_carries_channel_action_fields_reason_and_notes() -> None:
    """Exactly these keys: reason and notes only when there are some, error only with a problem."""
    (noop,) = build_plan(
        [_spec()],
        dataclasses.replace(
            _converged(), records={"web": _record(configuration_id="c-1", deployment_id="d-1")}
        ),
    ).changes
    assert noop.summary() == {"channel": "web", "action": "no-op", "fields": []}
    broken = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        published=[_configuration("web", "1")],
        deployments=[_deployment("web", ["example.com"], status="Error")],
    )
    (replace,) = build_plan([_spec()], broken).changes
    document = replace.summary()
    assert set(document) == {"channel", "action", "fields", "reason", "notes"}
    assert document["action"] == "replace"
    assert document["reason"] == replace.reason and document["notes"] == replace.notes


def test_a_plan_is_a_frozen_value_and_counts_every_action() -> None:
    """The verdict's numbers, plural or not; a plan without problems lists none."""
    plan = build_plan([_spec(), _spec(name="other")], _converged())
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.org_id = "x"  # type: ignore[misc]
    assert plan.problems == []
    assert (
        plan_verdict(build_plan([_spec(), _spec()], _converged()), [])
        == "no changes: 2 channels as specified"
    )


def test_a_checkpointed_change_from_before_these_flags_reads_them_as_false() -> None:
    """Plans stored by an earlier gcwm lack recorded, recreating and deployment_active."""
    stored = {
        "channel": "web",
        "action": "no-op",
        "configuration": ObjectChange(action=Action.NOOP).model_dump(mode="json"),
        "deployment": ObjectChange(action=Action.NOOP).model_dump(mode="json"),
    }
    change = ChannelChange.model_validate(stored)
    assert (change.recorded, change.recreating, change.deployment_active) == (False, False, False)
