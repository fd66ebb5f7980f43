"""CSP3's tables as gcwm holds them (fallback lists, keywords, known and deprecated directives) and the
exact words of syntax findings (issue 25: each was a change to csp.py that test_csp.py let through)."""

from __future__ import annotations

import dataclasses

import pytest

from gcwm.errors import CspError, Finding
from gcwm.policy.csp import FETCH_FALLBACKS, NONCE_PLACEHOLDER, Policy, is_nonce, merge, parse, strict_base
from gcwm.policy.csp_checks import evaluate

# CSP3 "Get the effective directive for request" / directive fallback list (w3c/webappsec-csp).
FALLBACKS = {
    "default-src": ["default-src"],
    "child-src": ["child-src", "default-src"],
    "connect-src": ["connect-src", "default-src"],
    "font-src": ["font-src", "default-src"],
    "frame-src": ["frame-src", "child-src", "default-src"],
    "img-src": ["img-src", "default-src"],
    "manifest-src": ["manifest-src", "default-src"],
    "media-src": ["media-src", "default-src"],
    "object-src": ["object-src", "default-src"],
    "prefetch-src": ["prefetch-src", "default-src"],
    "script-src": ["script-src", "default-src"],
    "script-src-elem": ["script-src-elem", "script-src", "default-src"],
    "script-src-attr": ["script-src-attr", "script-src", "default-src"],
    "style-src": ["style-src", "default-src"],
    "style-src-elem": ["style-src-elem", "style-src", "default-src"],
    "style-src-attr": ["style-src-attr", "style-src", "default-src"],
    "worker-src": ["worker-src", "child-src", "script-src", "default-src"],
}
DEPRECATED = [
    "reflected-xss",
    "referrer",
    "disown-opener",
    "prefetch-src",
    "plugin-types",
    "navigate-to",
    "require-sri-for",
]
KEYWORDS = [
    "self",
    "none",
    "unsafe-inline",
    "unsafe-eval",
    "strict-dynamic",
    "unsafe-hashes",
    "report-sample",
    "unsafe-allow-redirects",
    "wasm-unsafe-eval",
    "trusted-types-eval",
    "report-sha256",
    "report-sha384",
    "report-sha512",
    "unsafe-webtransport-hashes",
    "inline-speculation-rules",
]


@pytest.mark.parametrize(("directive", "chain"), FALLBACKS.items())
def test_each_fetch_directive_falls_back_as_csp3_says(directive: str, chain: list[str]) -> None:
    """Each directive of the chain, present alone, is the one that governs; absent all, nothing does."""
    assert list(FETCH_FALLBACKS[directive]) == chain
    for governing in chain:
        policy = Policy({governing: ("https:",), "base-uri": ("'none'",)})
        assert policy.effective_directive(directive) == governing
    assert Policy({"base-uri": ("'none'",)}).effective_directive(directive) is None


@pytest.mark.parametrize("keyword", KEYWORDS)
def test_every_csp3_keyword_is_valid_in_a_source_list_and_only_quoted(keyword: str) -> None:
    """`'keyword'` is no finding (in any case); bare, it is a missing-quotes finding."""
    assert parse(f"script-src '{keyword}'").findings == ()
    assert parse(f"script-src '{keyword.upper()}'").directives["script-src"] == (f"'{keyword}'",)
    (finding,) = parse(f"script-src {keyword}").findings
    assert finding.check == "invalid_keyword"
    assert finding.description == f"script-src: {keyword} must be in single quotes: '{keyword}'"


@pytest.mark.parametrize("name", DEPRECATED)
def test_a_deprecated_directive_is_known_and_said_to_be_deprecated(name: str) -> None:
    """No unknown-directive or keyword finding, one informational deprecation finding."""
    policy = parse(f"{name} 'whatever'")
    assert policy.findings == ()
    (finding,) = [f for f in evaluate(policy) if f.check == "deprecated_directive"]
    assert (finding.severity, finding.location) == ("info", name)
    assert finding.description == f"{name} is deprecated; browsers may ignore it"


