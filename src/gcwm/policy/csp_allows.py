"""Does a policy let a given origin load, under a given directive? (CSP3 source matching, for origins.)

Enough of CSP3's "does url match source list" to tell whether a site's policy lets Messenger load
from the hosts it needs: `*`, scheme sources (with CSP3's upgrades: `https:` also lets `wss:` through,
`http:` all four web schemes), host sources with a leading `*.`, ports and paths. `'self'` is left out:
the embedding page's own origin is not known here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from gcwm.errors import Finding
from gcwm.policy.csp import Policy

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# CSP3 "scheme-part match": a source scheme lets these URL schemes through.
_SCHEME_COVERS = {
    "http": {"http", "https", "ws", "wss"},
    "https": {"https", "wss"},
    "ws": {"ws", "wss"},
    "wss": {"wss"},
}


def allows(policy: Policy, directive: str, origin: str) -> bool:
    """Whether `directive` (or what governs it) lets `origin` (`scheme://host[:port]`) load."""
    governing = policy.effective_directive(directive)
    if governing is None:
        return True  # nothing restricts this kind of load
    url = urlsplit(origin if "://" in origin else f"https://{origin}")
    return any(
        _matches(source, url.scheme, url.hostname or "", url.port) for source in policy.directives[governing]
    )


def blocked_needs(policy: Policy, needs: Mapping[str, Sequence[str]]) -> list[Finding]:
    """A finding for every origin Messenger needs that the policy would block."""
    found = []
    for directive, sources in needs.items():
        for origin in sources:
            if origin.startswith("'") or allows(policy, directive, origin):
                continue
            said = f"{directive} does not allow {origin}, which Messenger needs: the widget would break"
            found.append(Finding("messenger_source_blocked", "high", directive, said))
    return found


def _matches(source: str, scheme: str, host: str, port: int | None) -> bool:
    if source == "*":
        return scheme in _DEFAULT_PORTS
    if source.endswith(":") and "/" not in source:
        return scheme in _SCHEME_COVERS.get(source[:-1], set())
    if source.startswith("'"):
        return False
    parts = urlsplit(source if "://" in source else f"//{source}")
    if parts.scheme and scheme not in _SCHEME_COVERS.get(parts.scheme, set()):
        return False
    pattern = (parts.hostname or "").lower()
    if pattern.startswith("*."):
        if not host.endswith(pattern[1:]):
            return False
    elif pattern != host.lower():
        return False
    wanted = port or _DEFAULT_PORTS.get(scheme)
    try:
        allowed = parts.port
    except ValueError:  # `:*`
        return True
    return (allowed or _DEFAULT_PORTS.get(parts.scheme or scheme)) == wanted
