"""The egress guard's judgement of addresses and URLs, with a resolver given in the test (no DNS)."""

from __future__ import annotations

import ipaddress
import re
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


async def test_loopback_is_refused_unless_private_targets_are_allowed() -> None:
    """The host's own services are no target by default (issue 23, item 4): by literal or by name."""
    guard = EgressGuard(resolver=_resolver({"localhost": ["::1", "127.0.0.1"]}))
    for url in ("http://127.0.0.1:8090/webhook", "http://localhost:8090/webhook", "https://[::1]/hook"):
        with pytest.raises(TargetRefused, match=r"loopback address .*allowPrivateItsmTargets: true"):
            await guard.check(httpx.URL(url))


async def test_http_is_allowed_to_loopback_by_name_or_literal_where_the_policy_allows_it() -> None:
    """gcwm's own sink runs on http://127.0.0.1 (examples/policy-local-sink.yaml allows it); localhost
    resolving to ::1 is loopback too."""
    guard = EgressGuard(allow_private=True, resolver=_resolver({"localhost": ["::1", "127.0.0.1"]}))
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


# The ranges the security review (issue 23, item 7) found passing: every address that is not globally
# reachable (IANA's special-purpose registries), and IPv4 carried inside IPv6 judged by that IPv4.
NOT_GLOBAL = [
    pytest.param("::ffff:0:10.0.0.1", "private", "10.0.0.0/8", id="ipv4-translated-private"),
    pytest.param("::ffff:0:169.254.169.254", "link-local", "169.254.0.0/16", id="ipv4-translated-metadata"),
    pytest.param("64:ff9b:1::a00:1", "private", "64:ff9b:1::/48", id="nat64-local-use"),
    pytest.param("64:ff9b:1:ffff::5db8:d822", "private", "64:ff9b:1::/48", id="nat64-local-use-public-v4"),
    pytest.param("64:ff9b::10.0.0.1", "private", "10.0.0.0/8", id="nat64-embedding-private"),
    pytest.param("64:ff9b::198.18.0.1", "reserved", "198.18.0.0/15", id="nat64-embedding-benchmark"),
    pytest.param("2002:c612:1::", "reserved", "198.18.0.0/15", id="6to4-embedding-benchmark"),
    pytest.param("2002:c000:201::", "reserved", "192.0.2.0/24", id="6to4-embedding-test-net-1"),
    pytest.param("2001:0:4136:e378:8000:63bf:3fff:fdd2", "reserved", "2001::/32", id="teredo"),
    pytest.param("2001:2::1", "reserved", "2001::/23", id="ietf-protocol-v6-benchmark"),
    pytest.param("2001:db8::1", "reserved", "2001:db8::/32", id="v6-documentation"),
    pytest.param("3fff::1", "reserved", "3fff::/20", id="v6-documentation-2024"),
    pytest.param("100::1", "reserved", "100::/64", id="discard-only"),
    pytest.param("64:ff9b:2::1", "reserved", "::/8", id="rest-of-ietf-reserved-v6"),
    pytest.param("fec0::1", "private", "fec0::/10", id="site-local"),
    pytest.param("198.18.0.1", "reserved", "198.18.0.0/15", id="benchmark"),
    pytest.param("198.19.255.254", "reserved", "198.18.0.0/15", id="benchmark-top"),
    pytest.param("192.0.0.1", "reserved", "192.0.0.0/24", id="ietf-protocol-v4"),
    pytest.param("192.0.0.9", "reserved", "192.0.0.0/24", id="ietf-protocol-v4-pcp-anycast"),
    pytest.param("192.0.2.1", "reserved", "192.0.2.0/24", id="test-net-1"),
    pytest.param("198.51.100.7", "reserved", "198.51.100.0/24", id="test-net-2"),
    pytest.param("203.0.113.200", "reserved", "203.0.113.0/24", id="test-net-3"),
    pytest.param("192.88.99.1", "reserved", "192.88.99.0/24", id="6to4-relay-anycast"),
    pytest.param("::ffff:198.51.100.7", "reserved", "198.51.100.0/24", id="ipv4-mapped-test-net-2"),
]


@pytest.mark.parametrize(("address", "kind", "network"), NOT_GLOBAL)
def test_addresses_that_are_not_globally_reachable_are_never_public(
    address: str, kind: str, network: str
) -> None:
    """Each special-purpose range is named, and IPv4 inside IPv6 is judged by the IPv4 it carries."""
    assert classify(ipaddress.ip_address(address)) == (kind, network)


@pytest.mark.parametrize(("address", "kind", "network"), NOT_GLOBAL)
async def test_addresses_that_are_not_globally_reachable_are_refused(
    address: str, kind: str, network: str
) -> None:
    """As a literal or behind a name, over https:; reserved ones even when private targets are allowed."""
    guard = EgressGuard(resolver=_resolver({"itsm.example.com": ["93.184.216.34", address]}))
    for url in (
        f"https://[{address}]/hook" if ":" in address else f"https://{address}/hook",
        "https://itsm.example.com/hook",
    ):
        with pytest.raises(TargetRefused, match=re.escape(f"({network})")):
            await guard.check(httpx.URL(url))
    lenient = EgressGuard(allow_private=True, resolver=_resolver({"itsm.example.com": [address]}))
    if kind == "reserved":
        with pytest.raises(TargetRefused, match="multicast, broadcast or reserved"):
            await lenient.check(httpx.URL("https://itsm.example.com/hook"))
    else:
        checked = await lenient.check(httpx.URL("https://itsm.example.com/hook"))
        assert checked == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "::ffff:93.184.216.34",
        "::ffff:0:93.184.216.34",
        "64:ff9b::93.184.216.34",
        "2002:5db8:d822::1",
        "2606:2800:220:1::",
        "172.32.0.1",
        "192.0.3.1",
        "198.20.0.1",
    ],
)
def test_global_addresses_stay_public_including_inside_ipv6(address: str) -> None:
    """The guard refuses by range, not by form: a public IPv4 inside IPv6 is still public."""
    assert classify(ipaddress.ip_address(address)) == ("public", "")
