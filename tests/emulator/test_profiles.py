"""Supported content profiles: the seeded default, create/read/patch/delete, the default switch, and
deployments naming a profile (facts and emulator choices in gcwm/emulator/profiles.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.harness import Emulator
from tests.emulator.steps import (
    DEPLOYMENTS,
    PROFILES,
    deployment_body,
    flow_id,
    published_configuration,
)

IMAGES = {"allow": {"inbound": [{"type": "image/*"}], "outbound": [{"type": "image/png"}]}}


def _profile(api: httpx.Client, name: str = "images", media_types: Any = IMAGES) -> dict[str, Any]:
    made = api.post(PROFILES, json={"name": name, "mediaTypes": media_types})
    assert made.status_code == 200, made.text
    body: dict[str, Any] = made.json()
    return body


def _fields(response: httpx.Response, status: int = 400) -> list[str]:
    assert response.status_code == status, response.text
    return [d["fieldName"] for d in response.json()["details"]]


def test_org_starts_with_a_default_profile_allowing_every_inbound_type(api: httpx.Client) -> None:
    """GET /default: all inbound types (*/*), jpeg/png/gif outbound ([S15]); it is the only profile."""
    default = api.get(f"{PROFILES}/default").json()
    assert default["name"] == "Default"
    assert default["mediaTypes"] == {
        "allow": {
            "inbound": [{"type": "*/*"}],
            "outbound": [{"type": "image/jpeg"}, {"type": "image/png"}, {"type": "image/gif"}],
        }
    }
    assert default["selfUri"] == f"{PROFILES}/{default['id']}"
    listing = api.get(PROFILES).json()
    assert [p["id"] for p in listing["entities"]] == [default["id"]]
    assert (listing["total"], listing["pageNumber"], listing["pageCount"]) == (1, 1, 1)


def test_profile_is_created_read_patched_and_deleted(api: httpx.Client) -> None:
    """POST answers version 1; PATCH changes only the fields given and bumps the version; DELETE is
    204, then 404."""
    made = _profile(api)
    assert (made["name"], made["version"], made["mediaTypes"]) == ("images", 1, IMAGES)
    path = f"{PROFILES}/{made['id']}"
    assert api.get(path).json() == made
    renamed = api.patch(path, json={"name": "pictures", "version": 1, "id": "ignored"}).json()
    assert (renamed["id"], renamed["name"], renamed["version"], renamed["mediaTypes"]) == (
        made["id"],
        "pictures",
        2,
        IMAGES,
    )
    everything = {"allow": {"inbound": [{"type": "*/*"}]}}
    widened = api.patch(path, json={"mediaTypes": everything}).json()
    assert (widened["name"], widened["version"], widened["mediaTypes"]) == ("pictures", 3, everything)
    assert api.delete(path).status_code == 204
    gone = api.get(path)
    assert (gone.status_code, gone.json()["code"]) == (404, "not.found")
    assert api.patch(path, json={"name": "late"}).status_code == 404


def test_profile_needs_a_name(api: httpx.Client) -> None:
    """No name on create, or an empty one on PATCH, is a 400 naming `name`."""
    assert _fields(api.post(PROFILES, json={"mediaTypes": IMAGES})) == ["name"]
    made = _profile(api)
    assert _fields(api.patch(f"{PROFILES}/{made['id']}", json={"name": ""})) == ["name"]
    assert _fields(api.post(PROFILES, json={"name": "x", "colour": "red"})) == ["colour"]


@pytest.mark.parametrize("bad", ["image", "image/", "*/png", "ima ge/png", "", "image/png/x"])
def test_media_type_must_be_type_and_subtype_or_a_wildcard(api: httpx.Client, bad: str) -> None:
    """Each type is `type/subtype`, `type/*` or `*/*` (emulator's check); the 400 names the entry."""
    media = {"allow": {"inbound": [{"type": "image/png"}, {"type": bad}]}}
    refused = api.post(PROFILES, json={"name": "x", "mediaTypes": media})
    assert _fields(refused) == ["mediaTypes.allow.inbound[1].type"]
    assert refused.json()["code"] == "bad.request"


def test_valid_media_types_and_wildcards_are_accepted(api: httpx.Client) -> None:
    """Registered types, vendor trees, `type/*` and `*/*` pass, inbound and outbound."""
    media = {
        "allow": {
            "inbound": [{"type": "*/*"}, {"type": "application/vnd.ms-excel"}],
            "outbound": [{"type": "video/mpeg"}, {"type": "image/*"}, {"type": "text/plain"}],
        }
    }
    assert _profile(api, media_types=media)["mediaTypes"] == media
    missing = api.post(PROFILES, json={"name": "x", "mediaTypes": {"allow": {"outbound": [{}]}}})
    assert _fields(missing) == ["mediaTypes.allow.outbound[0].type"]


