"""The official Genesys SDK, an independent client, drives the emulator end to end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.emulator.harness import Emulator

sdk = pytest.importorskip("PureCloudPlatformClientV2")  # slow import: only in this module

pytestmark = pytest.mark.sdk


@pytest.fixture
def api_client(emulator: Emulator) -> Iterator[Any]:
    """An SDK ApiClient logged in through the emulator's /oauth/token (the gateway setting)."""
    client = sdk.api_client.ApiClient()
    client.set_gateway("127.0.0.1", "http", emulator.server.port, "", "")
    client = client.get_client_credentials_token(emulator.config.client_id, emulator.config.client_secret)
    yield client
    client.get_http_client().rest_client.pool_manager.clear()  # close its sockets


def _poll_status(read: Any, want: str, timeout_s: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        current = read()
        if current.status == want:
            return current
        assert time.monotonic() < deadline, f"status stayed {current.status}, wanted {want}"
        time.sleep(0.01)


def test_sdk_provisions_a_messenger_deployment(api_client: Any) -> None:
    """Queue and flow lookups, configuration draft -> publish, deployment -> Active, all via the SDK."""
    queues = sdk.RoutingApi(api_client).get_routing_queues(name="Support")
    assert [q.name for q in queues.entities] == ["Support"]
    flows = sdk.ArchitectApi(api_client).get_flows(
        type=["inboundshortmessage"], name="Support Messaging Flow"
    )
    assert len(flows.entities) == 1
    flow = flows.entities[0]
    assert flow.type == "INBOUNDSHORTMESSAGE"
    assert flow.published_version.id

    web = sdk.WebDeploymentsApi(api_client)
    messenger = sdk.MessengerSettings()
    messenger.enabled = True
    launcher = sdk.LauncherButtonSettings()
    launcher.visibility = "On"
    messenger.launcher_button = launcher
    body = sdk.WebDeploymentConfigurationVersion()
    body.name = "sdk-config"
    body.languages = ["en-us"]
    body.default_language = "en-us"
    body.messenger = messenger
    draft = web.post_webdeployments_configurations(body)
    assert (draft.version, draft.status) == ("DRAFT", "Pending")
    _poll_status(lambda: web.get_webdeployments_configuration_versions_draft(draft.id), "Active")
    published = web.post_webdeployments_configuration_versions_draft_publish(draft.id)
    assert published.version == "1"

    ref = sdk.WebDeploymentConfigurationVersionEntityRef()
    ref.id = draft.id
    ref.version = "1"
    flow_ref = sdk.WebDeploymentFlowEntityRef()
    flow_ref.id = flow.id
    deployment = sdk.WebDeployment()
    deployment.name = "sdk-deployment"
    deployment.configuration = ref
    deployment.flow = flow_ref
    deployment.allowed_domains = ["example.com"]
    deployment.allow_all_domains = False
    made = web.post_webdeployments_deployments(deployment)
    assert made.status == "Pending"
    assert made.id in made.snippet
    active = _poll_status(lambda: web.get_webdeployments_deployment(made.id), "Active")
    assert active.configuration.version == "1"
    assert active.flow.id == flow.id
    assert active.date_created is not None

    listed = web.get_webdeployments_deployments()
    assert [d.id for d in listed.entities] == [made.id]
    web.delete_webdeployments_deployment(made.id)
    web.delete_webdeployments_configuration(draft.id)


def test_sdk_sees_error_bodies_as_api_exceptions(api_client: Any) -> None:
    """A 404 reaches the SDK as ApiException with status 404 and the ErrorBody text."""
    web = sdk.WebDeploymentsApi(api_client)
    with pytest.raises(sdk.rest.ApiException) as caught:
        web.get_webdeployments_deployment("no-such-deployment")
    assert caught.value.status == 404
    assert "not.found" in caught.value.body


def test_sdk_reads_organization_limits(api_client: Any) -> None:
    """OrganizationApi reads web.deployments limits as Limit objects."""
    limits = sdk.OrganizationApi(api_client).get_organizations_limits_namespace("web.deployments")
    assert {limit.key for limit in limits.entities} == {"deployments.max", "configuration.max"}


def test_sdk_manages_supported_content_profiles(api_client: Any) -> None:
    """ConversationsApi: create, list, read, patch, switch the default and delete a profile; a
    deployment names it through WebDeployment.supported_content."""
    conversations = sdk.ConversationsApi(api_client)
    seeded = conversations.get_conversations_messaging_supportedcontent_default()
    assert [m.type for m in seeded.media_types.allow.inbound] == ["*/*"]

    image = sdk.MediaType()
    image.type = "image/*"
    allow = sdk.MediaTypeAccess()
    allow.inbound = [image]
    allow.outbound = []
    media = sdk.MediaTypes()
    media.allow = allow
    body = sdk.SupportedContent()
    body.name = "sdk-profile"
    body.media_types = media
    made = conversations.post_conversations_messaging_supportedcontent(body)
    assert (made.name, made.version) == ("sdk-profile", 1)
    assert made.date_created is not None

    listing = conversations.get_conversations_messaging_supportedcontent(page_size=25, page_number=1)
    assert [p.id for p in listing.entities] == [seeded.id, made.id]
    assert listing.total == 2
    assert (
        conversations.get_conversations_messaging_supportedcontent_supported_content_id(made.id).name
        == "sdk-profile"
    )
    change = sdk.SupportedContent()
    change.name = "sdk-renamed"
    patched = conversations.patch_conversations_messaging_supportedcontent_supported_content_id(
        made.id, change
    )
    assert (patched.name, patched.version, patched.media_types.allow.inbound[0].type) == (
        "sdk-renamed",
        2,
        "image/*",
    )

    reference = sdk.SupportedContentReference()
    reference.id = made.id
    assert conversations.put_conversations_messaging_supportedcontent_default(reference).id == made.id
    assert conversations.get_conversations_messaging_supportedcontent_default().id == made.id
    with pytest.raises(sdk.rest.ApiException) as caught:
        conversations.delete_conversations_messaging_supportedcontent_supported_content_id(made.id)
    assert caught.value.status == 409
    reference.id = seeded.id
    conversations.put_conversations_messaging_supportedcontent_default(reference)
    conversations.delete_conversations_messaging_supportedcontent_supported_content_id(made.id)
    with pytest.raises(sdk.rest.ApiException) as gone:
        conversations.get_conversations_messaging_supportedcontent_supported_content_id(made.id)
    assert gone.value.status == 404


def test_sdk_reads_a_deployments_supported_content(api_client: Any) -> None:
    """A deployment created with supported_content reads back its id, name and selfUri."""
    conversations = sdk.ConversationsApi(api_client)
    profile = sdk.SupportedContent()
    profile.name = "for-deployment"
    made = conversations.post_conversations_messaging_supportedcontent(profile)

    web = sdk.WebDeploymentsApi(api_client)
    config = sdk.WebDeploymentConfigurationVersion()
    config.name = "sdk-profile-config"
    draft = web.post_webdeployments_configurations(config)
    _poll_status(lambda: web.get_webdeployments_configuration_versions_draft(draft.id), "Active")
    web.post_webdeployments_configuration_versions_draft_publish(draft.id)
    flows = sdk.ArchitectApi(api_client).get_flows(type=["inboundshortmessage"], name="Sales Messaging Flow")
    deployment = sdk.WebDeployment()
    deployment.name = "sdk-with-profile"
    deployment.configuration = sdk.WebDeploymentConfigurationVersionEntityRef()
    deployment.configuration.id = draft.id
    deployment.configuration.version = "1"
    deployment.flow = sdk.WebDeploymentFlowEntityRef()
    deployment.flow.id = flows.entities[0].id
    deployment.allow_all_domains = True
    deployment.supported_content = sdk.SupportedContentReference()
    deployment.supported_content.id = made.id
    created = web.post_webdeployments_deployments(deployment)
    assert (created.supported_content.id, created.supported_content.name) == (made.id, "for-deployment")
    assert created.supported_content.self_uri.endswith(made.id)
