"""Issue 24, item 5: the plan as Terraform shows one. Creates list every field they set, each field
names its spec path (and its API path), lists change item by item, and what only follows from another
change says so. Pure: snapshots built by hand."""

from __future__ import annotations

from gcwm.errors import Finding
from gcwm.provisioning import Action, build_plan
from gcwm.provisioning.mapping import (
    SET_BY_GCWM,
    FieldChange,
    Marker,
    created_fields,
    desired_configuration,
    desired_deployment,
    desired_supported_content,
    is_mapped,
    spec_path,
)
from gcwm.provisioning.plan import plan_verdict
from gcwm.provisioning.results import audit_fields
from gcwm.store import JobStep
from tests.unit.test_plan import NOW, _configuration, _converged, _deployment, _snapshot, _spec

EVERYTHING = """    description: Sales chat
    messenger:
      primaryColor: "#112233"
      launcherVisibility: OnDemand
      languages: [en-us, fr]
      defaultLanguage: fr
      headlessMode: true
      fileUpload: {enabled: true, fileTypes: [image/png, application/pdf], maxFileSizeKB: 2048}
      labels: {fr: {MessengerHomeHeaderTitle: Bonjour}}
      homeScreen: {enabled: true, logoUrl: "https://cdn.example.com/logo.png"}
      bot: {name: Ava, avatarUrl: "https://cdn.example.com/ava.png"}
"""


def test_every_field_gcwm_sets_has_a_spec_path_or_is_gcwms_own() -> None:
    """The table from API path to spec path covers whatever a spec using every field makes."""
    spec = _spec(extra=EVERYTHING)
    marker = Marker(spec.name, "0")
    profile = desired_supported_content(spec)
    assert profile is not None
    deployment = desired_deployment(
        spec, marker, configuration_id="c", configuration_version="1", flow_id="f", supported_content_id="p"
    )
    fields = [
        *created_fields("configuration", desired_configuration(spec, marker)),
        *created_fields("supportedContent", profile),
        *created_fields("deployment", deployment),
    ]
    assert [f.path for f in fields if not is_mapped(f.path)] == []
    paths = {f.path: f.spec_path for f in fields}
    assert paths["configuration.messenger.styles.primaryColor"] == "messenger.primaryColor"
    assert paths["configuration.messenger.launcherButton.visibility"] == "messenger.launcherVisibility"
    assert paths["configuration.messenger.apps.conversations.humanize.bot.name"] == "messenger.bot.name"
    assert paths["configuration.customI18nLabels"] == "messenger.labels"
    assert paths["supportedContent.mediaTypes.allow.inbound"] == "messenger.fileUpload.fileTypes"
    assert paths["deployment.flow.id"] == "inboundMessageFlow"
    assert spec_path("configuration.draft.messenger.styles.primaryColor") == "messenger.primaryColor"


def test_a_create_lists_every_field_it_sets_from_null() -> None:
    """No `"fields": []` for a create: each field with old null, gcwm's own settings marked so."""
    (change,) = build_plan([_spec(extra=EVERYTHING)], _snapshot()).changes
    assert change.action is Action.CREATE
    by_path = {f.path: f for f in change.fields}
    assert all(f.old is None for f in change.fields)
    assert by_path["configuration.messenger.styles.primaryColor"].new == "#112233"
    assert by_path["configuration.description"].new == "Sales chat"  # without gcwm's marker
    assert by_path["deployment.allowedDomains"].new == ["example.com"]
    assert by_path["configuration.messenger.apps.conversations.enabled"].consequence == SET_BY_GCWM
    assert by_path["deployment.configuration.id"].consequence == "creating the configuration"
    assert by_path["deployment.supportedContent.id"].consequence == "creating the supported content profile"
    assert by_path["deployment.allowedDomains"].consequence is None


