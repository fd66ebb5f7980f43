"""Provisioning channels end to end over real HTTP against the emulator, with a real database."""

from __future__ import annotations

import time

import pytest
import stamina.instrumentation

from gcwm.genesys import RetryPolicy
from gcwm.observability.metrics import REGISTRY
from gcwm.settings import Settings
from gcwm.spec import parse_spec
from tests.integration.conftest import Provision, channel_yaml, gcwm_app
from tests.support.emulator import RunningEmulator

DEPLOYMENTS = "/api/v2/webdeployments/deployments"
CONFIGURATIONS = "/api/v2/webdeployments/configurations"


async def test_channel_is_provisioned_until_active(provision: Provision, emulator: RunningEmulator) -> None:
    """Happy path: configuration created and published, deployment Active, snippet and timings."""
    (job,) = await provision(channel_yaml())
    assert job.status == "succeeded", job.error
    result = job.result
    assert result["outcome"] == "created"
    assert result["deployment"]["status"] == "Active"
    assert result["configuration"]["version"] == "1"
    assert result["deployment"]["id"] in result["snippet"]
    assert {"planned", "configuration_published", "deployment_active", "total"} <= set(result["latencyMs"])
    (deployment,) = emulator.deployments()
    assert deployment["allowedDomains"] == ["example.com"]
    assert deployment["configuration"]["version"] == "1"


async def test_second_run_with_same_spec_changes_nothing(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """Idempotence: the same spec twice writes nothing the second time."""
    await provision(channel_yaml())
    before = emulator.stats()["byOperation"]
    (job,) = await provision(channel_yaml())
    after = emulator.stats()["byOperation"]
    assert job.result["outcome"] == "unchanged"
    writes = {op: n - before.get(op, 0) for op, n in after.items() if not op.startswith("GET")}
    assert all(n == 0 for op, n in writes.items() if op != "POST /oauth/token"), writes
    assert len(emulator.deployments()) == 1


async def test_changed_spec_updates_in_place(provision: Provision, emulator: RunningEmulator) -> None:
    """A new allowed domain and colour update the same deployment and publish version 2."""
    await provision(channel_yaml())
    changed = channel_yaml() + "    messenger: {primaryColor: '#000000'}\n"
    changed = changed.replace("[example.com]", "[example.com, shop.example.com]")
    (job,) = await provision(changed)
    assert job.result["outcome"] == "updated", job.result
    (deployment,) = emulator.deployments()
    assert sorted(deployment["allowedDomains"]) == ["example.com", "shop.example.com"]
    assert deployment["configuration"]["version"] == "2"


async def test_channel_gone_from_org_is_recreated(provision: Provision, emulator: RunningEmulator) -> None:
    """The org's word beats the local record: a deleted deployment is made again, and said so."""
    (first,) = await provision(channel_yaml())
    emulator.delete(f"{DEPLOYMENTS}/{first.result['deployment']['id']}")
    (job,) = await provision(channel_yaml())
    assert job.result["outcome"] == "recreated"
    assert any("gone from the org" in note for note in job.result["notes"])
    assert [d["id"] for d in emulator.deployments()] == [job.result["deployment"]["id"]]


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (channel_yaml(queue="Nope"), "routing queue 'Nope' not found"),
        (channel_yaml(flow="Nope Flow"), "inbound message flow 'Nope Flow' not found"),
        (channel_yaml(flow="Draft Messaging Flow"), "is not published"),
    ],
)
async def test_missing_dependency_fails_clearly_and_creates_nothing(
    settings: Settings, emulator: RunningEmulator, yaml_text: str, expected: str
) -> None:
    """A missing queue or flow refuses the batch with a clear finding naming the field, before any
    write (no job is queued: it could only fail)."""
    async with gcwm_app(settings) as app:
        document = await app.service.provision(parse_spec(yaml_text))
        queued = app.store.list_jobs(limit=5)
    (channel,) = document["channels"]
    assert channel["outcome"] == "refused"
    (finding,) = [f for f in channel["findings"] if f["check"] == "reference_not_usable"]
    assert expected in finding["description"]
    assert queued == []
    assert emulator.configurations() == [] and emulator.deployments() == []


