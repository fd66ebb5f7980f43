"""CSP policies parse, serialize and merge per CSP Level 3; evaluate flags what Google's CSP Evaluator
flags (and gcwm's own connect-src / frame-ancestors rules) with the mapped severities."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gcwm.errors import CspError, Finding
from gcwm.policy.csp import Policy, merge, parse, strict_base
from gcwm.policy.csp_checks import blocking, evaluate

NONCE = "rAnd0m-n0nce_of_128bits"  # 23 base64url characters


def _found(text: str) -> set[tuple[str, str, str]]:
    return {(f.check, f.severity, f.location) for f in evaluate(parse(text))}


def _checks(text: str) -> set[str]:
    return {f.check for f in evaluate(parse(text))}


# --- parse -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "directives"),
    [
        ("script-src 'self'", {"script-src": ("'self'",)}),
        (
            "  Script-SRC   'SELF'  https://Example.COM/A ;; img-src data: ",
            {"script-src": ("'self'", "https://example.com/A"), "img-src": ("data:",)},
        ),
        (
            "default-src 'none'; upgrade-insecure-requests",
            {"default-src": ("'none'",), "upgrade-insecure-requests": ()},
        ),
        (
            "script-src 'NONCE-AbC123xyz' 'SHA256-aBc='",
            {"script-src": ("'nonce-AbC123xyz'", "'sha256-aBc='")},
        ),
        ("script-src a.example; SCRIPT-SRC b.example", {"script-src": ("a.example",)}),
        ("script-src a.example A.EXAMPLE a.example", {"script-src": ("a.example",)}),
        ("script-src\t'self'\thttps:", {"script-src": ("'self'", "https:")}),
        ("", {}),
        (" ;;; ; ", {}),
        ("script-src 'self', img-src *", {"script-src": ("'self'",)}),
        (", img-src *", {"img-src": ("*",)}),
        ("report-uri /CSP/Report; report-to Main", {"report-uri": ("/CSP/Report",), "report-to": ("Main",)}),
        ("trusted-types myPolicy 'Allow-Duplicates'", {"trusted-types": ("myPolicy", "'allow-duplicates'")}),
        (
            "script-src HTTPS: WSS://Chat.Example:443/Path",
            {"script-src": ("https:", "wss://chat.example:443/Path")},
        ),
        ("script-src 'self' object-src 'none'", {"script-src": ("'self'", "object-src", "'none'")}),
    ],
)
def test_parse_reads_directives_and_sources(text: str, directives: dict[str, tuple[str, ...]]) -> None:
    """Names and keywords are lower-cased, first duplicate wins, only the first policy of a list is read."""
    assert dict(parse(text).directives) == directives


@pytest.mark.parametrize(
    ("text", "check", "location"),
    [
        ("script-src a.example; script-src b.example", "duplicate_directive", "script-src"),
        ("script-src 'self', img-src *", "policy_list", ""),
        ("script-src 'self' object-src 'none'", "missing_semicolon", "script-src"),
        ("img-src 'self' Script-Src", "missing_semicolon", "img-src"),
        ("foo-src a.example", "unknown_directive", "foo-src"),
        ("script-src: 'self'", "unknown_directive", "script-src:"),
        ("script-src self", "invalid_keyword", "script-src"),
        ("script-src 'unknown-keyword'", "invalid_keyword", "script-src"),
        ("script-src nonce-abcdefgh", "invalid_keyword", "script-src"),
        ("script-src sha256-abc=", "invalid_keyword", "script-src"),
        ("script-src 'nonce-ab$cdefg'", "invalid_keyword", "script-src"),
        ("require-trusted-types-for 'scripts'", "invalid_keyword", "require-trusted-types-for"),
        ("require-trusted-types-for script", "invalid_keyword", "require-trusted-types-for"),
        ("sandbox 'allow-scripts'", "invalid_keyword", "sandbox"),
        ("webrtc allow", "invalid_keyword", "webrtc"),
        ("img-src https://foo_bar.example", "invalid_source", "img-src"),
        ("connect-src [::1]", "invalid_source", "connect-src"),
        ("object-src 'none' https://a.example", "none_with_sources", "object-src"),
    ],
)
def test_parse_reports_syntax_problems_as_findings(text: str, check: str, location: str) -> None:
    """Syntax problems are findings of severity "syntax" on the directive, never exceptions."""
    policy = parse(text)
    assert (check, "syntax", location) in {(f.check, f.severity, f.location) for f in policy.findings}
    assert (check, "syntax", location) in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "require-trusted-types-for 'script'; trusted-types 'allow-duplicates' myPolicy",
        "webrtc 'block'",
        "script-src 'sha384-abc+/=' 'nonce-abc_-12' 'strict-dynamic' 'report-sample' 'wasm-unsafe-eval'",
        "sandbox allow-scripts allow-forms",
        "img-src *.example.com:* https://example.com:8443/path/ data: blob: example.com.",
        "report-uri https://r.example/csp?x=1; report-to main; upgrade-insecure-requests",
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'",
    ],
)
def test_valid_policies_have_no_syntax_findings(text: str) -> None:
    """Well-formed CSP3 values (Trusted Types, webrtc, ports, paths, hashes) are not flagged."""
    assert parse(text).findings == ()


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (b"script-src 'self'", "must be text"),
        (None, "must be text"),
        ("script-src 'self'\nimg-src *", "position 17"),
        ("script-src https://bücher.example", "Punycode"),
        ("script-src 'self'\x00", "cannot be carried"),
    ],
)
def test_parse_refuses_what_a_header_cannot_carry(value: object, match: str) -> None:
    """Only non-text, control characters (but tab) and non-ASCII raise CspError."""
    with pytest.raises(CspError, match=match):
        parse(value)  # type: ignore[arg-type]


# --- serialize and the model -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "header"),
    [
        (
            "script-src 'self'  https://a.example ;img-src data:;",
            "script-src 'self' https://a.example; img-src data:",
        ),
        ("upgrade-insecure-requests; DEFAULT-SRC 'NONE'", "upgrade-insecure-requests; default-src 'none'"),
        ("", ""),
        ("script-src a; script-src b", "script-src a"),
    ],
)
def test_serialize_gives_the_canonical_header(text: str, header: str) -> None:
    """One space between words, '; ' between directives, first duplicate only."""
    assert parse(text).serialize() == header
    assert parse(header).serialize() == header


def test_policy_built_directly_is_normalised_and_equal_to_the_parsed_one() -> None:
    """Policy() normalises like parse(); equal policies hash alike whatever their order."""
    built = Policy({"Script-Src": ("'SELF'", "HTTPS:"), "img-src": ("data:",)})
    parsed = parse("img-src data:; script-src 'self' https:")
    assert built == parsed
    assert hash(built) == hash(parsed)


@pytest.mark.parametrize(
    "directives",
    [{"script-src": ("a b",)}, {"script-src": ("a;b",)}, {"script src": ()}, {"script-src": "'self'"}],
)
def test_policy_refuses_sources_that_are_not_one_word(directives: dict[str, object]) -> None:
    """A source with a space, ';' or a bare string instead of a sequence cannot be serialised."""
    with pytest.raises(CspError):
        Policy(directives)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "name", "governing"),
    [
        ("default-src 'self'", "script-src-elem", "default-src"),
        ("default-src 'self'; script-src 'self'", "script-src-elem", "script-src"),
        ("default-src 'self'; child-src 'self'", "frame-src", "child-src"),
        ("script-src 'self'", "worker-src", "script-src"),
        ("default-src 'self'", "base-uri", None),
        ("img-src 'self'", "connect-src", None),
    ],
)
def test_effective_directive_follows_the_csp3_fallback_list(
    text: str, name: str, governing: str | None
) -> None:
    """An absent fetch directive is governed by its CSP3 fallback; base-uri has none."""
    assert parse(text).effective_directive(name) == governing


# --- merge -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "needs", "header"),
    [
        (
            "script-src 'self' https://apps.example",
            {"script-src": ["https://apps.example", "https://api.example"]},
            "script-src 'self' https://apps.example https://api.example",
        ),
        (
            "default-src 'self' https://cdn.example",
            {"connect-src": ["wss://chat.example"]},
            "default-src 'self' https://cdn.example; connect-src 'self' https://cdn.example wss://chat.example",
        ),
        (
            "default-src 'self'; script-src 'nonce-abcdefgh'",
            {"script-src-elem": ["https://apps.example"]},
            "default-src 'self'; script-src 'nonce-abcdefgh'; script-src-elem 'nonce-abcdefgh' https://apps.example",
        ),
        (
            "default-src 'self'; child-src https://kids.example",
            {"frame-src": ["https://apps.example"]},
            "default-src 'self'; child-src https://kids.example; frame-src https://kids.example https://apps.example",
        ),
        (
            "object-src 'none'; frame-src 'none'",
            {"frame-src": ["https://apps.example"]},
            "object-src 'none'; frame-src https://apps.example",
        ),
        (
            "default-src 'none'",
            {"img-src": ["https://apps.example"]},
            "default-src 'none'; img-src https://apps.example",
        ),
        (
            "frame-ancestors 'self'",
            {"connect-src": ["https://api.example"]},
            "frame-ancestors 'self'; connect-src https://api.example",
        ),
        (
            "script-src https://apps.example",
            {"SCRIPT-SRC": ["HTTPS://Apps.Example", "'SELF'"]},
            "script-src https://apps.example 'self'",
        ),
        ("script-src 'self'", {"img-src": []}, "script-src 'self'; img-src"),
    ],
)
def test_merge_adds_sources_without_dropping_any(text: str, needs: dict[str, list[str]], header: str) -> None:
    """Existing sources stay in order, new ones come once, a new directive starts from its fallback."""
    assert merge(parse(text), needs).serialize() == header


def test_merge_can_leave_unrestricted_directives_absent() -> None:
    """create_absent=False: a directive nothing governed already allows everything, so it stays absent."""
    policy = parse("default-src 'self'; frame-ancestors 'self'")
    merged = merge(policy, {"base-uri": ["'self'"], "img-src": ["https://apps.example"]}, create_absent=False)
    assert (
        merged.serialize()
        == "default-src 'self'; frame-ancestors 'self'; img-src 'self' https://apps.example"
    )


def test_merge_keeps_parse_findings_and_leaves_the_original_alone() -> None:
    """Merging returns a new policy; the duplicate reported at parse time is still reported."""
    policy = parse("script-src 'self'; script-src https://b.example")
    merged = merge(policy, {"script-src": ["https://apps.example"]})
    assert policy.serialize() == "script-src 'self'"
    assert [f.check for f in merged.findings] == ["duplicate_directive"]


@pytest.mark.parametrize(
    "needs", [{"script-src": ["a b"]}, {"script-src": [""]}, {"script-src": "https:"}, {"bad name": ["x"]}]
)
def test_merge_refuses_sources_that_are_not_one_word(needs: dict[str, object]) -> None:
    """A need that cannot be one CSP word is the caller's bug: CspError."""
    with pytest.raises(CspError):
        merge(parse("script-src 'self'"), needs)  # type: ignore[arg-type]


