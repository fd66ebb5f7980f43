"""The address classifier of the egress guard, range by range (gcwm.notify.ssrf): each network of its
table at both ends, IPv4 carried inside IPv6, hosts judged without a lookup, and what a refusal says."""

from __future__ import annotations

import ipaddress

import pytest

from gcwm.notify.ssrf import address_refusal, classify, classify_host

# (kind, network) as the RFCs and IANA's special-purpose registries name them; first match wins.
NETWORKS = [
    ("unspecified", "0.0.0.0/8"),
    ("unspecified", "::/128"),
    ("loopback", "127.0.0.0/8"),
    ("loopback", "::1/128"),
    ("private", "10.0.0.0/8"),
    ("private", "172.16.0.0/12"),
    ("private", "192.168.0.0/16"),
    ("private", "100.64.0.0/10"),
    ("private", "fc00::/7"),
    ("private", "fec0::/10"),
    ("private", "64:ff9b:1::/48"),
    ("link-local", "169.254.0.0/16"),
    ("link-local", "fe80::/10"),
    ("reserved", "192.0.0.0/24"),
    ("reserved", "192.0.2.0/24"),
    ("reserved", "192.88.99.0/24"),
    ("reserved", "198.18.0.0/15"),
    ("reserved", "198.51.100.0/24"),
    ("reserved", "203.0.113.0/24"),
    ("reserved", "224.0.0.0/4"),
    ("reserved", "240.0.0.0/4"),
    ("reserved", "::/96"),
    ("reserved", "::/8"),
    ("reserved", "100::/64"),
    ("reserved", "2001::/32"),
    ("reserved", "2001::/23"),
    ("reserved", "2001:db8::/32"),
    ("reserved", "3fff::/20"),
    ("reserved", "5f00::/16"),
    ("reserved", "ff00::/8"),
]
# Inside a network but held by a narrower one listed before it.
_SHADOWED = {"::/96": ["::"], "::/8": ["::"], "2001::/23": ["2001::"]}


@pytest.mark.parametrize(("kind", "network"), NETWORKS)
def test_both_ends_of_each_network_are_that_kind_named_by_that_network(kind: str, network: str) -> None:
    """The first and last address (bar those a narrower network holds), and the ones just outside."""
    net = ipaddress.ip_network(network)
    for address in (net[0], net[-1]):
        if str(address) not in _SHADOWED.get(network, []):
            assert classify(address) == (kind, network), address


@pytest.mark.parametrize(
    ("address", "judged"),
    [
        ("9.255.255.255", ("public", "")),
        ("11.0.0.0", ("public", "")),
        ("172.15.255.255", ("public", "")),
        ("172.32.0.0", ("public", "")),
        ("100.63.255.255", ("public", "")),
        ("100.128.0.0", ("public", "")),
        ("2001:4860::1", ("public", "")),
        ("2001:200::1", ("public", "")),
        # IPv4 inside IPv6 is judged as the IPv4 address it carries.
        ("::ffff:10.0.0.1", ("private", "10.0.0.0/8")),
        ("::ffff:0:10.0.0.1", ("private", "10.0.0.0/8")),
        ("64:ff9b::10.0.0.1", ("private", "10.0.0.0/8")),
        ("64:ff9b::8.8.8.8", ("public", "")),
        ("2002:7f00:1::", ("loopback", "127.0.0.0/8")),
        ("2002:808:808::", ("public", "")),
    ],
)
def test_addresses_outside_the_table_are_public_and_embedded_ipv4_is_unwrapped(
    address: str, judged: tuple[str, str]
) -> None:
    """Just outside each private range is public; the network named is the IPv4 one."""
    assert classify(ipaddress.ip_address(address)) == judged


@pytest.mark.parametrize(
    ("host", "judged"),
    [
        ("localhost", ("loopback", "localhost (RFC 6761)")),
        ("api.localhost", ("loopback", "localhost (RFC 6761)")),
        ("LOCALHOST.", ("loopback", "localhost (RFC 6761)")),
        ("notlocalhost", None),
        ("[::1]", ("loopback", "::1/128")),
        ("fe80::1%eth0", ("link-local", "fe80::/10")),
        # What getaddrinfo (inet_aton) also reads as IPv4.
        ("127.1", ("loopback", "127.0.0.0/8")),
        ("2130706433", ("loopback", "127.0.0.0/8")),
        ("0x7f.1", ("loopback", "127.0.0.0/8")),
        ("0X7F.0.0.1", ("loopback", "127.0.0.0/8")),
        ("1.2.3", ("public", "")),
        ("256.256.256.256", None),
        ("1.2.3.4.5", None),
        ("127.0.0.1 x", None),  # inet_aton reads up to a space; a URL's host never holds one
        ("example.com", None),
    ],
)
def test_a_host_is_judged_without_a_lookup_only_when_it_is_an_address_or_localhost(
    host: str, judged: tuple[str, str] | None
) -> None:
    """A name that needs resolving is None: it is judged at delivery."""
    assert classify_host(host) == judged


REFUSED = (
    "; gcwm does not send notifications to loopback, private, link-local or unspecified addresses unless the "
    "policy file sets allowPrivateItsmTargets: true"
)


@pytest.mark.parametrize(
    ("kind", "refusal"),
    [
        ("loopback", "a loopback address (N)" + REFUSED),
        ("private", "a private address (N)" + REFUSED),
        ("link-local", "a link-local address (N), where cloud metadata services answer" + REFUSED),
        ("unspecified", "an unspecified address (N)" + REFUSED),
    ],
)
def test_private_kinds_are_refused_saying_how_to_allow_them_unless_allowed(kind: str, refusal: str) -> None:
    """The policy file's allowPrivateItsmTargets lets them through."""
    assert address_refusal(kind, "N", allow_private=False) == refusal  # type: ignore[arg-type]
    assert address_refusal(kind, "N", allow_private=True) is None  # type: ignore[arg-type]


def test_reserved_addresses_are_always_refused_and_public_ones_never() -> None:
    """Multicast, broadcast and reserved: whatever the policy file says."""
    for allow_private in (False, True):
        assert address_refusal("reserved", "N", allow_private=allow_private) == (
            "a multicast, broadcast or reserved address (N)"
        )
        assert address_refusal("public", "", allow_private=allow_private) is None
