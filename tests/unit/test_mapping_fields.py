"""Field by field (issue 25): for every field gcwm owns on the configuration, the deployment and the
supported content profile, the org's object changed in exactly that field is exactly one change, with
its API path, spec path, old and new value; in the mapping's comparisons and in the plan built on them.
And the desired configuration with every optional block set goes to Genesys and back unchanged."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pydantic
import pytest

from gcwm.genesys.models import SupportedContent, WebDeployment, WebDeploymentConfigurationVersion
from gcwm.provisioning import Action, build_plan
from gcwm.provisioning.mapping import (
    FieldChange,
    Marker,
    allowed_domains,
    configuration_changes,
    content_hash,
    created_fields,
    deployment_changes,
    desired_configuration,
    desired_deployment,
    desired_supported_content,
    profile_channel,
    profile_name,
    read_marker,
    spec_path,
    supported_content_changes,
)
from gcwm.provisioning.observe import OrgSnapshot
from tests.unit.test_plan import FLOW, NOW, QUEUE, _spec
from tests.unit.test_plan_fields import EVERYTHING

SPEC = _spec(extra=EVERYTHING)
MARKER = Marker(SPEC.name, "0")
CONFIGURATION = desired_configuration(SPEC, MARKER)
DEPLOYMENT = desired_deployment(
    SPEC, MARKER, configuration_id="c-1", configuration_version="1", flow_id="f-1", supported_content_id="p-1"
)
PROFILE = desired_supported_content(SPEC)
assert PROFILE is not None

Path = tuple[str | int, ...]

# (where in the configuration, the org's value, the field that changes, its spec path)
CONFIGURATION_FIELDS: list[tuple[Path, Any, str, str | None]] = [
    (("name",), "web2", "name", "name"),
    (("languages",), ["en-us"], "languages", "messenger.languages"),
    (("defaultLanguage",), "en-us", "defaultLanguage", "messenger.defaultLanguage"),
    (("headlessMode", "enabled"), False, "headlessMode.enabled", "messenger.headlessMode"),
    (("messenger", "enabled"), False, "messenger.enabled", "messenger.enabled"),
    (
        ("messenger", "styles", "primaryColor"),
        "#000000",
        "messenger.styles.primaryColor",
        "messenger.primaryColor",
    ),
    (
        ("messenger", "launcherButton", "visibility"),
        "On",
        "messenger.launcherButton.visibility",
        "messenger.launcherVisibility",
    ),
    (
        ("messenger", "fileUpload", "enableAttachments"),
        False,
        "messenger.fileUpload.enableAttachments",
        "messenger.fileUpload.enabled",
    ),
    (
        ("messenger", "fileUpload", "modes", 0, "maxFileSizeKB"),
        1024,
        "messenger.fileUpload.modes",
        "messenger.fileUpload",
    ),
    (
        ("messenger", "fileUpload", "modes", 0, "fileTypes"),
        ["image/jpeg"],
        "messenger.fileUpload.modes",
        "messenger.fileUpload",
    ),
    (("messenger", "apps", "conversations", "enabled"), False, "messenger.apps.conversations.enabled", None),
    (
        ("messenger", "apps", "conversations", "humanize", "enabled"),
        False,
        "messenger.apps.conversations.humanize.enabled",
        "messenger.bot",
    ),
    (
        ("messenger", "apps", "conversations", "humanize", "bot", "name"),
        "Bob",
        "messenger.apps.conversations.humanize.bot.name",
        "messenger.bot.name",
    ),
    (
        ("messenger", "apps", "conversations", "humanize", "bot", "avatarUrl"),
        "https://cdn.example.com/bob.png",
        "messenger.apps.conversations.humanize.bot.avatarUrl",
        "messenger.bot.avatarUrl",
    ),
    (
        ("messenger", "homeScreen", "enabled"),
        False,
        "messenger.homeScreen.enabled",
        "messenger.homeScreen.enabled",
    ),
    (
        ("messenger", "homeScreen", "logoUrl"),
        "https://cdn.example.com/other.png",
        "messenger.homeScreen.logoUrl",
        "messenger.homeScreen.logoUrl",
    ),
    (("customI18nLabels", 0, "localizedLabels", 0, "value"), "Salut", "customI18nLabels", "messenger.labels"),
    (("customI18nLabels", 0, "language"), "de", "customI18nLabels", "messenger.labels"),
]
DEPLOYMENT_FIELDS: list[tuple[Path, Any, str, str | None]] = [
    (("name",), "web2", "name", "name"),
    (("allowAllDomains",), True, "allowAllDomains", "security.allowAllDomains"),
    (("allowedDomains",), ["example.com", "evil.example"], "allowedDomains", "allowedDomains"),
    (("flow", "id"), "f-2", "flow.id", "inboundMessageFlow"),
    (("supportedContent", "id"), "p-2", "supportedContent.id", "messenger.fileUpload"),
    (("configuration", "id"), "c-2", "configuration.id", None),
    (("configuration", "version"), "2", "configuration.version", None),
]
PROFILE_FIELDS: list[tuple[Path, Any, str, str | None]] = [
    (("name",), "web2 (gcwm)", "name", "name"),
    (
        ("mediaTypes", "allow", "inbound"),
        [{"type": "image/png"}],
        "mediaTypes.allow.inbound",
        "messenger.fileUpload.fileTypes",
    ),
    (("mediaTypes", "allow", "outbound"), [{"type": "image/png"}], "mediaTypes.allow.outbound", None),
]


def _get(document: Any, path: Path) -> Any:
    for part in path:
        document = document[part]
    return document


def _changed(document: dict[str, Any], path: Path, value: Any) -> dict[str, Any]:
    out = copy.deepcopy(document)
    _get(out, path[:-1])[path[-1]] = value
    return out


def _top(document: dict[str, Any], field: str) -> Any:
    """The value a change names: the leaf, or the whole list a list field compares."""
    return _get(document, tuple(field.split(".")))


def _assert_one(changes: list[FieldChange], path: str, old: Any, new: Any, spec: str | None) -> None:
    assert len(changes) == 1, changes
    (change,) = changes
    assert (change.path, change.old, change.new, change.spec_path) == (path, old, new, spec)


@pytest.mark.parametrize(("where", "value", "field", "spec"), CONFIGURATION_FIELDS)
def test_a_configuration_field_changed_in_the_org_is_exactly_that_one_change(
    where: Path, value: Any, field: str, spec: str | None
) -> None:
    """Old is the org's value, new the spec's; the API path names the field, the spec path its source."""
    wanted = CONFIGURATION.dump()
    seen = _changed(wanted, where, value)
    changes = configuration_changes(CONFIGURATION, WebDeploymentConfigurationVersion.model_validate(seen))
    _assert_one(changes, f"configuration.{field}", _top(seen, field), _top(wanted, field), spec)


def test_a_configuration_description_changed_in_the_org_is_compared_without_the_marker() -> None:
    """Only the user's own text counts: the marker names a job."""
    seen = CONFIGURATION.dump() | {"description": "Other text [gcwm channel=web job=1]"}
    changes = configuration_changes(CONFIGURATION, WebDeploymentConfigurationVersion.model_validate(seen))
    _assert_one(changes, "configuration.description", "Other text", "Sales chat", "description")