# --- evaluate ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "check", "severity", "location"),
    [
        ("script-src 'unsafe-inline'; object-src 'none'", "script_unsafe_inline", "high", "script-src"),
        ("default-src 'self' 'unsafe-inline'", "script_unsafe_inline", "high", "default-src"),
        (
            "script-src 'self'; script-src-elem 'unsafe-inline'",
            "script_unsafe_inline",
            "high",
            "script-src-elem",
        ),
        ("script-src 'nonce-abcdefgh' https:", "plain_url_scheme", "high", "script-src"),
        ("script-src 'self' data:", "plain_url_scheme", "high", "script-src"),
        ("object-src data:", "plain_url_scheme", "high", "object-src"),
        ("base-uri http:", "plain_url_scheme", "high", "base-uri"),
        ("default-src 'nonce-abcdefgh' 'strict-dynamic' https:", "plain_url_scheme", "high", "default-src"),
        ("script-src *", "wildcard", "high", "script-src"),
        ("script-src https://*", "wildcard", "high", "script-src"),
        ("default-src *", "wildcard", "high", "default-src"),
        ("script-src https://www.google.com", "script_allowlist_bypass", "high", "script-src"),
        ("script-src *.googleapis.com", "script_allowlist_bypass", "high", "script-src"),
        ("script-src accounts.google.com/o/oauth2/", "script_allowlist_bypass", "high", "script-src"),
        (
            "script-src https://cdnjs.cloudflare.com/ajax/libs/",
            "script_allowlist_bypass",
            "high",
            "script-src",
        ),
        (
            "script-src www.googletagmanager.com 'unsafe-eval'",
            "script_allowlist_bypass",
            "high",
            "script-src",
        ),
        ("default-src https://cdn.jsdelivr.net", "script_allowlist_bypass", "high", "default-src"),
        ("script-src 'self'", "missing_object_src", "high", "object-src"),
        ("script-src 'self'; object-src", "missing_object_src", "high", "object-src"),
        ("object-src 'none'", "missing_script_src", "high", "script-src"),
        ("script-src 'nonce-abcdefgh'; object-src 'none'", "missing_base_uri", "high", "base-uri"),
        ("script-src 'sha256-abc=' 'strict-dynamic'", "missing_base_uri", "high", "base-uri"),
        ("default-src 'nonce-abcdefgh'", "missing_base_uri", "high", "base-uri"),
        ("script-src 'self' 'unsafe-eval'", "script_unsafe_eval", "medium", "script-src"),
        ("script-src 'self' 'unsafe-hashes' 'sha256-abc='", "script_unsafe_hashes", "medium", "script-src"),
        ("object-src 'self'", "object_src_not_none", "medium", "object-src"),
        ("script-src 'nonce-abc'", "nonce_length", "medium", "script-src"),
        ("style-src 'nonce-1234567'", "nonce_length", "medium", "style-src"),
        ("script-src 'nonce-abcd$efgh'", "nonce_charset", "info", "script-src"),
        ("connect-src *", "connect_src_broad", "medium", "connect-src"),
        ("connect-src https:", "connect_src_broad", "medium", "connect-src"),
        ("connect-src 'self' wss:", "connect_src_broad", "medium", "connect-src"),
        ("default-src 'self' https:", "connect_src_broad", "medium", "default-src"),
        ("connect-src ws://chat.example", "connect_src_insecure", "medium", "connect-src"),
        ("img-src http://a.example", "src_http", "medium", "img-src"),
        ("report-uri HTTP://r.example/csp", "src_http", "medium", "report-uri"),
        ("connect-src http://api.example", "src_http", "medium", "connect-src"),
        ("referrer no-referrer", "deprecated_directive", "info", "referrer"),
        ("reflected-xss block", "deprecated_directive", "info", "reflected-xss"),
        ("disown-opener", "deprecated_directive", "info", "disown-opener"),
        ("prefetch-src 'self'", "deprecated_directive", "info", "prefetch-src"),
        ("img-src 10.0.0.1", "ip_source", "info", "img-src"),
        ("connect-src http://127.0.0.1:8080", "ip_source", "info", "connect-src"),
        ("script-src 'self'", "missing_frame_ancestors", "low", "frame-ancestors"),
    ],
)
def test_evaluate_flags(text: str, check: str, severity: str, location: str) -> None:
    """Each check reports its finding, with the reference's mapped severity, on the governing directive."""
    assert (check, severity, location) in _found(text)


