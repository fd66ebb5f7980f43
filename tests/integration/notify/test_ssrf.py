"""The egress guard in delivery: each forbidden target is refused with a clear error and the event
dead-lettered, never lost; what is allowed is sent to the very address that was checked."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from gcwm.notify import EmbeddedSink, Fault
from gcwm.store import Store
from tests.integration.notify.conftest import SECRET_ENV, MakeDispatcher, Queue, message, webhook_itsm

NAMES = {
    "itsm.internal.example": ["10.0.0.1"],
    "sink.internal.example": ["127.0.0.1"],
    "mixed.example": ["93.184.216.34", "192.168.1.20"],
    "public.example": ["93.184.216.34"],
}


def resolver(host: str) -> Sequence[str]:
    """A resolver that knows a few names and nothing else (no DNS in tests)."""
    if host not in NAMES:
        raise OSError(f"unknown host {host}")
    return NAMES[host]


REFUSED = {
    "10.x": ("https://10.0.0.1/hook", "https://10.0.0.1/hook is a private address (10.0.0.0/8)"),
    "loopback": ("http://127.0.0.1:9/hook", "http://127.0.0.1:9/hook is a loopback address (127.0.0.0/8)"),
    "ipv6 loopback": ("http://[::1]:9/hook", "is a loopback address (::1/128)"),
    "name to loopback": (
        "http://sink.internal.example:9/hook",
        "resolves to 127.0.0.1, which is a loopback address (127.0.0.0/8)",
    ),
    "metadata": (
        "https://169.254.169.254/latest/meta-data/",
        "is a link-local address (169.254.0.0/16), where cloud metadata services answer",
    ),
    "ipv6 ula": ("https://[fd00::1]/hook", "https://[fd00::1]/hook is a private address (fc00::/7)"),
    "ipv4-mapped": ("https://[::ffff:10.1.2.3]/hook", "a private address (10.0.0.0/8)"),
    "unspecified": ("https://0.0.0.0/hook", "an unspecified address (0.0.0.0/8)"),
    "name to private": (
        "https://itsm.internal.example/hook",
        "https://itsm.internal.example/hook resolves to 10.0.0.1, which is a private address (10.0.0.0/8)",
    ),
    "one private address of two": (
        "https://mixed.example/hook",
        "resolves to 192.168.1.20, which is a private address (192.168.0.0/16)",
    ),
    "http to a non-loopback host": (
        "http://public.example/hook",
        "http: is used only to a loopback address (127.0.0.0/8, ::1), and public.example is 93.184.216.34",
    ),
    "multicast": ("https://224.0.0.1/hook", "a multicast, broadcast or reserved address"),
    "ipv4-translated": ("https://[::ffff:0:a00:1]/hook", "a private address (10.0.0.0/8)"),
    "local-use nat64": ("https://[64:ff9b:1::a00:1]/hook", "a private address (64:ff9b:1::/48)"),
    "nat64 to private": ("https://[64:ff9b::c0a8:114]/hook", "a private address (192.168.0.0/16)"),
    "teredo": (
        "https://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/hook",
        "reserved address (2001::/32); refused",
    ),
    "benchmarking": ("https://198.18.0.1/hook", "reserved address (198.18.0.0/15); refused"),
    "ietf protocol": ("https://192.0.0.8/hook", "reserved address (192.0.0.0/24); refused"),
    "test-net": ("https://203.0.113.9/hook", "reserved address (203.0.113.0/24); refused"),
    "not http": ("ftp://public.example/hook", "only https: URLs are used"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_forbidden_targets_are_refused_and_dead_lettered(
    store: Store, queue: Queue, make_dispatcher: MakeDispatcher, case: str
) -> None:
    """10.x, loopback, the metadata address, [fd00::1], a name resolving privately, http: off loopback..."""
    url, reason = REFUSED[case]
    # Written as stored targets: the spec already refuses some of these URLs (ftp:) on its own.
    message_id = queue(target={"type": "webhook", "url": url, "secretEnv": SECRET_ENV})

    async with make_dispatcher(resolver=resolver, allow_private=False) as dispatcher:
        result = await dispatcher.run_once()

    stored = message(store, message_id)
    assert (result.dead, stored.status, stored.attempts) == (1, "dead", 1)
    assert reason in (stored.last_error or ""), stored.last_error
    if "reserved" not in reason and case not in ("http to a non-loopback host", "not http"):
        assert "unless the policy file sets allowPrivateItsmTargets: true" in (stored.last_error or "")


async def test_a_redirect_to_a_forbidden_address_is_not_followed(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """The receiver answers 302 to https://192.0.2.1/ (never a target, even where the policy allows
    private ones, as it must here for the sink on loopback); gcwm does not go there and says why."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(mode="redirect", status=302, location="https://192.0.2.1/"))

    async with make_dispatcher() as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "dead"
    assert f"POST {sink.url}/webhook answered 302 redirect to https://192.0.2.1/ (" in (
        stored.last_error or ""
    )
    assert "https://192.0.2.1/ is a multicast, broadcast or reserved address (192.0.2.0/24)" in (
        stored.last_error or ""
    )
    assert (stored.last_error or "").endswith("; redirects are not followed")
    assert len(sink.sink.received()) == 1


