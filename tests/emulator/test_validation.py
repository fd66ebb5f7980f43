"""Request bodies are checked against the official models and the documented rules."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.emulator.steps import (
    CONFIGS,
    DEPLOYMENTS,
    configuration_body,
    deployment_body,
    flow_id,
    published_configuration,
)


def _refusal(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == "bad.request"
    assert body["status"] == 400
    return body


def _fields(body: dict[str, Any]) -> list[str]:
    return [d["fieldName"] for d in body["details"]]


@pytest.fixture
def config_id(api: httpx.Client) -> str:
    return published_configuration(api)


@pytest.fixture
def support_flow(api: httpx.Client) -> str:
    return flow_id(api, "Support Messaging Flow")


def test_unknown_field_is_refused_with_its_path(api: httpx.Client) -> None:
    """A field the model does not have, nested too, is a 400 naming the field path."""
    body = configuration_body(messenger={"enabled": True, "colour": "red"})
    refused = _refusal(api.post(CONFIGS, json=body))
    assert refused["message"] == "messenger.colour: unknown field of MessengerSettings"
    assert refused["details"] == [{"errorCode": "unknown.field", "fieldName": "messenger.colour"}]


def test_value_outside_an_enum_is_refused_with_the_allowed_values(api: httpx.Client) -> None:
    """An enum field with another value names the field and the values allowed."""
    body = configuration_body(messenger={"enabled": True, "launcherButton": {"visibility": "Sometimes"}})
    refused = _refusal(api.post(CONFIGS, json=body))
    assert (
        refused["message"]
        == 'messenger.launcherButton.visibility: "Sometimes" is not one of On, Off, OnDemand'
    )
    assert _fields(refused) == ["messenger.launcherButton.visibility"]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"languages": "en-us"}, "languages"),
        ({"languages": ["en-us", 7]}, "languages[1]"),
        ({"messenger": {"enabled": "yes"}}, "messenger.enabled"),
        ({"headlessMode": []}, "headlessMode"),
        ({"dateCreated": "yesterday"}, "dateCreated"),
    ],
)
def test_wrong_type_is_refused_with_its_path(api: httpx.Client, extra: dict[str, Any], field: str) -> None:
    """Strings, booleans, arrays, objects and date-times are checked, at any depth."""
    refused = _refusal(api.post(CONFIGS, json={**configuration_body(), **extra}))
    assert _fields(refused) == [field]
    assert refused["message"].startswith(f"{field}: expected ")


def test_every_problem_is_reported_at_once(api: httpx.Client) -> None:
    """Several wrong fields give one 400 listing each of them."""
    body = {**configuration_body(), "bogus": 1, "description": 5}
    refused = _refusal(api.post(CONFIGS, json=body))
    assert sorted(_fields(refused)) == ["bogus", "description"]


def test_invalid_json_is_a_bad_request(api: httpx.Client) -> None:
    """A body that is not JSON, or not an object, is a 400."""
    _refusal(api.post(CONFIGS, content=b"{not json", headers={"content-type": "application/json"}))
    _refusal(api.post(CONFIGS, json=["a", "list"]))


def test_name_is_required_on_both_creates(api: httpx.Client, config_id: str, support_flow: str) -> None:
    """A configuration or deployment without a name is refused."""
    body = configuration_body()
    del body["name"]
    assert _fields(_refusal(api.post(CONFIGS, json=body))) == ["name"]
    dep = deployment_body(config_id, support_flow, name="")
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=dep))) == ["name"]


def test_languages_are_required_when_messenger_is_enabled(api: httpx.Client) -> None:
    """messenger.enabled needs languages and defaultLanguage, and the default must be one of them."""
    body = {"name": "x", "messenger": {"enabled": True}}
    assert sorted(_fields(_refusal(api.post(CONFIGS, json=body)))) == ["defaultLanguage", "languages"]
    wrong_default = configuration_body(defaultLanguage="fr-fr")
    assert _fields(_refusal(api.post(CONFIGS, json=wrong_default))) == ["defaultLanguage"]
    assert api.post(CONFIGS, json={"name": "no messenger"}).status_code == 200


def test_read_only_fields_echoed_back_are_ignored(api: httpx.Client, config_id: str) -> None:
    """A draft read with GET can be PUT back as is (id, version, status, dates, selfUri)."""
    draft = api.get(f"{CONFIGS}/{config_id}/versions/draft").json()
    response = api.put(f"{CONFIGS}/{config_id}/versions/draft", json={**draft, "status": "Active", "id": "x"})
    assert response.status_code == 200, response.text
    assert response.json()["id"] == config_id
    assert response.json()["status"] == "Pending"


def test_allow_all_domains_with_domains_is_refused(
    api: httpx.Client, config_id: str, support_flow: str
) -> None:
    """allowAllDomains true needs an empty allowedDomains (SDK model text)."""
    body = deployment_body(config_id, support_flow, allowAllDomains=True)
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=body))) == ["allowedDomains"]
    allowed = deployment_body(config_id, support_flow, allowAllDomains=True, allowedDomains=[])
    assert api.post(DEPLOYMENTS, json=allowed).status_code == 200


def test_no_domains_without_allow_all_is_refused(
    api: httpx.Client, config_id: str, support_flow: str
) -> None:
    """allowAllDomains false or absent with no domains is refused (emulator choice)."""
    body = deployment_body(config_id, support_flow, allowedDomains=[])
    del body["allowAllDomains"]
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=body))) == ["allowedDomains"]


@pytest.mark.parametrize(
    "domain", ["https://example.com", "example.com/path", "example.com:8443", "exa mple.com", "-x.com", "*"]
)
def test_domains_must_be_bare_host_names(
    api: httpx.Client, config_id: str, support_flow: str, domain: str
) -> None:
    """No scheme, path or port; a leading "*." wildcard is the only pattern accepted."""
    body = deployment_body(config_id, support_flow, allowedDomains=["ok.example.com", domain])
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=body))) == ["allowedDomains[1]"]


def test_at_most_fifty_domains(api: httpx.Client, config_id: str, support_flow: str) -> None:
    """The emulator's own cap: 50 entries pass, 51 are refused."""
    fifty = [f"site{i}.example.com" for i in range(50)]
    assert api.post(
        DEPLOYMENTS, json=deployment_body(config_id, support_flow, allowedDomains=fifty)
    ).is_success
    body = deployment_body(config_id, support_flow, allowedDomains=[*fifty, "one-more.example.com"])
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=body))) == ["allowedDomains"]