@pytest.mark.parametrize(
    ("text", "check"),
    [
        (f"script-src 'nonce-{NONCE}' 'strict-dynamic' https: 'unsafe-inline'", "script_unsafe_inline"),
        (f"script-src 'nonce-{NONCE}' 'strict-dynamic' https: 'unsafe-inline'", "plain_url_scheme"),
        ("script-src 'sha256-abc=' 'unsafe-inline'", "script_unsafe_inline"),
        ("script-src 'strict-dynamic' 'unsafe-inline'", "script_unsafe_inline"),
        ("script-src 'nonce-abcdefgh' 'strict-dynamic' https://www.google.com", "script_allowlist_bypass"),
        ("script-src www.googletagmanager.com", "script_allowlist_bypass"),
        ("script-src https://ajax.googleapis.com/ajax/libs/jquery/", "script_allowlist_bypass"),
        ("script-src google.com", "script_allowlist_bypass"),
        ("script-src 'none'", "script_allowlist_bypass"),
        ("script-src 'nonce-abcdefgh' 'strict-dynamic' http://cdn.example", "src_http"),
        ("script-src 'sha256-abc='", "missing_base_uri"),
        ("script-src 'nonce-abcdefgh'; base-uri 'self'", "missing_base_uri"),
        ("object-src 'none'", "object_src_not_none"),
        ("default-src 'self'", "missing_object_src"),
        ("default-src 'self'", "missing_script_src"),
        ("default-src 'self'", "object_src_not_none"),
        ("default-src 'none'; connect-src https://api.example wss://chat.example", "connect_src_broad"),
        ("connect-src wss://chat.example", "connect_src_insecure"),
        ("img-src *.example.com", "wildcard"),
        ("frame-ancestors 'none'", "missing_frame_ancestors"),
        ("script-src 'nonce-abcdefgh'", "nonce_length"),
        ("img-src localhost.example", "ip_source"),
    ],
)
def test_evaluate_does_not_flag(text: str, check: str) -> None:
    """What CSP3 browsers ignore, or what is already safe, is not flagged."""
    assert check not in _checks(text)


