"""The preview page: the snippet under the given CSP, a fresh nonce per response, violations listed."""

from __future__ import annotations

import re

import httpx
import pytest

from gcwm.errors import CspError
from gcwm.preview import NONCE_PLACEHOLDER, preview_app

SNIPPET = '<script type="text/javascript" charset="utf-8">\n  window.loaded = 1;\n</script>'
POLICY = f"script-src 'nonce-{NONCE_PLACEHOLDER}' 'strict-dynamic'; object-src 'none'"


async def _get(snippet: str, csp: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=preview_app(snippet, csp))
    async with httpx.AsyncClient(transport=transport, base_url="http://preview.test") as client:
        return await client.get("/")


async def test_every_answer_has_a_fresh_nonce_in_header_and_scripts() -> None:
    """The placeholder becomes a new 128-bit nonce per answer, the same in the header and on every script."""
    nonces = []
    for _ in range(2):
        page = await _get(SNIPPET, POLICY)
        header = page.headers["content-security-policy"]
        assert NONCE_PLACEHOLDER not in header and NONCE_PLACEHOLDER not in page.text
        match = re.fullmatch(
            r"script-src 'nonce-([A-Za-z0-9_-]{22})' 'strict-dynamic'; object-src 'none'", header
        )
        assert match, header
        nonce = match[1]
        assert len(re.findall(r"<script\b", page.text)) == 2  # the page's reporter and the snippet
        assert page.text.count(f'<script nonce="{nonce}"') == 2
        assert f'<script nonce="{nonce}" type="text/javascript" charset="utf-8">' in page.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


async def test_page_lists_violations_and_shows_the_policy() -> None:
    """The page has the violations list its script fills, and the served policy, escaped."""
    page = await _get(SNIPPET, POLICY)
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert '<ul id="csp-violations" data-count="0"></ul>' in page.text
    assert 'addEventListener("securitypolicyviolation"' in page.text
    assert "<li><code>object-src &#x27;none&#x27;</code></li>" in page.text


async def test_policy_without_the_placeholder_is_served_as_it_is() -> None:
    """A site's own policy (no placeholder) goes out verbatim; the scripts still get a nonce."""
    own = "script-src 'self' 'unsafe-inline'; connect-src 'self'"
    page = await _get(SNIPPET, own)
    assert page.headers["content-security-policy"] == own
    assert '<script nonce="' in page.text


def test_policy_that_cannot_be_a_header_is_refused_up_front() -> None:
    """A line break in the policy is a CspError when the app is made, not a broken header later."""
    with pytest.raises(CspError):
        preview_app(SNIPPET, "script-src 'self';\nobject-src 'none'")