@pytest.mark.parametrize(
    "value",
    [
        "block-all-mixed-content",
        "upgrade-insecure-requests",
        "trusted-types 'none'",
        "trusted-types 'allow-duplicates' a",
        "webrtc 'allow'",
        "require-trusted-types-for 'script'",
    ],
)
def test_known_directives_and_their_own_quoted_values_are_no_finding(value: str) -> None:
    """Directives outside the source lists, with the quoted values they take."""
    assert parse(value).findings == ()


@pytest.mark.parametrize(
    ("value", "description"),
    [
        ("script-src: 'self'", "'script-src:': directive names do not end with ':'; browsers ignore it"),
        ("foo a", "'foo': not a known directive; browsers ignore it"),
        (
            "trusted-types 'bogus'",
            "trusted-types: 'bogus' is not valid here (accepted: 'allow-duplicates' or 'none')",
        ),
        ("sandbox 'x'", "sandbox: 'x' is not valid here (accepted: no quoted value)"),
        (
            "script-src 'bogus'",
            "script-src: 'bogus' is not valid here (accepted: a keyword such as 'self', 'none',"
            " 'strict-dynamic',"
            " or 'nonce-<base64>', 'sha256-<base64>')",
        ),
        (
            "script-src 'self'; script-src https: 'unsafe-inline'",
            "script-src appears more than once; browsers use the first and ignore https: 'unsafe-inline'",
        ),
        (
            "script-src 'self'; script-src",
            "script-src appears more than once; browsers use the first and ignore the empty one",
        ),
    ],
)
def test_a_syntax_finding_says_what_is_wrong_in_these_words(value: str, description: str) -> None:
    """The first finding's description, word for word."""
    assert parse(value).findings[0].description == description


def test_blank_policies_and_blank_directives_are_no_finding() -> None:
    """Spaces and tabs after the last ',' or ';' are not another policy or directive."""
    assert parse("script-src 'self' , \t ").findings == ()
    assert parse("script-src 'self'; \t ;").directives == {"script-src": ("'self'",)}


def test_a_policy_is_a_frozen_value_whose_parse_findings_do_not_count_in_equality() -> None:
    """Two policies with the same directives are equal whatever the text showed; findings are a tuple."""
    finding = Finding("policy_list", "syntax", "", "two policies")
    with_findings = Policy({"img-src": ("https:",)}, [finding])  # type: ignore[arg-type]
    assert with_findings == Policy({"img-src": ("https:",)})
    assert with_findings.parse_findings == (finding,)
    with pytest.raises(dataclasses.FrozenInstanceError):
        with_findings.directives = {}  # type: ignore[misc]


def test_a_name_that_is_not_one_word_is_refused_naming_it_a_directive_name() -> None:
    """Both where a policy is built and where sources are merged in."""
    message = (
        "directive name 'script src' cannot be written in a Content-Security-Policy: expected one printable "
        "ASCII word without spaces, ';' or ','"
    )
    with pytest.raises(CspError) as built:
        Policy({"script src": ()})
    assert built.value.message == message
    with pytest.raises(CspError) as merged:
        merge(Policy({}), {"script src": ["https:"]})
    assert merged.value.message == message


def test_a_nonce_needs_22_characters_and_the_placeholder_is_one() -> None:
    """128 bits of base64 is 22 characters; the placeholder a site replaces is a well-formed nonce."""
    assert strict_base("A" * 22).directives["script-src"][0] == "'nonce-" + "A" * 22 + "'"
    with pytest.raises(CspError, match="at least 128 bits"):
        strict_base("A" * 21)
    assert NONCE_PLACEHOLDER == "REPLACE_WITH_A_FRESH_NONCE_PER_RESPONSE"
    assert is_nonce(strict_base(NONCE_PLACEHOLDER).directives["script-src"][0])