@pytest.mark.parametrize(("where", "value", "field", "spec"), DEPLOYMENT_FIELDS)
def test_a_deployment_field_changed_in_the_org_is_exactly_that_one_change(
    where: Path, value: Any, field: str, spec: str | None
) -> None:
    """allowAllDomains switched on behind gcwm's back is a change, like any other field."""
    wanted = DEPLOYMENT.dump()
    seen = _changed(wanted, where, value)
    changes = deployment_changes(DEPLOYMENT, WebDeployment.model_validate(seen))
    _assert_one(changes, f"deployment.{field}", _top(seen, field), _top(wanted, field), spec)


def test_a_deployment_description_changed_in_the_org_is_compared_without_the_marker() -> None:
    """As for the configuration."""
    seen = DEPLOYMENT.dump() | {"description": "[gcwm channel=web job=1]"}
    changes = deployment_changes(DEPLOYMENT, WebDeployment.model_validate(seen))
    _assert_one(changes, "deployment.description", "", "Sales chat", "description")


def test_references_the_org_dropped_are_changes_from_none() -> None:
    """A deployment without a flow, a profile or a configuration reference."""
    seen = {
        k: v for k, v in DEPLOYMENT.dump().items() if k not in ("flow", "supportedContent", "configuration")
    }
    changes = deployment_changes(DEPLOYMENT, WebDeployment.model_validate(seen))
    assert [(c.path, c.old, c.new) for c in changes] == [
        ("deployment.flow.id", None, "f-1"),
        ("deployment.supportedContent.id", None, "p-1"),
        ("deployment.configuration.id", None, "c-1"),
        ("deployment.configuration.version", None, "1"),
    ]