async def test_any_redirect_is_a_final_failure(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Even to an allowed address: the URL in the spec is the one gcwm sends to."""
    message_id = queue(itsm=webhook_itsm(f"{sink.url}/webhook"))
    sink.sink.add_fault(Fault(mode="redirect", status=307, location=f"{sink.url}/webhook/elsewhere"))

    async with make_dispatcher() as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "dead"
    assert "answered 307 redirect to" in (stored.last_error or "")
    assert len(sink.sink.received()) == 1


async def test_the_connection_goes_to_the_checked_address_so_rebinding_cannot_pass(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """A name that resolves to loopback once and to 10.0.0.1 after: one lookup, sent to loopback."""
    lookups: list[str] = []

    def rebinding(host: str) -> Sequence[str]:
        lookups.append(host)
        return ["127.0.0.1"] if len(lookups) == 1 else ["10.0.0.1"]

    port = sink.url.rsplit(":", 1)[1]
    message_id = queue(itsm=webhook_itsm(f"http://rebind.example:{port}/webhook"))

    async with make_dispatcher(resolver=rebinding) as dispatcher:
        await dispatcher.run_once()

    assert message(store, message_id).status == "delivered"
    assert lookups == ["rebind.example"]
    (received,) = sink.sink.received("webhook")
    assert received.headers["host"] == f"rebind.example:{port}"


async def test_a_name_that_does_not_resolve_is_retried(
    store: Store, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """A lookup failure may pass (DNS trouble); the message waits for its next attempt."""
    message_id = queue(itsm=webhook_itsm("https://nowhere.example/hook"))

    async with make_dispatcher(resolver=resolver) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "pending"
    assert "nowhere.example does not resolve" in (stored.last_error or "")


async def test_the_policy_file_may_allow_private_targets(
    store: Store, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """allowPrivateItsmTargets lets a private address through the guard (here nothing answers there)."""
    message_id = queue(itsm=webhook_itsm("https://itsm.internal.example:9/hook"))

    async with make_dispatcher(resolver=resolver, allow_private=True, timeout_s=0.2) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "pending"
    assert "private" not in (stored.last_error or "")
    assert (stored.last_error or "").startswith("POST https://itsm.internal.example:9/hook")


async def test_an_answer_larger_than_the_cap_is_cut_there(
    store: Store, sink: EmbeddedSink, queue: Queue, make_dispatcher: MakeDispatcher
) -> None:
    """Only the first bytes of an answer are read; a ServiceNow search answer cut short is not JSON."""
    message_id = queue(target={"type": "servicenow", "url": sink.url, "secretEnv": "GCWM_ITSM_SN"})

    async with make_dispatcher(environ={"GCWM_ITSM_SN": "u:p"}, max_response_bytes=8) as dispatcher:
        await dispatcher.run_once()

    stored = message(store, message_id)
    assert stored.status == "pending"
    assert "answered 200 with a body that is not JSON (cut at the size cap)" in (stored.last_error or "")
