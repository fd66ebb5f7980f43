"""The egress guard's judgement of addresses and URLs, with a resolver given in the test (no DNS)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Sequence

import httpx
import pytest

from gcwm.notify import DeliveryError, EgressGuard, TargetRefused, classify


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "private"),
        ("172.31.255.255", "private"),
        ("172.32.0.1", "public"),
        ("192.168.0.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("127.0.0.53", "loopback"),
        ("::1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("2002:a00:1::", "private"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
        ("224.0.0.251", "reserved"),
        ("255.255.255.255", "reserved"),
        ("93.184.216.34", "public"),
        ("2606:2800:220:1::", "public"),
    ],
)
def test_addresses_are_classified_including_ipv4_inside_ipv6(address: str, kind: str) -> None:
    """Mapped, 6to4 and NAT64 addresses are judged by the IPv4 address they carry."""
    assert classify(ipaddress.ip_address(address))[0] == kind


def _resolver(names: dict[str, list[str]]) -> Callable[[str], Sequence[str]]:
    def resolve(host: str) -> Sequence[str]:
        if host not in names:
            raise OSError("Name or service not known")
        return names[host]

    return resolve


async def test_https_to_a_public_name_connects_to_its_first_address() -> None:
    """The address returned is the one the request goes to."""
    guard = EgressGuard(resolver=_resolver({"itsm.example.com": ["93.184.216.34", "2606:2800:220:1::"]}))
    assert str(await guard.check(httpx.URL("https://itsm.example.com/hook"))) == "93.184.216.34"


async def test_http_is_allowed_to_loopback_by_name_or_literal() -> None:
    """gcwm's own sink runs on http://127.0.0.1; localhost resolving to ::1 is loopback too."""
    guard = EgressGuard(resolver=_resolver({"localhost": ["::1", "127.0.0.1"]}))
    assert str(await guard.check(httpx.URL("http://127.0.0.1:8090/webhook"))) == "127.0.0.1"
    assert str(await guard.check(httpx.URL("http://localhost:8090/webhook"))) == "::1"


async def test_allowing_private_targets_still_refuses_reserved_ones_and_plain_http() -> None:
    """The policy switch opens private, link-local and unspecified addresses over https only."""
    guard = EgressGuard(allow_private=True, resolver=_resolver({}))
    assert str(await guard.check(httpx.URL("https://10.0.0.1/hook"))) == "10.0.0.1"
    with pytest.raises(TargetRefused, match="http: is used only to a loopback address"):
        await guard.check(httpx.URL("http://10.0.0.1/hook"))
    with pytest.raises(TargetRefused, match="multicast, broadcast or reserved"):
        await guard.check(httpx.URL("https://239.1.1.1/hook"))


async def test_a_name_that_does_not_resolve_is_a_passing_failure() -> None:
    """Not a refusal: DNS may come back."""
    guard = EgressGuard(resolver=_resolver({}))
    with pytest.raises(DeliveryError, match=r"nowhere\.example does not resolve") as caught:
        await guard.check(httpx.URL("https://nowhere.example/"))
    assert caught.value.final is False