@pytest.mark.parametrize(("where", "value", "field", "spec"), PROFILE_FIELDS)
def test_a_profile_field_changed_in_the_org_is_exactly_that_one_change(
    where: Path, value: Any, field: str, spec: str | None
) -> None:
    """The profile's name and the media types each way."""
    assert PROFILE is not None
    wanted = PROFILE.dump()
    seen = _changed(wanted, where, value)
    changes = supported_content_changes(PROFILE, SupportedContent.model_validate(seen))
    _assert_one(changes, f"supportedContent.{field}", _top(seen, field), _top(wanted, field), spec)


@pytest.mark.parametrize(
    ("document", "where", "value"),
    [
        ("configuration", ("messenger", "styles", "primaryColor"), "#112233".upper()),
        ("configuration", ("languages",), ["FR", "en-US"]),
        (
            "configuration",
            ("customI18nLabels",),
            [
                {
                    "language": "fr",
                    "localizedLabels": [{"key": "MessengerHomeHeaderTitle", "value": "Bonjour"}],
                }
            ],
        ),
        ("deployment", ("allowedDomains",), ["EXAMPLE.com"]),
        ("profile", ("mediaTypes", "allow", "inbound"), [{"type": "application/PDF"}, {"type": "image/png"}]),
    ],
)
def test_case_and_order_where_they_carry_no_meaning_are_no_change(
    document: str, where: Path, value: Any
) -> None:
    """Colours, language tags, media types and host names in another case; sets in another order."""
    if document == "configuration":
        seen = WebDeploymentConfigurationVersion.model_validate(_changed(CONFIGURATION.dump(), where, value))
        assert configuration_changes(CONFIGURATION, seen) == []
    elif document == "deployment":
        assert (
            deployment_changes(
                DEPLOYMENT, WebDeployment.model_validate(_changed(DEPLOYMENT.dump(), where, value))
            )
            == []
        )
    else:
        assert PROFILE is not None
        seen_profile = SupportedContent.model_validate(_changed(PROFILE.dump(), where, value))
        assert supported_content_changes(PROFILE, seen_profile) == []


def test_a_list_of_objects_with_one_more_item_in_the_org_is_a_change() -> None:
    """Lists compare as sets of what gcwm sets: an extra item, or a missing one, is a change."""
    wanted = CONFIGURATION.dump()
    extra = {"language": "de", "localizedLabels": [{"key": "MessengerHomeHeaderTitle", "value": "Hallo"}]}
    seen = _changed(wanted, ("customI18nLabels",), [*wanted["customI18nLabels"], extra])
    changes = configuration_changes(CONFIGURATION, WebDeploymentConfigurationVersion.model_validate(seen))
    _assert_one(
        changes,
        "configuration.customI18nLabels",
        seen["customI18nLabels"],
        wanted["customI18nLabels"],
        "messenger.labels",
    )
    fewer = _changed(wanted, ("customI18nLabels",), [])
    changes = configuration_changes(CONFIGURATION, WebDeploymentConfigurationVersion.model_validate(fewer))
    _assert_one(changes, "configuration.customI18nLabels", [], wanted["customI18nLabels"], "messenger.labels")


def test_the_desired_configuration_with_every_optional_block_goes_to_genesys_and_back_unchanged() -> None:
    """Bot, home screen, labels and file upload are all set, and survive the wire both ways."""
    document = CONFIGURATION.dump()
    messenger = document["messenger"]
    assert messenger["apps"]["conversations"]["humanize"] == {
        "enabled": True,
        "bot": {"name": "Ava", "avatarUrl": "https://cdn.example.com/ava.png"},
    }
    assert messenger["homeScreen"] == {"enabled": True, "logoUrl": "https://cdn.example.com/logo.png"}
    assert messenger["fileUpload"] == {
        "enableAttachments": True,
        "modes": [{"fileTypes": ["image/png"], "maxFileSizeKB": 2048}],
    }
    assert document["customI18nLabels"] == [
        {"language": "fr", "localizedLabels": [{"key": "MessengerHomeHeaderTitle", "value": "Bonjour"}]}
    ]
    assert (document["languages"], document["defaultLanguage"], document["headlessMode"]) == (
        ["en-us", "fr"],
        "fr",
        {"enabled": True},
    )
    back = WebDeploymentConfigurationVersion.model_validate(document)
    assert back.dump() == document
    assert configuration_changes(CONFIGURATION, back) == []
    assert content_hash(back) == content_hash(CONFIGURATION)


# -- the same, through the plan -------------------------------------------------------------------


