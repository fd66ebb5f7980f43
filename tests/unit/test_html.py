"""What a visitor sees: text made plain (a change is a finding naming the field, before and after) and
image or link URLs that must be https: with a valid host name (gcwm.policy.html)."""

from __future__ import annotations

import html

import pytest

from gcwm.errors import Finding
from gcwm.policy.html import check_text, check_url, plain_text, url_origin


def _escaped(text: str, times: int) -> str:
    for _ in range(times):
        text = html.escape(text)
    return text


def test_tags_comments_and_script_or_style_content_are_removed_and_entities_decoded() -> None:
    """Tags go, what <script> and <style> enclose goes with them, `&amp;` becomes `&`."""
    assert (
        plain_text("a<script>alert(1)</script>b<style>p{}</style>c<!-- x -->d &amp; <i>e</i>") == "abcd & e"
    )


@pytest.mark.parametrize("times", [1, 2, 3, 4])
def test_markup_escaped_up_to_four_times_is_still_removed(times: int) -> None:
    """Decoding entities can bring markup back; cleaning runs again until nothing changes."""
    assert plain_text(_escaped("<b>x</b>", times)) == "x"


def test_markup_nested_deeper_than_the_rounds_keeps_no_angle_bracket() -> None:
    """After five rounds what is left has its angle brackets dropped, whatever it still holds."""
    assert plain_text(_escaped("<b>x</b>", 5)) == "bx/b"


def test_plain_text_is_sent_as_written_without_a_finding() -> None:
    """Text without markup (an ampersand or a lone angle bracket included) is no finding."""
    assert check_text("labels.en.title", "plain & simple") == ("plain & simple", [])
    assert check_text("labels.en.title", "1 < 2 > 0") == ("1 < 2 > 0", [])


def test_an_escaped_comparison_is_decoded_and_kept() -> None:
    """`&lt;` that opens no tag stays a `<` once cleaning stops changing the text."""
    assert plain_text("1 &lt; 2") == "1 < 2"


def test_text_with_markup_is_sent_plain_with_a_finding_naming_the_field_before_and_after() -> None:
    """One medium finding, at the field's location."""
    clean, findings = check_text("messenger.labels.en.title", "a <b>b</b>")
    assert clean == "a b"
    assert findings == [
        Finding(
            "html_markup_removed",
            "medium",
            "messenger.labels.en.title",
            "markup removed from visitor-visible text: 'a <b>b</b>' is sent as 'a b'",
        )
    ]


@pytest.mark.parametrize(
    "url", ["https://cdn.example.com/a.png", " https://CDN.example.com:8443/a ", "HTTPS://x.example.com/"]
)
def test_an_https_url_with_a_host_name_is_no_finding(url: str) -> None:
    """Case and surrounding spaces do not matter; a port may be given."""
    assert check_url("homeScreen.logoUrl", url) == []


@pytest.mark.parametrize(
    ("url", "check", "description"),
    [
        (
            "http://x.com/a",
            "url_not_https",
            "'http://x.com/a' uses http:; visitors' browsers must load it over https:",
        ),
        ("ftp://x", "url_not_https", "'ftp://x' uses ftp:; visitors' browsers must load it over https:"),
        ("a.png", "url_not_https", "'a.png' uses no scheme; visitors' browsers must load it over https:"),
        ("https://[::1", "url_invalid", "'https://[::1' is not a URL (Invalid IPv6 URL)"),
        ("https://", "url_host_invalid", "'https://' has no valid host"),
        ("https://u@x.com/", "url_host_invalid", "'https://u@x.com/' has no valid host"),
        ("https://:443/", "url_host_invalid", "'https://:443/' has no valid host"),
        ("https://*.example.com/a", "url_host_invalid", "'https://*.example.com/a' names a wildcard host"),
        (
            "https://192.0.2.1/a",
            "url_host_invalid",
            "'https://192.0.2.1/a': '192.0.2.1' is an IP address (192.0.2.1); IP addresses are refused unless"
            " explicitly allowed",
        ),
    ],
)
def test_a_url_a_browser_should_not_load_is_one_high_finding_saying_why(
    url: str, check: str, description: str
) -> None:
    """Exactly one finding, high, at the field's location."""
    assert check_url("bot.avatarUrl", url) == [Finding(check, "high", "bot.avatarUrl", description)]


def test_the_origin_of_an_https_url_is_its_scheme_and_lower_cased_host_and_port() -> None:
    """What the CSP's img-src needs; None for a URL that is not https: or has no host."""
    assert url_origin(" HTTPS://CDN.Example.com:8443/a.png ") == "https://cdn.example.com:8443"
    assert url_origin("https://cdn.example.com/a.png") == "https://cdn.example.com"
    assert url_origin("http://cdn.example.com/a.png") is None
    assert url_origin("https:///a.png") is None
