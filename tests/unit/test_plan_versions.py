"""The plan reads a configuration's draft and its live version apart (the listing holds drafts only),
compares what the spec sets as Genesys normalises it, and plans the channel's supported content profile.
Pure: snapshots are built by hand."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from gcwm.errors import SpecError
from gcwm.genesys.models import SupportedContent, WebDeploymentConfigurationVersion
from gcwm.provisioning import Action, build_plan
from gcwm.provisioning.mapping import (
    Marker,
    content_hash,
    desired_configuration,
    desired_deployment,
    desired_supported_content,
    profile_name,
)
from gcwm.spec import parse_spec
from gcwm.store import Channel
from tests.unit.test_plan import NOW, _configuration, _deployment, _snapshot, _spec

ATTACHMENTS = """    messenger:
      fileUpload:
        enabled: true
        fileTypes: [image/png, application/pdf]
        maxFileSizeKB: 20480
"""


def _record(*, version: str = "1", hash_: str | None = None, profile: str | None = None) -> Channel:
    return Channel(
        id="x", org_id="org-1", name="web", name_key="web", spec={}, spec_hash="h", status="active",
        configuration_id="c-1", configuration_version=version, deployment_id="d-1",
        deployment_status="Active", snippet="", created_at=NOW, updated_at=NOW, proposed_csp=None,
        configuration_hash=hash_, supported_content_id=profile,
    )  # fmt: skip


def _hash_of(spec_extra: str = "") -> str:
    spec = _spec(extra=spec_extra)
    return content_hash(desired_configuration(spec, Marker(spec.name, "0")))


def test_a_draft_edited_outside_gcwm_but_not_published_is_put_back_without_a_new_version() -> None:
    """The live version is as specified, only the draft drifted: PUT the draft, publish nothing, and the
    deployment stays on the live version. The fields say `configuration.draft.*`."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT", color="#00FF00")],
        published=[_configuration("web", "3")],
        deployments=[_deployment("web", ["example.com"], version="3")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    cfg = change.configuration
    assert (cfg.action, cfg.send_draft, cfg.publish) == (Action.UPDATE, True, False)
    assert [(f.path, f.old, f.new) for f in cfg.fields] == [
        ("configuration.draft.messenger.styles.primaryColor", "#00FF00", "#FF4F1F")
    ]
    assert change.deployment.action is Action.NOOP
    assert change.published_version == "3"
    assert change.published_hash == _hash_of()
    assert any("draft was edited outside gcwm and not published" in n for n in change.notes)


def test_a_live_version_that_differs_is_published_anew_and_never_planned_as_draft() -> None:
    """The draft already holds the spec (a job that sent it and died), the live version does not:
    publish without sending the draft again, and move the deployment from "2" to "3", never "DRAFT"."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        published=[_configuration("web", "2", color="#000000")],
        deployments=[_deployment("web", ["example.com"], version="2")],
    )
    (change,) = build_plan([_spec()], snapshot).changes
    cfg = change.configuration
    assert (cfg.action, cfg.send_draft, cfg.publish) == (Action.UPDATE, False, True)
    assert [f.path for f in cfg.fields] == ["configuration.messenger.styles.primaryColor"]
    assert [(f.path, f.old, f.new) for f in change.deployment.fields] == [
        ("deployment.configuration.version", "2", "3")
    ]
    assert change.published_hash is None


def test_a_record_proves_the_live_version_so_no_versions_are_needed() -> None:
    """gcwm's record names version 4 and the hash of what it published; the draft holds exactly that and
    the deployment uses version 4: nothing to read, nothing to do."""
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT")],
        deployments=[_deployment("web", ["example.com"], version="4")],
        records=[_record(version="4", hash_=_hash_of())],
    )
    assert snapshot.versions_needed(_spec()) is None
    (change,) = build_plan([_spec()], snapshot).changes
    assert change.action is Action.NOOP
    assert change.published_version == "4"


@pytest.mark.parametrize(
    ("why", "changes"),
    [
        ("the spec changed since", {"hash_": "not-the-hash-of-this-spec"}),
        ("no hash recorded (before this version of gcwm)", {"hash_": None}),
        ("the deployment uses another version", {"deployment_version": "3"}),
        ("the draft was edited", {"color": "#123456"}),
    ],
)
def test_anything_the_record_cannot_prove_needs_the_versions(why: str, changes: dict[str, Any]) -> None:
    snapshot = _snapshot(
        drafts=[_configuration("web", "DRAFT", color=changes.get("color", "#FF4F1F"))],
        deployments=[_deployment("web", ["example.com"], version=changes.get("deployment_version", "4"))],
        records=[_record(version="4", hash_=changes.get("hash_", _hash_of()))],
    )
    assert snapshot.versions_needed(_spec()) == "c-1", why
    # Once read, the versions answer: nothing more is needed.
    assert replace(snapshot, versions_read=frozenset({"c-1"})).versions_needed(_spec()) is None


def test_values_genesys_normalises_are_not_changes() -> None:
    """Colour case, the order of languages and domains, and the case of host names: Genesys may store
    them otherwise (the emulator's --server-defaults does); none of that is drift."""
    spec = _spec(
        domains="[example.com, shop.example.com]",
        extra="    messenger:\n      primaryColor: '#AABBCC'\n      languages: [en-us, fr]\n",
    )
    stored = _configuration("web", "1", color="#aabbcc")
    stored["languages"] = ["fr", "EN-US"]
    draft = {**stored, "version": "DRAFT"}
    deployment = _deployment("web", ["SHOP.example.com", "example.com"])
    (change,) = build_plan(
        [spec], _snapshot(drafts=[draft], published=[stored], deployments=[deployment])
    ).changes
    assert change.action is Action.NOOP, [f.model_dump() for f in change.fields]


def test_messenger_upload_modes_carry_only_its_image_types_and_the_profile_carries_the_spec() -> None:
    """application/pdf goes to the supported content profile, never to Messenger's modes; the modes
    take the spec's image types at most 10240 KB."""
    spec = _spec(extra=ATTACHMENTS)
    config = desired_configuration(spec, Marker("web", "j"))
    assert config.messenger is not None and config.messenger.file_upload is not None
    modes = config.messenger.file_upload.modes or []
    assert [(m.file_types, m.max_file_size_kb) for m in modes] == [(["image/png"], 10240)]
    profile = desired_supported_content(spec)
    assert profile is not None and profile.name == profile_name("web") == "web (gcwm)"
    assert profile.inbound_types == ["image/png", "application/pdf"]


def test_a_wildcard_admits_every_messenger_image_type_and_no_image_type_leaves_the_modes_out() -> None:
    wild = _spec(extra=ATTACHMENTS.replace("[image/png, application/pdf]", "['image/*']"))
    pdf_only = _spec(extra=ATTACHMENTS.replace("[image/png, application/pdf]", "[application/pdf]"))
    upload = desired_configuration(wild, Marker("web", "j")).messenger.file_upload  # type: ignore[union-attr]
    assert upload is not None and upload.modes is not None
    assert upload.modes[0].file_types == ["image/jpeg", "image/gif", "image/png"]
    upload = desired_configuration(pdf_only, Marker("web", "j")).messenger.file_upload  # type: ignore[union-attr]
    assert upload is not None and upload.modes is None and upload.enable_attachments is True


def _profile(types: list[str], *, profile_id: str = "p-1", name: str = "web (gcwm)") -> SupportedContent:
    return SupportedContent.model_validate(
        {
            "id": profile_id,
            "name": name,
            "mediaTypes": {
                "allow": {
                    "inbound": [{"type": t} for t in types],
                    "outbound": [{"type": t} for t in ("image/jpeg", "image/png", "image/gif")],
                }
            },
        }
    )


def test_a_channel_with_attachments_gets_a_profile_and_its_deployment_names_it() -> None:
    spec = _spec(extra=ATTACHMENTS)
    snapshot = replace(_snapshot(), profiles_read=True)
    (change,) = build_plan([spec], snapshot).changes
    assert change.supported_content.action is Action.CREATE
    # A converged org: the profile (found by name) holds the types in another order and case.
    drafts = [{**_configuration("web", "DRAFT"), **_with_modes()}]
    live = [{**_configuration("web", "1"), **_with_modes()}]
    deployment = {**_deployment("web", ["example.com"]), "supportedContent": {"id": "p-1"}}
    found = _profile(["APPLICATION/pdf", "image/png"])
    converged = replace(
        _snapshot(drafts=drafts, published=live, deployments=[deployment]),
        profiles={"p-1": found},
        profiles_read=True,
    )
    (change,) = build_plan([spec], converged).changes
    assert change.action is Action.NOOP, [f.model_dump() for f in change.fields]
    # Another type asked for: the profile is updated in place, the deployment untouched.
    narrower = _spec(extra=ATTACHMENTS.replace("image/png, application/pdf", "image/png"))
    (change,) = build_plan([narrower], converged).changes
    assert (change.supported_content.action, change.supported_content.id) == (Action.UPDATE, "p-1")
    assert [f.path for f in change.supported_content.fields] == ["supportedContent.mediaTypes.allow.inbound"]


def test_a_deployment_on_no_profile_is_moved_to_the_channels_profile() -> None:
    spec = _spec(extra=ATTACHMENTS)
    marker = Marker("web", "0")
    wanted = desired_deployment(
        spec,
        marker,
        configuration_id="c-1",
        configuration_version="1",
        flow_id="f-1",
        supported_content_id="p-1",
    )
    assert wanted.supported_content is not None and wanted.supported_content.id == "p-1"
    drafts = [{**_configuration("web", "DRAFT"), **_with_modes()}]
    live = [{**_configuration("web", "1"), **_with_modes()}]
    snapshot = replace(
        _snapshot(drafts=drafts, published=live, deployments=[_deployment("web", ["example.com"])]),
        profiles={"p-1": _profile(["image/png", "application/pdf"])},
        profiles_read=True,
    )
    (change,) = build_plan([spec], snapshot).changes
    assert [(f.path, f.old, f.new) for f in change.deployment.fields] == [
        ("deployment.supportedContent.id", None, "p-1")
    ]


def _with_modes() -> dict[str, Any]:
    version = WebDeploymentConfigurationVersion.model_validate(_configuration("web", "1"))
    document = version.dump()
    document["messenger"]["fileUpload"] = {
        "enableAttachments": True,
        "modes": [{"fileTypes": ["image/png"], "maxFileSizeKB": 10240}],
    }
    return {"messenger": document["messenger"]}


@pytest.mark.parametrize(
    ("file_types", "size", "field"),
    [
        ("[pdf]", 1024, "messenger.fileUpload.fileTypes[0]"),
        ("['image/png; charset=x']", 1024, "messenger.fileUpload.fileTypes[0]"),
        ("[image/png]", 25601, "messenger.fileUpload.maxFileSizeKB"),
    ],
)
def test_a_file_type_that_is_not_a_media_type_or_a_size_over_25_mb_is_a_spec_error(
    file_types: str, size: int, field: str
) -> None:
    text = (
        "channels:\n  - name: web\n    routingQueue: Support\n    inboundMessageFlow: Flow\n"
        "    allowedDomains: [example.com]\n    messenger:\n      fileUpload:\n        enabled: true\n"
        f"        fileTypes: {file_types}\n        maxFileSizeKB: {size}\n"
    )
    with pytest.raises(SpecError) as caught:
        parse_spec(text, source="web.yaml")
    (problem,) = caught.value.problems
    assert problem.source == "web.yaml" and problem.location.endswith(field), problem