def _org(configuration: dict[str, Any], deployment: dict[str, Any], profile: dict[str, Any]) -> OrgSnapshot:
    published = configuration | {"id": "c-1", "version": "1", "status": "Active"}
    draft = configuration | {"id": "c-1", "version": "DRAFT", "status": "Active"}
    parse = WebDeploymentConfigurationVersion.model_validate
    return OrgSnapshot(
        org_id="org-1",
        observed_at=NOW,
        drafts={"c-1": parse(draft)},
        published={"c-1": parse(published)},
        versions_read=frozenset({"c-1"}),
        deployments={"d-1": WebDeployment.model_validate(deployment | {"id": "d-1", "status": "Active"})},
        profiles={"p-1": SupportedContent.model_validate(profile | {"id": "p-1"})},
        profiles_read=True,
        queues={"name:support": (QUEUE,)},
        flows={"name:support messaging flow": (FLOW,)},
    )


def _plan_fields(
    configuration: dict[str, Any], deployment: dict[str, Any], profile: dict[str, Any]
) -> list[dict[str, Any]]:
    assert PROFILE is not None
    (change,) = build_plan([SPEC], _org(configuration, deployment, profile)).changes
    return [f.document() for f in change.fields if f.consequence is None]


def test_the_org_as_gcwm_would_make_it_plans_no_change() -> None:
    """The baseline of the plan-level table: nothing to do."""
    assert PROFILE is not None
    (change,) = build_plan([SPEC], _org(CONFIGURATION.dump(), DEPLOYMENT.dump(), PROFILE.dump())).changes
    assert (change.action, change.fields) == (Action.NOOP, [])


@pytest.mark.parametrize(
    ("where", "value", "field", "spec"), [f for f in CONFIGURATION_FIELDS if f[2] != "name"]
)
def test_the_plan_shows_a_configuration_field_changed_in_the_org_as_one_field_of_the_user(
    where: Path, value: Any, field: str, spec: str | None
) -> None:
    """One field the user's spec asks back (what republishing moves along is marked as following)."""
    assert PROFILE is not None
    wanted = CONFIGURATION.dump()
    seen = _changed(wanted, where, value)
    fields = _plan_fields(seen, DEPLOYMENT.dump(), PROFILE.dump())
    api = f"configuration.{field}"
    assert fields == [_document(api, spec, _top(seen, field), _top(wanted, field))]


@pytest.mark.parametrize(
    ("where", "value", "field", "spec"),
    [f for f in DEPLOYMENT_FIELDS if f[2] not in ("name", "configuration.id", "supportedContent.id")],
)
def test_the_plan_shows_a_deployment_field_changed_in_the_org_as_one_field(
    where: Path, value: Any, field: str, spec: str | None
) -> None:
    """allowAllDomains switched on behind gcwm's back is planned, not passed over."""
    assert PROFILE is not None
    wanted = DEPLOYMENT.dump()
    seen = _changed(wanted, where, value)
    fields = _plan_fields(CONFIGURATION.dump(), seen, PROFILE.dump())
    api = f"deployment.{field}"
    assert fields == [_document(api, spec, _top(seen, field), _top(wanted, field))]


def _document(api: str, spec: str | None, old: Any, new: Any) -> dict[str, Any]:
    out = FieldChange(api, old, new).document()
    assert out["path"] == (spec or api) and out["apiPath"] == api
    return out


# -- the mapping's own helpers, at their edges --------------------------------------------------------


def _upload(types: str) -> dict[str, Any]:
    spec = _spec(extra=f"    messenger:\n      fileUpload: {{enabled: true, {types}}}\n")
    return desired_configuration(spec, MARKER).dump()["messenger"]["fileUpload"]


@pytest.mark.parametrize(
    ("types", "modes"),
    [
        ("fileTypes: [image/*]", ["image/jpeg", "image/gif", "image/png"]),
        (
            "orgDefaultProfile: true",
            ["image/jpeg", "image/gif", "image/png"],
        ),  # the default allows every type
        ("fileTypes: [image/png, application/pdf]", ["image/png"]),
        ("fileTypes: [text/*]", None),
        ("fileTypes: [image/pngs]", None),
        ("fileTypes: [application/pdf]", None),
    ],
)
def test_messengers_own_upload_modes_take_only_the_image_types_the_spec_admits(
    types: str, modes: list[str] | None
) -> None:
    """A wildcard covers its own top-level type only; no image admitted, no mode at all."""
    upload = _upload(types)
    assert upload["enableAttachments"] is True
    assert (upload["modes"][0]["fileTypes"] if "modes" in upload else None) == modes