def test_default_can_be_switched_but_not_deleted(api: httpx.Client) -> None:
    """PUT /default {id} answers the new default; the default cannot be deleted (409) until another
    profile is; an unknown id is a 400 naming `id`."""
    seeded = api.get(f"{PROFILES}/default").json()
    made = _profile(api)
    switched = api.put(f"{PROFILES}/default", json={"id": made["id"], "name": "ignored"})
    assert switched.status_code == 200, switched.text
    assert switched.json()["id"] == made["id"]
    assert api.get(f"{PROFILES}/default").json()["id"] == made["id"]
    refused = api.delete(f"{PROFILES}/{made['id']}")
    assert (refused.status_code, refused.json()["code"]) == (409, "conflict")
    assert api.delete(f"{PROFILES}/{seeded['id']}").status_code == 204  # no longer the default
    assert _fields(api.put(f"{PROFILES}/default", json={"id": "no-such-profile"})) == ["id"]
    assert _fields(api.put(f"{PROFILES}/default", json={})) == ["id"]


def test_deployment_names_a_profile_and_shows_its_reference(api: httpx.Client) -> None:
    """supportedContent {id}: the deployment echoes id, name and selfUri; the profile cannot be
    deleted while a deployment (not being deleted) uses it."""
    profile = _profile(api, "web attachments")
    config_id = published_configuration(api)
    body = deployment_body(config_id, flow_id(api, "Support Messaging Flow"))
    body["supportedContent"] = {"id": profile["id"], "name": "stale name", "selfUri": "/elsewhere"}
    made = api.post(DEPLOYMENTS, json=body)
    assert made.status_code == 200, made.text
    reference = {"id": profile["id"], "name": "web attachments", "selfUri": f"{PROFILES}/{profile['id']}"}
    assert made.json()["supportedContent"] == reference
    api.patch(f"{PROFILES}/{profile['id']}", json={"name": "renamed"})
    assert api.get(f"{DEPLOYMENTS}/{made.json()['id']}").json()["supportedContent"]["name"] == "renamed"
    in_use = api.delete(f"{PROFILES}/{profile['id']}")
    assert (in_use.status_code, in_use.json()["code"]) == (409, "conflict")
    assert made.json()["id"] in in_use.json()["message"]
    assert api.delete(f"{DEPLOYMENTS}/{made.json()['id']}").status_code == 204
    assert api.delete(f"{PROFILES}/{profile['id']}").status_code == 204


def test_deployment_naming_an_unknown_profile_is_refused(api: httpx.Client) -> None:
    """A profile id that does not exist, or a reference with no id, is a 400 naming supportedContent.id."""
    config_id = published_configuration(api)
    flow = flow_id(api, "Support Messaging Flow")
    unknown = deployment_body(config_id, flow, supportedContent={"id": "no-such-profile"})
    assert _fields(api.post(DEPLOYMENTS, json=unknown)) == ["supportedContent.id"]
    empty = deployment_body(config_id, flow, supportedContent={"name": "x"})
    assert _fields(api.post(DEPLOYMENTS, json=empty)) == ["supportedContent.id"]
    assert api.get(DEPLOYMENTS).json()["entities"] == []


def test_profiles_are_paged_by_number(api: httpx.Client) -> None:
    """pageSize/pageNumber pages in creation order, the seeded default first."""
    made = [_profile(api, f"p{i}")["id"] for i in range(3)]
    first = api.get(PROFILES, params={"pageSize": 3}).json()
    assert (first["total"], first["pageCount"], len(first["entities"])) == (4, 2, 3)
    second = api.get(first["nextUri"]).json()
    assert [p["id"] for p in first["entities"][1:] + second["entities"]] == made


def test_reset_keeps_only_the_seeded_default(emulator: Emulator, api: httpx.Client) -> None:
    """POST /emulator/reset drops other profiles and restores the seeded default, same id."""
    seeded = api.get(f"{PROFILES}/default").json()
    api.patch(f"{PROFILES}/{seeded['id']}", json={"name": "edited"})
    made = _profile(api)
    api.put(f"{PROFILES}/default", json={"id": made["id"]})
    emulator.admin("POST", "reset")
    after = api.get(f"{PROFILES}/default").json()
    assert (after["id"], after["name"], after["version"]) == (seeded["id"], "Default", 1)
    assert after["mediaTypes"] == seeded["mediaTypes"]
    assert [p["id"] for p in api.get(PROFILES).json()["entities"]] == [seeded["id"]]