def test_script_directives_share_one_finding_per_governing_directive() -> None:
    """script-src-elem and -attr falling back to script-src do not repeat its finding."""
    findings = [f for f in evaluate(parse("default-src 'unsafe-inline' https:")) if f.severity == "high"]
    assert [(f.check, f.location) for f in findings] == [
        ("script_unsafe_inline", "default-src"),
        ("plain_url_scheme", "default-src"),
    ]


def test_evaluate_returns_syntax_findings_first_with_empty_source_and_channel() -> None:
    """Parse findings lead the list; every finding leaves source and channel for the caller."""
    findings = evaluate(parse("script-src self; script-src 'none'"))
    assert [f.check for f in findings[:2]] == ["duplicate_directive", "invalid_keyword"]
    assert all(f.source == "" and f.channel == "" for f in findings)


def test_genesys_style_template_is_flagged_for_unsafe_inline() -> None:
    """The published Messenger template (inline snippet allowed by 'unsafe-inline') is high."""
    template = (
        "script-src 'unsafe-inline' https://*.nr-data.net https://*.mypurecloud.ie; "
        "connect-src https://*.mypurecloud.ie wss://*.mypurecloud.ie; object-src https://*.mypurecloud.ie"
    )
    found = _found(template)
    assert ("script_unsafe_inline", "high", "script-src") in found
    assert ("object_src_not_none", "medium", "object-src") in found
    assert not {c for c, _, _ in found} & {"connect_src_broad", "script_allowlist_bypass"}


