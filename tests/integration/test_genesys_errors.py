"""Every error the emulator can answer becomes the matching typed gcwm error, with Genesys's words."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from gcwm.errors import (
    GenesysAuthError,
    GenesysBadRequest,
    GenesysConflict,
    GenesysError,
    GenesysNotFound,
    GenesysRateLimited,
    GenesysServerError,
    GenesysTransportError,
    GenesysUnavailable,
)
from gcwm.genesys import ClientCredentials, GenesysClient, GenesysTransport, RetryPolicy, endpoints_for
from gcwm.genesys.models import WebDeploymentConfigurationVersion
from tests.support.emulator import RunningEmulator

QUEUES = r"/api/v2/routing/queues"


@pytest.fixture
async def client(emulator: RunningEmulator) -> AsyncIterator[GenesysClient]:
    """A client that tries once, so each answer is seen as it came."""
    credentials = ClientCredentials(emulator.config.client_id, SecretStr(emulator.config.client_secret))
    transport = GenesysTransport(
        endpoints_for(None, emulator.url), credentials, retry=RetryPolicy(attempts=1)
    )
    client = GenesysClient(transport)
    yield client
    await client.aclose()


@pytest.mark.parametrize(
    ("fault", "status", "error_type"),
    [
        ("http400", 400, GenesysBadRequest),
        ("http404", 404, GenesysNotFound),
        ("http409", 409, GenesysConflict),
        ("http429", 429, GenesysRateLimited),
        ("http500", 500, GenesysServerError),
        ("http502", 502, GenesysUnavailable),
        ("http503", 503, GenesysUnavailable),
        ("http504", 504, GenesysUnavailable),
    ],
)
async def test_error_answers_map_to_typed_errors(
    client: GenesysClient, emulator: RunningEmulator, fault: str, status: int, error_type: type[GenesysError]
) -> None:
    """Status, code, contextId and the operation are all carried to the user."""
    emulator.add_fault("GET", QUEUES, fault)
    with pytest.raises(error_type) as caught:
        await client.find_queues("Support")
    err = caught.value
    assert err.status == status
    assert err.operation == f"GET {QUEUES}"
    assert err.code and err.context_id
    assert err.message.startswith(f"GET {QUEUES} answered {status} {err.code} (contextId {err.context_id})")
    if isinstance(err, GenesysRateLimited):
        assert err.retry_after_s == 1


async def test_dropped_connection_is_a_transport_error_with_unknown_outcome(
    client: GenesysClient, emulator: RunningEmulator
) -> None:
    """A reset after the write leaves the outcome unknown: the request was sent."""
    emulator.add_fault("POST", r"/api/v2/webdeployments/configurations", "commit_then_reset")
    body = WebDeploymentConfigurationVersion(name="web", languages=["en-us"], default_language="en-us")
    with pytest.raises(GenesysTransportError) as caught:
        await client.create_configuration(body)
    assert caught.value.request_sent
    assert [c["name"] for c in emulator.configurations()] == ["web"]


async def test_wrong_secret_is_an_auth_error_without_the_secret(emulator: RunningEmulator) -> None:
    """The login's OAuth-style error is translated; the secret is not in the message."""
    credentials = ClientCredentials(emulator.config.client_id, SecretStr("wrong-secret-xyz"))
    client = GenesysClient(GenesysTransport(endpoints_for(None, emulator.url), credentials))
    try:
        with pytest.raises(GenesysAuthError) as caught:
            await client.token_info()
    finally:
        await client.aclose()
    assert caught.value.status == 401 and caught.value.code == "invalid_client"
    assert "wrong-secret-xyz" not in caught.value.message


async def test_nothing_listening_is_a_connect_error_that_was_never_sent() -> None:
    """A refused connection means nothing reached Genesys."""
    credentials = ClientCredentials("id", SecretStr("secret"))
    transport = GenesysTransport(
        endpoints_for(None, "http://127.0.0.1:9"), credentials, retry=RetryPolicy(attempts=1)
    )
    client = GenesysClient(transport)
    try:
        with pytest.raises(GenesysTransportError) as caught:
            await client.token_info()
    finally:
        await client.aclose()
    assert not caught.value.request_sent
