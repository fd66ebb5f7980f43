"""A 2xx whose body is not the documented JSON (a proxy's HTML page) becomes GenesysBadAnswer at
gcwm's border, never echoing the body; a create answered so is adopted, not sent twice."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from pydantic import SecretStr

from gcwm.errors import GenesysBadAnswer
from gcwm.genesys import (
    ClientCredentials,
    GenesysClient,
    GenesysTransport,
    RetryPolicy,
    endpoints_for,
    is_outcome_unknown,
)
from tests.integration.conftest import Provision, channel_yaml
from tests.support.emulator import RunningEmulator

DEPLOYMENTS = "/api/v2/webdeployments/deployments"
# Words of the page the emulator's `malformed_answer` sends; none may reach a gcwm message.
PAGE_WORDS = ("<html", "Bad Gateway", "upstream sent a page")


def _client(emulator: RunningEmulator, *, attempts: int = 8) -> GenesysClient:
    credentials = ClientCredentials(emulator.config.client_id, SecretStr(emulator.config.client_secret))
    transport = GenesysTransport(
        endpoints_for(None, emulator.url), credentials, retry=RetryPolicy(attempts=attempts)
    )
    return GenesysClient(transport)


@pytest.fixture
async def client(emulator: RunningEmulator) -> AsyncIterator[GenesysClient]:
    """A client logged in to the emulator, so a fault added now hits the API call, not the login."""
    client = _client(emulator)
    await client.token_info()
    yield client
    await client.aclose()


def _assert_unreadable(err: GenesysBadAnswer, operation: str) -> None:
    assert err.operation == operation and err.status == 200
    assert err.message.startswith(f"{operation} answered 200 (contextId {err.context_id})")
    assert "with a body gcwm cannot read (text/html)" in err.message
    assert not any(word in err.message for word in PAGE_WORDS), err.message
    assert is_outcome_unknown(err)


@pytest.mark.parametrize(
    ("path", "operation", "call"),
    [
        (
            r"/api/v2/routing/queues",
            "GET /api/v2/routing/queues",
            lambda c: c.find_queues("Support"),
        ),
        (r"/api/v2/tokens/me", "GET /api/v2/tokens/me", lambda c: c.token_info()),
    ],
)
async def test_unreadable_answer_to_a_read_is_a_bad_answer_without_the_body(
    client: GenesysClient,
    emulator: RunningEmulator,
    path: str,
    operation: str,
    call: Callable[[GenesysClient], Awaitable[Any]],
) -> None:
    """A 200 HTML page for a read raises GenesysBadAnswer naming the operation, not echoing the page."""
    emulator.add_fault("GET", path, "malformed_answer")
    sent_before = emulator.calls(operation)
    with pytest.raises(GenesysBadAnswer) as caught:
        await call(client)
    _assert_unreadable(caught.value, operation)
    assert caught.value.context_id
    assert emulator.calls(operation) == sent_before + 1  # sent once: an unreadable answer is not retried


async def test_unreadable_login_answer_is_a_bad_answer_without_the_body(emulator: RunningEmulator) -> None:
    """A 200 HTML page from POST /oauth/token raises GenesysBadAnswer; the next call logs in afresh."""
    emulator.add_fault("POST", "/oauth/token", "malformed_answer")
    client = _client(emulator)
    try:
        with pytest.raises(GenesysBadAnswer) as caught:
            await client.token_info()
        _assert_unreadable(caught.value, "POST /oauth/token")
        assert "expected JSON with an access_token" in caught.value.message
        assert client.transport.tokens.logins == 0
        assert emulator.calls("GET /api/v2/tokens/me") == 0  # the API call was never sent
        await client.token_info()  # nothing is stuck: the next call logs in
        assert client.transport.tokens.logins == 1
    finally:
        await client.aclose()


async def test_create_with_an_unreadable_answer_is_adopted_not_sent_twice(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """A deployment made but answered with a page is found by its marker and adopted: one create sent."""
    emulator.add_fault("POST", DEPLOYMENTS, "malformed_answer")
    (job,) = await provision(channel_yaml())
    assert job.status == "succeeded", job.error
    (deployment,) = emulator.deployments()
    assert job.result["deployment"]["id"] == deployment["id"]
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 1
    assert any("the answer to the request was lost" in note for note in job.result["notes"]), job.result
