"""The dashboard's response headers: a strict Content-Security-Policy with a fresh nonce per response,
and the headers that keep its pages out of frames, caches and MIME sniffing.

The policy allows only what the pages use: scripts carrying this response's nonce (the vendored htmx),
the stylesheet and icon from the dashboard's own origin, htmx's requests back to it, and forms posted
to it. `default-src 'none'` closes everything else; there is no `'unsafe-inline'` and no
`'unsafe-eval'` (htmx runs with `allowEval: false` and never adds a `<style>`: see base.html).
"""

from __future__ import annotations

import ipaddress
import secrets

from gcwm.policy.csp import NONCE_PLACEHOLDER, Policy

__all__ = ["DASHBOARD_POLICY", "headers_for", "is_loopback", "new_nonce", "page_policy"]

DASHBOARD_POLICY = Policy(
    {
        "default-src": ("'none'",),
        "script-src": (f"'nonce-{NONCE_PLACEHOLDER}'",),
        "style-src": ("'self'",),
        "img-src": ("'self'",),
        "connect-src": ("'self'",),
        "form-action": ("'self'",),
        "base-uri": ("'none'",),
        "frame-ancestors": ("'none'",),
    }
)
_TEMPLATE = DASHBOARD_POLICY.serialize()

# Pages show job state and carry CSRF tokens: never cached, never framed, never sniffed.
_ALWAYS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def new_nonce() -> str:
    """128 random bits, URL-safe base64 (CSP3: unguessable and unique per response)."""
    return secrets.token_urlsafe(16)


def page_policy(nonce: str) -> str:
    """The dashboard's policy with `nonce` as the one script nonce."""
    return _TEMPLATE.replace(NONCE_PLACEHOLDER, nonce)


def headers_for(nonce: str | None, *, cache: bool = False) -> dict[str, str]:
    """Security headers of one response; `nonce` None for a static file (its policy allows nothing)."""
    policy = page_policy(nonce) if nonce is not None else "default-src 'none'; frame-ancestors 'none'"
    headers = {**_ALWAYS, "Content-Security-Policy": policy}
    headers["Cache-Control"] = "public, max-age=3600" if cache else "no-store"
    return headers


def is_loopback(host: str | None) -> bool:
    """Whether a request's host names this machine (then a cookie may go without `Secure`)."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
