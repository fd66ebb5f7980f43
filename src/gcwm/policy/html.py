"""What a visitor sees: text made plain with nh3, URLs that are https with a valid host.

A label or bot name goes out as plain text: tags and what `<script>`/`<style>` enclose are removed.
Decoding entities could bring markup back (`&lt;script&gt;`), so cleaning runs until nothing changes.
gcwm never changes text silently: a change is a finding naming the field, before and after.
"""

from __future__ import annotations

import html
from urllib.parse import urlsplit

import nh3

from gcwm.errors import DomainError, Finding
from gcwm.policy.domains import normalize_domain

_MAX_ROUNDS = 5


def plain_text(text: str) -> str:
    """`text` with every tag, comment and script or style content removed, entities decoded."""
    current = text
    for _ in range(_MAX_ROUNDS):
        cleaned = html.unescape(nh3.clean(current, tags=set(), clean_content_tags={"script", "style"}))
        if cleaned == current:
            return cleaned
        current = cleaned
    # Still changing (entities nested deeper than any real label): keep no angle bracket at all.
    return current.replace("<", "").replace(">", "")


def check_text(location: str, text: str) -> tuple[str, list[Finding]]:
    """The plain text to send, and a finding if that is not what was written."""
    clean = plain_text(text)
    if clean == text:
        return clean, []
    description = f"markup removed from visitor-visible text: {text!r} is sent as {clean!r}"
    return clean, [Finding("html_markup_removed", "medium", location, description)]


def check_url(location: str, url: str) -> list[Finding]:
    """An image or link a visitor's browser loads must be https: with a valid host name."""
    try:
        parts = urlsplit(url.strip())
    except ValueError as exc:
        return [Finding("url_invalid", "high", location, f"{url!r} is not a URL ({exc})")]
    if parts.scheme.lower() != "https":
        scheme = f"{parts.scheme}:" if parts.scheme else "no scheme"
        description = f"{url!r} uses {scheme}; visitors' browsers must load it over https:"
        return [Finding("url_not_https", "high", location, description)]
    if not parts.netloc or "@" in parts.netloc or parts.hostname is None:
        return [Finding("url_host_invalid", "high", location, f"{url!r} has no valid host")]
    try:
        host = normalize_domain(parts.netloc)
    except DomainError as exc:
        return [Finding("url_host_invalid", "high", location, f"{url!r}: {exc.message}")]
    if host.startswith("*."):
        return [Finding("url_host_invalid", "high", location, f"{url!r} names a wildcard host")]
    return []


def url_origin(url: str) -> str | None:
    """`https://host[:port]` of a URL that passed `check_url` (for the CSP's img-src)."""
    parts = urlsplit(url.strip())
    return f"https://{parts.netloc.lower()}" if parts.scheme.lower() == "https" and parts.netloc else None
