"""Rules the Python SDK cannot carry (field_rules.json): enums on list items, and numeric ranges."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.steps import CONFIGS, configuration_body


def _with_file_upload(**mode: Any) -> dict[str, Any]:
    messenger = {"enabled": True, "fileUpload": {"enableAttachments": True, "modes": [mode]}}
    return configuration_body(messenger=messenger)


def _refused(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert (body["code"], body["status"]) == ("bad.request", 400)
    return body


def test_file_type_outside_the_item_enum_is_refused_with_its_index(api: httpx.Client) -> None:
    """fileTypes items must be image/jpeg, image/gif or image/png (Java SDK FileTypesEnum); the 400
    names the item by path and index."""
    body = _refused(api.post(CONFIGS, json=_with_file_upload(fileTypes=["image/png", "image/bmp"])))
    where = "messenger.fileUpload.modes[0].fileTypes[1]"
    assert body["details"] == [{"errorCode": "invalid.value", "fieldName": where}]
    assert body["message"] == f'{where}: "image/bmp" is not one of image/jpeg, image/gif, image/png'


def test_every_file_type_of_the_item_enum_is_accepted(api: httpx.Client) -> None:
    """All three image types pass, on create and on a draft PUT, and are kept in order."""
    types = ["image/jpeg", "image/gif", "image/png"]
    created = api.post(CONFIGS, json=_with_file_upload(fileTypes=types, maxFileSizeKB=512))
    assert created.status_code == 200, created.text
    assert created.json()["messenger"]["fileUpload"]["modes"][0]["fileTypes"] == types
    draft = f"{CONFIGS}/{created.json()['id']}/versions/draft"
    assert api.put(draft, json=_with_file_upload(fileTypes=types[:1])).status_code == 200
    refused = _refused(api.put(draft, json=_with_file_upload(fileTypes=["IMAGE/PNG"])))
    assert [d["fieldName"] for d in refused["details"]] == ["messenger.fileUpload.modes[0].fileTypes[0]"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"cobrowse": {"enabled": True, "channels": ["Webmessaging", "Chat"]}}, "cobrowse.channels[1]"),
        ({"video": {"enabled": True, "channels": ["Email"]}}, "video.channels[0]"),
    ],
)
def test_channels_outside_their_item_enum_are_refused(
    api: httpx.Client, extra: dict[str, Any], field: str
) -> None:
    """Cobrowse and video channels are Webmessaging or Voice (Java and iOS SDK ChannelsEnum)."""
    body = _refused(api.post(CONFIGS, json=configuration_body(**extra)))
    assert [d["fieldName"] for d in body["details"]] == [field]
    good = {key: {**value, "channels": ["Webmessaging", "Voice"]} for key, value in extra.items()}
    assert api.post(CONFIGS, json=configuration_body(**good)).status_code == 200


@pytest.mark.parametrize("size", [-1, 10241, 20480])
def test_max_file_size_outside_0_to_10240_is_refused(api: httpx.Client, size: int) -> None:
    """maxFileSizeKB must be 0..10240 (Terraform provider IntBetween(0, 10240))."""
    body = _refused(api.post(CONFIGS, json=_with_file_upload(fileTypes=["image/png"], maxFileSizeKB=size)))
    where = "messenger.fileUpload.modes[0].maxFileSizeKB"
    assert body["details"] == [{"errorCode": "invalid.value", "fieldName": where}]
    assert body["message"] == f"{where}: {size} is not between 0 and 10240"


@pytest.mark.parametrize("size", [0, 1, 10240])
def test_max_file_size_within_0_to_10240_is_accepted(api: httpx.Client, size: int) -> None:
    """Both bounds are allowed."""
    made = api.post(CONFIGS, json=_with_file_upload(fileTypes=["image/gif"], maxFileSizeKB=size))
    assert made.status_code == 200, made.text
    assert made.json()["messenger"]["fileUpload"]["modes"][0]["maxFileSizeKB"] == size


def test_a_wrongly_typed_item_is_a_type_problem_not_an_enum_one(api: httpx.Client) -> None:
    """A number among the file types is reported once, as a type error."""
    body = _refused(api.post(CONFIGS, json=_with_file_upload(fileTypes=["image/png", 7])))
    assert body["details"] == [
        {"errorCode": "invalid.type", "fieldName": "messenger.fileUpload.modes[0].fileTypes[1]"}
    ]