def test_new_relic_wildcard_in_script_src_is_a_known_bypass() -> None:
    """https://*.newrelic.com (in Genesys's template) covers a JSONP endpoint the reference lists."""
    assert ("script_allowlist_bypass", "high", "script-src") in _found("script-src https://*.newrelic.com")


# --- strict_base and blocking ------------------------------------------------------------------------


def test_strict_base_is_the_strict_nonce_policy() -> None:
    """strict_base gives the nonce + 'strict-dynamic' policy with its fallbacks."""
    assert strict_base(NONCE).serialize() == (
        f"script-src 'nonce-{NONCE}' 'strict-dynamic' https: 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'self'"
    )


def test_strict_base_has_no_high_syntax_or_medium_finding() -> None:
    """The strict starting point evaluates clean of anything above low."""
    assert [f for f in evaluate(strict_base(NONCE)) if f.severity in ("high", "syntax", "medium")] == []


def test_strict_base_stays_clean_after_merging_messenger_hosts() -> None:
    """Adding Messenger's hosts to the strict base adds no high, syntax or medium finding."""
    merged = merge(
        strict_base(NONCE),
        {
            "script-src": ["https://apps.mypurecloud.ie"],
            "connect-src": ["https://api.mypurecloud.ie", "wss://webmessaging.mypurecloud.ie"],
            "frame-src": ["https://apps.mypurecloud.ie"],
        },
    )
    assert blocking(evaluate(merged), ("high", "syntax", "medium")) == []