def test_allowed_domains_are_normalised_ip_addresses_included_or_kept_as_written_when_they_cannot_be() -> (
    None
):
    """The deployment gets what Genesys compares; a refused entry (a finding elsewhere) stays as written."""
    assert allowed_domains(_spec(domains='["https://192.0.2.1/", Example.com]')) == [
        "192.0.2.1",
        "example.com",
    ]
    assert allowed_domains(_spec(domains='["bad..example", Example.com]')) == ["bad..example", "Example.com"]


def test_profiles_are_named_after_their_channel_and_read_back() -> None:
    """`<channel> (gcwm)`; a profile gcwm did not name has no channel."""
    assert profile_name("web") == "web (gcwm)"
    assert profile_channel("web (gcwm)") == "web"
    assert profile_channel("web") is None
    assert profile_channel(None) is None


def test_the_last_marker_of_a_description_is_gcwms() -> None:
    """Text copied in front may carry another channel's marker; gcwm appends its own last."""
    marker = read_marker("[gcwm channel=shop job=a] hello [gcwm channel=web%20one job=b]")
    assert marker == Marker("web one", "b")
    with pytest.raises(dataclasses.FrozenInstanceError):
        marker.job = "c"  # type: ignore[misc]


def test_spec_paths_match_whole_path_segments_and_list_items() -> None:
    """A key is a prefix only up to a '.' or a '['; the longest such key decides."""
    assert spec_path("configuration.nameplate") is None
    assert spec_path("configuration.customI18nLabels[0].language") == "messenger.labels"
    assert spec_path("configuration.messenger.apps.conversations.humanize.bot.name") == "messenger.bot.name"
    assert spec_path("configuration.messenger.apps.conversations.humanize.enabled") == "messenger.bot"


def test_a_field_change_is_frozen_and_tells_list_items_added_and_removed() -> None:
    """Items compared as the plan compares them; a list from nothing is all added."""
    change = FieldChange("deployment.allowedDomains", None, ["a.example"])
    with pytest.raises(pydantic.ValidationError):
        change.new = []  # type: ignore[misc]
    assert change.list_delta() == (["a.example"], [])
    assert FieldChange("deployment.allowedDomains", ["a.example"], None).list_delta() == ([], ["a.example"])
    reordered = FieldChange(
        "supportedContent.mediaTypes.allow.inbound", [{"type": "a", "x": 1}], [{"x": 1, "type": "A"}]
    )
    assert reordered.list_delta() == ([], [])


def test_fields_gcwm_sets_on_its_own_say_so_in_these_words() -> None:
    """The consequence a create lists them with."""
    fields = {f.path: f for f in created_fields("configuration", CONFIGURATION)}
    assert (
        fields["configuration.messenger.apps.conversations.enabled"].consequence
        == "gcwm's own setting for every channel"
    )


def test_case_carries_no_meaning_in_languages_and_file_types() -> None:
    """defaultLanguage and the modes' fileTypes in another case are no change."""
    wanted = CONFIGURATION.dump()
    seen = _changed(
        _changed(wanted, ("defaultLanguage",), "FR"),
        ("messenger", "fileUpload", "modes", 0, "fileTypes"),
        ["IMAGE/PNG"],
    )
    assert configuration_changes(CONFIGURATION, WebDeploymentConfigurationVersion.model_validate(seen)) == []


def test_a_repeated_item_is_matched_once() -> None:
    """[en-us, en-us] is not [en-us, fr]: each item needs its own match."""
    twice = CONFIGURATION.model_copy(update={"languages": ["en-us", "en-us"]})
    seen = CONFIGURATION.model_copy(update={"languages": ["en-us", "fr"]})
    (change,) = configuration_changes(twice, seen)
    assert change.path == "configuration.languages"


def test_the_content_hash_ignores_the_marker_case_and_order_and_is_stable_across_versions() -> None:
    """Kept in every channel's record: the same configuration must hash the same on every gcwm."""
    plain = desired_configuration(_spec(), MARKER)
    assert content_hash(plain) == "2fac81696c9c40c4a10ff8eea9f6e8140f6311ee71e843b5964e694d31553c29"
    assert content_hash(desired_configuration(_spec(), Marker("web", "1"))) == content_hash(plain)
    document = CONFIGURATION.dump()
    shuffled = _changed(
        _changed(document, ("languages",), ["FR", "en-us"]),
        ("messenger", "styles", "primaryColor"),
        "#112233".upper(),
    )
    assert content_hash(WebDeploymentConfigurationVersion.model_validate(shuffled)) == content_hash(
        CONFIGURATION
    )
    recoloured = _changed(document, ("messenger", "styles", "primaryColor"), "#000000")
    assert content_hash(WebDeploymentConfigurationVersion.model_validate(recoloured)) != content_hash(
        CONFIGURATION
    )