async def test_failure_after_a_create_removes_what_was_made(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """A refused deployment rolls back the configuration created before it."""
    emulator.add_fault("POST", DEPLOYMENTS, "http400")
    (job,) = await provision(channel_yaml())
    assert job.status == "failed"
    assert "rolled back: removed configuration" in job.error["message"]
    assert emulator.configurations() == [] and emulator.deployments() == []


async def test_400_outside_its_window_is_final_and_genesys_message_reaches_the_user(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """A 400 with the retry window off (GCWM_TRANSIENT_400_SECONDS=0) is final: sent once, and
    Genesys's own message is in the error (here the emulator's own cap of 50 allowed domains, which
    gcwm does not check itself)."""
    many = ", ".join(f"shop{i}.example.com" for i in range(51))
    spec = channel_yaml().replace("[example.com]", f"[{many}]")
    (job,) = await provision(spec)
    assert job.status == "failed"
    assert emulator.calls(f"POST {DEPLOYMENTS}") == 1
    assert "answered 400 bad.request" in job.error["message"]
    assert "allowedDomains" in job.error["message"]


async def test_token_is_refreshed_when_the_api_says_it_expired(
    settings: Settings, emulator: RunningEmulator
) -> None:
    """A 401 on an expired token logs in again once and the call goes through."""
    async with gcwm_app(settings) as app:
        logins = app.client.transport.tokens.logins
        emulator.expire_tokens()
        queues = await app.client.find_queues("Support")
        assert [q.name for q in queues] == ["Support"]
        assert app.client.transport.tokens.logins == logins + 1


async def test_short_lived_token_is_refreshed_before_it_expires(tmp_path: object) -> None:
    """With a 2 s token, gcwm logs in again before expiry instead of meeting a 401."""
    from pydantic import SecretStr

    from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
    from gcwm.genesys import ClientCredentials, GenesysClient, GenesysTransport, endpoints_for

    config = EmulatorConfig(token_ttl_s=2)
    with EmbeddedEmulator(config) as server:
        transport = GenesysTransport(
            endpoints_for(None, server.url),
            ClientCredentials(config.client_id, SecretStr(config.client_secret)),
        )
        client = GenesysClient(transport)
        token_retries_before = _token_retries()
        try:
            await client.token_info()
            deadline = time.monotonic() + 5
            while transport.tokens.logins < 2 and time.monotonic() < deadline:
                await client.token_info()
            assert transport.tokens.logins >= 2
            # Refreshed ahead of time: no call met a 401 and had to log in again.
            assert _token_retries() == token_retries_before
        finally:
            await client.aclose()


def _token_retries() -> float:
    return (
        REGISTRY.get_sample_value(
            "gcwm_genesys_retries_total", {"operation": "GET /api/v2/tokens/me", "cause": "token"}
        )
        or 0.0
    )


async def test_429_is_retried_after_retry_after(provision: Provision, emulator: RunningEmulator) -> None:
    """A 429 waits what Retry-After says (plus a little jitter), then the create goes through once."""
    waits: list[float] = []

    def on_retry(details: stamina.instrumentation.RetryDetails) -> None:
        waits.append(details.wait_for)

    emulator.add_fault("POST", DEPLOYMENTS, "http429", retry_after_s=1)
    previous = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([on_retry])
    try:
        (job,) = await provision(channel_yaml())
    finally:
        stamina.instrumentation.set_on_retry_hooks(previous)
    assert job.status == "succeeded", job.error
    # Genesys's Retry-After, never less, plus no more than the policy's jitter.
    assert len(waits) == 1 and 1.0 <= waits[0] <= 1.0 + RetryPolicy().retry_after_jitter_s
    assert emulator.stats()["http429"] == 1
    assert len(emulator.deployments()) == 1


async def test_organization_limits_are_read_through_the_client(settings: Settings) -> None:
    """The web.deployments namespace carries the per-org caps gcwm checks before writing."""
    async with gcwm_app(settings) as app:
        limits = {limit.key: limit.value for limit in await app.client.limits("web.deployments")}
    assert {"deployments.max", "configuration.max"} <= set(limits)
    assert all(value > 0 for value in limits.values())


async def test_a_deployment_in_error_is_replaced_and_the_broken_one_removed(
    provision: Provision, emulator: RunningEmulator
) -> None:
    """Genesys gave up on the deployment: a new one takes its place (new id and snippet), said so."""
    (first,) = await provision(channel_yaml())
    broken = first.result["deployment"]["id"]
    emulator.break_deployment(broken)
    (job,) = await provision(channel_yaml())
    assert job.status == "succeeded", job.error
    assert job.result["outcome"] == "replaced"
    fresh = job.result["deployment"]["id"]
    assert fresh != broken and fresh in job.result["snippet"]
    assert [d["id"] for d in emulator.deployments()] == [fresh]
    assert len(emulator.configurations()) == 1
    assert any(f"removed the broken deployment {broken}" in note for note in job.result["notes"])