@pytest.mark.parametrize("nonce", ["short", "a" * 21, "not base64 at all!!!!!!", "a" * 20 + "=="])
def test_strict_base_refuses_weak_nonces(nonce: str) -> None:
    """A nonce must be base64 of at least 128 bits (22 characters)."""
    with pytest.raises(CspError, match="128 bits"):
        strict_base(nonce)


@pytest.mark.parametrize(
    ("severities", "kept"),
    [
        (("high", "syntax"), ["a", "b"]),
        (("high",), ["a"]),
        ("medium", ["c"]),
        ((), []),
    ],
)
def test_blocking_keeps_the_chosen_severities(severities: tuple[str, ...] | str, kept: list[str]) -> None:
    """Only findings whose severity is in the chosen set block (a single name works too)."""
    findings = [
        Finding("a", "high", "script-src", ""),
        Finding("b", "syntax", "img-src", ""),
        Finding("c", "medium", "object-src", ""),
        Finding("d", "info", "referrer", ""),
    ]
    assert [f.check for f in blocking(findings, severities)] == kept


def test_blocking_defaults_to_high_and_syntax() -> None:
    """With no set given, high and syntax findings block."""
    assert {f.check for f in blocking(evaluate(parse("script-src self *; object-src 'none'")))} == {
        "invalid_keyword",
        "wildcard",
    }


# --- properties --------------------------------------------------------------------------------------

_CSP_WORDS = st.sampled_from(
    [
        "script-src", "SCRIPT-SRC", "default-src", "object-src", "img-src", "connect-src", "base-uri",
        "sandbox", "report-uri", "trusted-types", "foo-src", "'self'", "'SELF'", "'none'", "'unsafe-inline'",
        "'nonce-abc'", "'sha256-AbC='", "'strict-dynamic'", "https:", "HTTP:", "data:", "*", "*.Example.com",
        "https://A.example:443/P/", "self", "nonce-x", "'bogus'", "127.0.0.1", ";", ",", " ", "\t", "'",
    ]
)  # fmt: skip
_CSP_TEXT = st.one_of(
    st.lists(_CSP_WORDS, max_size=20).map(" ".join),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=80),
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=80), _CSP_TEXT))
def test_parse_raises_nothing_but_csp_error(text: str) -> None:
    """Any text parses, or is refused with CspError; the result always evaluates."""
    try:
        policy = parse(text)
    except CspError:
        return
    evaluate(policy)


@settings(max_examples=300, deadline=None)
@given(_CSP_TEXT)
def test_parse_serialize_parse_is_stable(text: str) -> None:
    """Serializing a parsed policy and parsing it again gives the same directives and sources."""
    policy = parse(text)
    again = parse(policy.serialize())
    assert list(again.directives.items()) == list(policy.directives.items())
    assert again.serialize() == policy.serialize()


_NEED = st.sampled_from(
    ["https://apps.example", "wss://chat.example", "'self'", "data:", "HTTPS://API.example"]
)


@settings(max_examples=300, deadline=None)
@given(
    _CSP_TEXT,
    st.dictionaries(st.sampled_from(["script-src", "connect-src", "frame-src", "img-src"]), st.lists(_NEED)),
)
def test_merge_never_removes_a_source_and_adds_every_need(text: str, needs: dict[str, list[str]]) -> None:
    """Every source of the policy (but a 'none' that gave way) and every needed source is in the merge."""
    policy = parse(text)
    merged = merge(policy, needs)
    for name, sources in policy.directives.items():
        assert set(sources) - {"'none'"} <= set(merged.directives[name])
    for name, wanted in needs.items():
        assert {parse(f"{name} {w}").directives[name][0] for w in wanted} <= set(merged.directives[name])