def test_deployment_must_use_a_published_version(
    api: httpx.Client, config_id: str, support_flow: str
) -> None:
    """The DRAFT, a version never published, or an unknown configuration is refused."""
    draft = deployment_body(config_id, support_flow)
    draft["configuration"]["version"] = "DRAFT"
    refused = _refusal(api.post(DEPLOYMENTS, json=draft))
    assert _fields(refused) == ["configuration.version"]
    assert "DRAFT" in refused["message"]
    never = deployment_body(config_id, support_flow)
    never["configuration"]["version"] = "9"
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=never))) == ["configuration.version"]
    unknown = deployment_body("no-such-config", support_flow)
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=unknown))) == ["configuration.id"]
    missing = deployment_body(config_id, support_flow)
    del missing["configuration"]
    assert sorted(_fields(_refusal(api.post(DEPLOYMENTS, json=missing)))) == [
        "configuration.id",
        "configuration.version",
    ]


@pytest.mark.parametrize(
    ("flow_name", "flow_type", "words"),
    [
        ("Draft Messaging Flow", "inboundshortmessage", "is not published"),
        ("Support Voice Flow", "inboundcall", "is of type INBOUNDCALL"),
    ],
)
def test_deployment_flow_must_be_a_published_message_flow(
    api: httpx.Client, config_id: str, flow_name: str, flow_type: str, words: str
) -> None:
    """Unpublished or voice flows are refused, naming flow.id and the reason."""
    body = deployment_body(config_id, flow_id(api, flow_name, flow_type))
    refused = _refusal(api.post(DEPLOYMENTS, json=body))
    assert _fields(refused) == ["flow.id"]
    assert words in refused["message"]
    assert flow_name in refused["message"]


def test_deployment_flow_must_exist(api: httpx.Client, config_id: str) -> None:
    """A flow id that does not exist, or no flow at all, is refused."""
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=deployment_body(config_id, "no-such-flow")))) == [
        "flow.id"
    ]
    body = deployment_body(config_id, "x")
    del body["flow"]
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=body))) == ["flow.id"]


def test_deployment_enum_and_type_errors_name_the_field(
    api: httpx.Client, config_id: str, support_flow: str
) -> None:
    """pushIntegrations[0].provider and allowAllDomains are checked like any model field."""
    body = deployment_body(config_id, support_flow, pushIntegrations=[{"id": "p", "provider": "SMS"}])
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=body))) == ["pushIntegrations[0].provider"]
    wrong_type = deployment_body(config_id, support_flow, allowAllDomains="no")
    assert _fields(_refusal(api.post(DEPLOYMENTS, json=wrong_type))) == ["allowAllDomains"]


def test_bad_query_parameters_are_a_bad_request(api: httpx.Client) -> None:
    """Page numbers and sizes that are not numbers, or cursors never handed out, are 400s."""
    _refusal(api.get("/api/v2/routing/queues", params={"pageNumber": "abc"}))
    _refusal(api.get("/api/v2/routing/queues", params={"pageSize": "0"}))
    _refusal(api.get(DEPLOYMENTS, params={"pageSize": "many"}))
    _refusal(api.get(DEPLOYMENTS, params={"after": "garbage"}))