def test_a_version_move_after_a_republish_is_a_consequence_not_a_change_of_the_users() -> None:
    """The colour changed: the configuration is published as version 2 and the deployment moves there."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT", color="#000000")],
        published=[_configuration("web", "1", color="#000000")],
        deployments=[_deployment("web", ["example.com"])],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    documents = {f["apiPath"]: f for f in change.summary()["fields"]}
    assert documents["configuration.messenger.styles.primaryColor"] == {
        "path": "messenger.primaryColor",
        "apiPath": "configuration.messenger.styles.primaryColor",
        "old": "#000000",
        "new": "#FF4F1F",
        "consequence": False,
    }
    assert documents["deployment.configuration.version"] == {
        "path": "deployment.configuration.version",
        "apiPath": "deployment.configuration.version",
        "old": "1",
        "new": "2",
        "consequence": True,
        "followsFrom": "publishing the configuration as version 2",
    }


def test_a_deployment_pointed_at_another_version_by_hand_is_drift_not_a_consequence() -> None:
    """The configuration is as specified; only the deployment's version was changed in the admin UI."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        published=[_configuration("web", "2")],
        deployments=[_deployment("web", ["example.com"], version="1")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    (moved,) = change.fields
    assert (moved.path, moved.old, moved.new, moved.consequence) == (
        "deployment.configuration.version",
        "1",
        "2",
        None,
    )


def test_a_draft_put_back_is_shown_as_following_from_the_edit_outside_gcwm() -> None:
    """`configuration.draft.*` fields are restores the user did not ask for: marked, with the reason."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT", color="#00FF00")],
        published=[_configuration("web", "3")],
        deployments=[_deployment("web", ["example.com"], version="3")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    (restored,) = change.summary()["fields"]
    assert restored["path"] == "messenger.primaryColor"
    assert restored["apiPath"] == "configuration.draft.messenger.styles.primaryColor"
    assert restored["consequence"] is True and "edited outside gcwm" in restored["followsFrom"]


def test_a_list_change_is_told_item_by_item() -> None:
    """Domains added and removed, compared as the plan compares them (case does not count)."""
    (change,) = build_plan(
        [_spec(domains="[example.com, shop.example.com]")],
        _converged(domains=["EXAMPLE.com", "old.example.com"]),
    ).changes
    (domains,) = change.fields
    assert domains.list_delta() == (["shop.example.com"], ["old.example.com"])
    document = domains.document()
    assert (document["added"], document["removed"]) == (["shop.example.com"], ["old.example.com"])
    assert FieldChange("deployment.name", "a", "b").list_delta() is None


def test_the_verdict_says_what_provision_would_refuse_else_the_counts() -> None:
    """The line a plan opens with."""
    plan = build_plan([_spec(), _spec(name="other")], _converged())
    assert plan_verdict(plan, []) == "1 to create, 0 to update, 0 to replace, 1 unchanged"
    assert plan_verdict(build_plan([_spec()], _converged()), []) == "no changes: 1 channel as specified"
    blocking = [Finding("domain_invalid", "high", "allowedDomains[0]", "bad", "f.yaml", "web")]
    assert plan_verdict(plan, blocking) == (
        "provision would refuse: 1 blocking finding (1 channel); nothing would be written"
    )


def test_the_audit_entry_takes_the_fields_from_the_planned_checkpoint() -> None:
    """Spec path, API path, old and new; what follows from another change flagged; nothing else."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT", color="#000000")],
        published=[_configuration("web", "1", color="#000000")],
        deployments=[_deployment("web", ["example.com"])],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    steps = [
        JobStep("j", "planned", 1, change.document(), 1.0, 1, NOW),
        JobStep("j", "x", 2, {}, 1.0, 1, NOW),
    ]
    assert audit_fields(steps) == [
        {
            "path": "messenger.primaryColor",
            "apiPath": "configuration.messenger.styles.primaryColor",
            "old": "#000000",
            "new": "#FF4F1F",
        },
        {
            "path": "deployment.configuration.version",
            "apiPath": "deployment.configuration.version",
            "old": "1",
            "new": "2",
            "consequence": True,
        },
    ]
    assert audit_fields([]) == [] and audit_fields([JobStep("j", "planned", 1, {"x": 1}, 1.0, 1, NOW)]) == []
