"""`server_defaults`: the emulator fills the fields Genesys computes and normalises what it keeps,
and answers still hold only their model's fields (values are the emulator's: defaults.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.emulator.harness import Emulator
from tests.emulator.steps import (
    CONFIGS,
    DEPLOYMENTS,
    configuration_body,
    deployment_body,
    flow_id,
    published_configuration,
)
from tests.emulator.test_fidelity import strays

FILLED_CONVERSATIONS = {
    "enabled": True,
    "showAgentTypingIndicator": True,
    "showUserTypingIndicator": True,
    "autoStart": {"enabled": False},
    "markdown": {"enabled": False},
    "conversationClear": {"enabled": False},
}


@pytest.fixture
def filling(start_emulator: Callable[..., Emulator]) -> Iterator[httpx.Client]:
    """A client of an emulator with server_defaults on."""
    with start_emulator(server_defaults=True).client() as client:
        yield client


def test_configuration_write_gets_the_computed_fields_filled(filling: httpx.Client) -> None:
    """messenger.enabled, sessionPersistenceType, apps.conversations.*, and the Computed fields of the
    objects given (homeScreen, fileUpload, cobrowse) are filled; hex colours are lower-cased."""
    messenger = {
        "styles": {"primaryColor": "#AABBCC"},
        "homeScreen": {"logoUrl": "https://example.com/logo.png"},
        "fileUpload": {"modes": [{"fileTypes": ["image/png"]}]},
    }
    body = {"name": "filled", "messenger": messenger, "cobrowse": {"allowDraw": True}}
    made = filling.post(CONFIGS, json=body)
    assert made.status_code == 200, made.text
    answer = made.json()
    assert strays("WebDeploymentConfigurationVersion", answer) == []
    assert answer["messenger"] == {
        "enabled": False,
        "sessionPersistenceType": "DomainOrSubdomainOnly",
        "styles": {"primaryColor": "#aabbcc"},
        "homeScreen": {"logoUrl": "https://example.com/logo.png", "enabled": False},
        "fileUpload": {"modes": [{"fileTypes": ["image/png"]}], "enableAttachments": False},
        "apps": {"conversations": FILLED_CONVERSATIONS},
    }
    assert answer["cobrowse"] == {
        "allowDraw": True,
        "enabled": False,
        "allowAgentControl": False,
        "allowAgentNavigation": False,
    }
    draft = filling.get(f"{CONFIGS}/{answer['id']}/versions/draft").json()
    assert draft["messenger"] == answer["messenger"]


def test_values_the_request_sets_are_kept(filling: httpx.Client) -> None:
    """A draft PUT is filled again; whatever it sets (false included) is left as it is."""
    config_id = filling.post(CONFIGS, json=configuration_body()).json()["id"]
    conversations = {"enabled": False, "showAgentTypingIndicator": False, "markdown": {}}
    body = configuration_body(
        messenger={
            "enabled": True,
            "sessionPersistenceType": "AcrossSubdomains",
            "apps": {"conversations": conversations},
        }
    )
    answer = filling.put(f"{CONFIGS}/{config_id}/versions/draft", json=body).json()
    assert strays("WebDeploymentConfigurationVersion", answer) == []
    assert answer["messenger"]["enabled"] is True
    assert answer["messenger"]["sessionPersistenceType"] == "AcrossSubdomains"
    assert answer["messenger"]["apps"]["conversations"] == {
        **FILLED_CONVERSATIONS,
        "enabled": False,
        "showAgentTypingIndicator": False,
    }


def test_objects_the_request_leaves_out_are_not_made_up(filling: httpx.Client) -> None:
    """No messenger, cobrowse or video object appears when the request has none."""
    answer = filling.post(CONFIGS, json={"name": "bare"}).json()
    assert not {"messenger", "cobrowse", "video", "homeScreen"} & set(answer)


def test_published_version_carries_the_filled_fields(filling: httpx.Client) -> None:
    """Publishing copies the filled draft."""
    config_id = published_configuration(filling)
    version = filling.get(f"{CONFIGS}/{config_id}/versions/1").json()
    assert version["messenger"]["apps"]["conversations"] == FILLED_CONVERSATIONS
    assert strays("WebDeploymentConfigurationVersion", version) == []


def test_allowed_domains_are_lower_cased_and_sorted(filling: httpx.Client) -> None:
    """Deployment create and PUT answer allowedDomains lower-cased and sorted."""
    config_id = published_configuration(filling)
    domains = ["WWW.Example.com", "b.example.com", "A.example.com"]
    body = deployment_body(config_id, flow_id(filling, "Support Messaging Flow"), allowedDomains=domains)
    made = filling.post(DEPLOYMENTS, json=body).json()
    assert made["allowedDomains"] == ["a.example.com", "b.example.com", "www.example.com"]
    changed = {**made, "allowedDomains": ["Z.example.org", "shop.example.org"]}
    updated = filling.put(f"{DEPLOYMENTS}/{made['id']}", json=changed).json()
    assert updated["allowedDomains"] == ["shop.example.org", "z.example.org"]
    assert strays("WebDeployment", updated) == []


def test_nothing_is_filled_by_default(api: httpx.Client) -> None:
    """Without server_defaults, answers echo the request: no fills, colours and domains untouched."""
    body: dict[str, Any] = configuration_body(
        messenger={"enabled": True, "styles": {"primaryColor": "#AABBCC"}}
    )
    answer = api.post(CONFIGS, json=body).json()
    assert answer["messenger"] == {"enabled": True, "styles": {"primaryColor": "#AABBCC"}}
    config_id = published_configuration(api)
    dep = deployment_body(
        config_id, flow_id(api, "Support Messaging Flow"), allowedDomains=["B.example.com", "a.example.com"]
    )
    assert api.post(DEPLOYMENTS, json=dep).json()["allowedDomains"] == ["B.example.com", "a.example.com"]
