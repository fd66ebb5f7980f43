"""Does a site's policy let Messenger load from an origin? CSP3 source matching for origins
(gcwm.policy.csp_allows): `*`, scheme sources with their upgrades, host sources, ports and paths."""

from __future__ import annotations

import pytest

from gcwm.errors import Finding
from gcwm.policy.csp import parse
from gcwm.policy.csp_allows import allows, blocked_needs


@pytest.mark.parametrize(
    ("policy", "directive", "origin", "allowed"),
    [
        # Nothing governs the directive: nothing restricts it.
        ("img-src https:", "connect-src", "wss://a.com", True),
        # `*` matches the four web schemes only.
        ("default-src *", "script-src", "https://a.com", True),
        ("default-src *", "script-src", "ftp://a.com", False),
        ("default-src *", "img-src", "http://a.com", True),
        ("default-src *", "connect-src", "ws://a.com", True),
        ("default-src *", "connect-src", "wss://a.com", True),
        # Scheme sources and CSP3's upgrades: https: lets wss: through, http: all four, ws: wss:.
        ("connect-src https:", "connect-src", "wss://a.com", True),
        ("connect-src https:", "connect-src", "http://a.com", False),
        ("script-src https:", "script-src", "https://a.com", True),
        ("connect-src http:", "connect-src", "http://a.com", True),
        ("connect-src http:", "connect-src", "https://a.com", True),
        ("connect-src http:", "connect-src", "ws://a.com", True),
        ("connect-src http:", "connect-src", "wss://a.com", True),
        ("connect-src ws:", "connect-src", "ws://a.com", True),
        ("connect-src ws:", "connect-src", "wss://a.com", True),
        ("connect-src ws:", "connect-src", "https://a.com", False),
        ("connect-src wss:", "connect-src", "ws://a.com", False),
        ("script-src data:", "script-src", "https://a.com", False),
        ("script-src unknown:", "script-src", "https://a.com", False),
        # Keywords match no origin ('self' is the page's own, not known here).
        ("script-src 'self'", "script-src", "https://a.com", False),
        # Host sources: a leading `*.` covers subdomains only; case does not matter.
        ("script-src *.a.com", "script-src", "https://x.a.com", True),
        ("script-src *.a.com", "script-src", "https://a.com", False),
        ("script-src *.a.com", "script-src", "https://xa.com", False),
        ("script-src a.com", "script-src", "https://A.com", True),
        ("script-src a.com", "script-src", "https://b.com", False),
        ("script-src a.com", "script-src", "a.com", True),  # an origin without scheme is https
        # A host source's scheme must cover the origin's.
        ("script-src https://a.com", "script-src", "http://a.com", False),
        ("connect-src https://a.com", "connect-src", "wss://a.com", True),
        ("connect-src wss://a.com", "connect-src", "wss://a.com", True),
        ("connect-src wss://a.com", "connect-src", "https://a.com", False),
        ("script-src https://a.com:8080", "script-src", "http://a.com:8080", False),
        # Ports: the default one unless given, `*` for any.
        ("script-src a.com", "script-src", "https://a.com:443", True),
        ("script-src a.com", "script-src", "https://a.com:8443", False),
        ("script-src a.com:*", "script-src", "https://a.com:8443", True),
        ("script-src a.com:8443", "script-src", "https://a.com:8443", True),
        ("script-src a.com:8443", "script-src", "https://a.com", False),
        ("connect-src https://a.com:443", "connect-src", "wss://a.com", True),
        ("img-src http://a.com", "img-src", "http://a.com:80", True),
        ("img-src a.com:80", "img-src", "http://a.com", True),
        ("connect-src ws://a.com", "connect-src", "ws://a.com:80", True),
        ("connect-src a.com:80", "connect-src", "ws://a.com", True),
        ("connect-src wss://a.com", "connect-src", "wss://a.com:443", True),
        # A path in the source does not stop an origin.
        ("script-src https://a.com/path/", "script-src", "https://a.com", True),
        # The governing directive is the one consulted.
        ("default-src a.com; script-src b.com", "script-src", "https://a.com", False),
        ("default-src a.com; img-src b.com", "script-src", "https://a.com", True),
    ],
)
def test_a_policy_allows_an_origin_as_csp3_matches_it(
    policy: str, directive: str, origin: str, allowed: bool
) -> None:
    """One origin against one directive (or the directive governing it)."""
    assert allows(parse(policy), directive, origin) is allowed


def test_each_blocked_origin_messenger_needs_is_one_high_finding() -> None:
    """Allowed origins and quoted needs ('self', nonces) are no finding; each blocked one is, in order."""
    policy = parse("script-src a.com; connect-src https:")
    needs = {
        "script-src": ["https://a.com", "https://b.com", "'self'", "https://c.com"],
        "connect-src": ["wss://d.com"],
    }
    assert blocked_needs(policy, needs) == [
        Finding(
            "messenger_source_blocked",
            "high",
            "script-src",
            f"script-src does not allow https://{host}, which Messenger needs: the widget would break",
        )
        for host in ("b.com", "c.com")
    ]
