"""The security checks' tables and words (gcwm.policy.csp_checks): every known allow-list bypass, the
schemes that count as any host, where a fallback directive is named, and the exact findings."""

from __future__ import annotations

import pytest

from gcwm.errors import Finding
from gcwm.policy.csp import parse
from gcwm.policy.csp_checks import evaluate

# google/csp-evaluator allowlist_bypasses/json/{jsonp,angular}.json, as gcwm curates them.
BYPASSES = [
    ("www.google.com", "/tools/feedback/escalation-options", "jsonp"),
    ("accounts.google.com", "/o/oauth2/revoke", "jsonp"),
    ("translate.google.com", "/translate_a/l", "jsonp"),
    ("translate.googleapis.com", "/translate_a/l", "jsonp"),
    ("clients1.google.com", "/complete/search", "jsonp"),
    ("books.google.com", "/books", "jsonp"),
    ("maps.google.com", "/maps/vt", "jsonp"),
    ("ajax.googleapis.com", "/ajax/services/search/news", "jsonp"),
    ("ajax.googleapis.com", "/ajax/libs/angularjs/1.2.0rc1/angular-route.min.js", "angular"),
    ("maps.googleapis.com", "/maps/api/js/GeoPhotoService.GetMetadata", "jsonp"),
    ("www.googleapis.com", "/freebase/v1/topic/m/0344_", "jsonp"),
    ("www.gstatic.com", "/fsn/angular_js-bundle1.js", "angular"),
    ("gstatic.com", "/fsn/angular_js-bundle1.js", "angular"),
    ("googleads.g.doubleclick.net", "/pagead/conversion/1036918760/wcm", "jsonp"),
    ("securepubads.g.doubleclick.net", "/gampad/ads", "jsonp"),
    ("pagead2.googlesyndication.com", "/relatedsearch", "jsonp"),
    ("www.googleadservices.com", "/pageadimg/imgad", "angular"),
    ("www.googleadservices.com", "/pagead/conversion/1070110417/wcm", "jsonp-eval"),
    ("www.googletagmanager.com", "/gtm/js", "jsonp-eval"),
    ("googletagmanager.com", "/gtm/js", "jsonp-eval"),
    ("www.google-analytics.com", "/gtm/js", "jsonp-eval"),
    ("ssl.google-analytics.com", "/gtm/js", "jsonp-eval"),
    ("www.youtube.com", "/profile_style", "jsonp"),
    ("www.facebook.com", "/restserver.php", "jsonp"),
    ("api.facebook.com", "/restserver.php", "jsonp"),
    ("graph.facebook.com", "/1/", "jsonp"),
    ("publish.twitter.com", "/oembed", "jsonp"),
    ("api.vk.com", "/method/wall.get", "jsonp"),
    ("vimeo.com", "/api/oembed.json/", "jsonp"),
    ("api.mixpanel.com", "/track/", "jsonp"),
    ("query.yahooapis.com", "/v1/public/yql", "jsonp"),
    ("de.blog.newrelic.com", "/wp-admin/admin-ajax.php", "jsonp"),
    ("cdnjs.cloudflare.com", "/ajax/libs/angular.js/1.2.16/angular.min.js", "angular"),
    ("cdn.jsdelivr.net", "/angularjs/1.1.2/angular.min.js", "angular"),
    ("oss.maxcdn.com", "/angularjs/1.2.20/angular.min.js", "angular"),
    ("yastatic.net", "/angularjs/1.2.23/angular.min.js", "angular"),
    ("cdn.shopify.com", "/s/files/1/0225/6463/t/1/assets/angular-animate.min.js", "angular"),
    ("raw.githubusercontent.com", "/angular/code.angularjs.org/master/1.0.7/angular-resource.js", "angular"),
]
MISSING_FRAME_ANCESTORS = (
    "frame-ancestors is missing: any site can frame this page (clickjacking); set it to 'self' or the hosts "
    "that may embed it (as a header: <meta> CSP ignores it)"
)


def _found(policy: str, check: str) -> list[Finding]:
    return [f for f in evaluate(parse(policy)) if f.check == check]


def _bypass_text(where: str, source: str, host: str, kind: str) -> str:
    hosts = "AngularJS" if kind == "angular" else "JSONP endpoints"
    return (
        f"{where}: {source} allows {host}, known to host {hosts} that run an attacker's script; use a nonce"
        " with 'strict-dynamic' or narrow the path"
    )


@pytest.mark.parametrize(("host", "path", "kind"), BYPASSES)
def test_each_known_bypass_endpoint_allowed_by_script_src_is_a_high_finding(
    host: str, path: str, kind: str
) -> None:
    """The exact endpoint allowed (with 'unsafe-eval' where it needs eval) names its host and what runs."""
    source = f"https://{host}{path}"
    needs_eval = " 'unsafe-eval'" if kind == "jsonp-eval" else ""
    (finding,) = _found(f"script-src {source}{needs_eval}; object-src 'none'", "script_allowlist_bypass")
    assert (finding.severity, finding.location) == ("high", "script-src")
    assert finding.description == _bypass_text("script-src", source, host, kind)
    # Another path on the host that is not a prefix of the endpoint's is no bypass.
    assert _found(f"script-src https://{host}{path}x{needs_eval}", "script_allowlist_bypass") == []


@pytest.mark.parametrize("host", sorted({h for h, _, k in BYPASSES if k == "jsonp-eval"}))
def test_an_endpoint_that_needs_eval_is_no_bypass_without_unsafe_eval(host: str) -> None:
    """Those JSONP endpoints run script only through eval()."""
    assert _found(f"script-src https://{host}/gtm/js", "script_allowlist_bypass") == []


@pytest.mark.parametrize(
    ("source", "host"),
    [
        ("https://www.google.com", "www.google.com"),  # the whole host
        ("https://www.google.com/tools/", "www.google.com"),  # a path ending in '/' is a prefix
        ("https://www.google.com./tools/feedback/escalation-options", "www.google.com"),  # a trailing dot
        ("https://*.gstatic.com/fsn/", "www.gstatic.com"),  # a wildcard covers subdomains
    ],
)
def test_a_source_covering_an_endpoint_is_a_bypass(source: str, host: str) -> None:
    """CSP path and host matching, as browsers do it."""
    (finding,) = _found(f"script-src {source}", "script_allowlist_bypass")
    assert finding.description.startswith(f"script-src: {source} allows {host}, known to host")


@pytest.mark.parametrize(
    "policy",
    [
        "script-src https://www.google.com/tools",  # not a prefix: the whole path must match
        "script-src https://*.vimeo.com",  # a wildcard does not cover the name itself
        "script-src 'none' https://www.google.com",  # 'none' (with sources it is invalid, but allows nothing)
        "script-src https://localhost/gtm/js 'unsafe-eval'",  # no dot: not a host on the list
    ],
)
def test_sources_that_cover_no_endpoint_are_no_bypass(policy: str) -> None:
    """Nothing on the list is reachable through them."""
    assert _found(policy, "script_allowlist_bypass") == []


def test_script_src_elem_is_judged_on_its_own_sources_and_a_fallback_is_named() -> None:
    """Each of script-src and script-src-elem is judged on what governs it, and says which that is."""
    (elem,) = _found(
        "script-src https://a.example; script-src-elem https://www.google.com", "script_allowlist_bypass"
    )
    assert elem.location == "script-src-elem"
    (fallback,) = _found("default-src https://www.google.com", "script_allowlist_bypass")
    assert fallback.description == _bypass_text(
        "default-src (the fallback for script-src)", "https://www.google.com", "www.google.com", "jsonp"
    )
    (own,) = _found("script-src https://www.google.com", "script_allowlist_bypass")
    assert own.description == _bypass_text("script-src", "https://www.google.com", "www.google.com", "jsonp")


def test_a_nonce_in_either_script_directive_needs_base_uri() -> None:
    """script-src or script-src-elem with a nonce, and no base-uri: a high finding."""
    nonce = "'nonce-abcdefghijklmnopqrstuv'"
    text = (
        "base-uri is missing: an injected <base> tag can point nonced scripts' relative URLs to another host;"
        " set base-uri 'none' or 'self'"
    )
    for policy in (
        f"script-src {nonce}; script-src-elem https://a.example",
        f"script-src https://a.example; script-src-elem {nonce}",
    ):
        (finding,) = _found(policy, "missing_base_uri")
        assert (finding.severity, finding.location, finding.description) == ("high", "base-uri", text)


@pytest.mark.parametrize(
    ("policy", "check", "location", "description"),
    [
        (
            "script-src http:",
            "plain_url_scheme",
            "script-src",
            "script-src: http: allows code from any http: URL, an attacker's too",
        ),
        (
            "script-src-attr 'unsafe-inline'",
            "script_unsafe_inline",
            "script-src-attr",
            "script-src-attr: 'unsafe-inline' lets any injected inline script and event handler run; use a"
            " nonce or hash (then browsers ignore 'unsafe-inline')",
        ),
        (
            "connect-src ws:",
            "connect_src_broad",
            "connect-src",
            "connect-src: ws: lets the page send data to any host; list the hosts it needs",
        ),
        (
            "img-src https:",
            "missing_object_src",
            "object-src",
            "object-src is missing: injected plugins (<object>, <embed>) can run script; set it to 'none'",
        ),
        ("img-src https:", "missing_script_src", "script-src", "script-src (and default-src) is missing"),
        ("img-src https:", "missing_frame_ancestors", "frame-ancestors", MISSING_FRAME_ANCESTORS),
        (
            "report-uri http://r.example.com",
            "src_http",
            "report-uri",
            "report-uri: http://r.example.com is plain http://; send reports over HTTPS",
        ),
        (
            "img-src http://r.example.com",
            "src_http",
            "img-src",
            "img-src: http://r.example.com is plain http://; allow only HTTPS resources",
        ),
        (
            "img-src 127.0.0.1",
            "ip_source",
            "img-src",
            "img-src: 127.0.0.1 allows localhost: remove it in production",
        ),
        (
            "img-src https://10.0.0.1:8443",
            "ip_source",
            "img-src",
            "img-src: https://10.0.0.1:8443 is an IP address (browsers match no IP but 127.0.0.1)",
        ),
        (
            "script-src 'nonce-a'",
            "nonce_length",
            "script-src",
            "script-src: nonce 'nonce-a' is shorter than 8 characters",
        ),
        (
            "script-src 'nonce-a*cdefghi'",
            "nonce_charset",
            "script-src",
            "script-src: nonce 'nonce-a*cdefghi' is not base64",
        ),
    ],
)
def test_each_check_says_what_it_found_in_these_words(
    policy: str, check: str, location: str, description: str
) -> None:
    """One finding of the check, at the directive, in these words."""
    (finding,) = _found(policy, check)
    assert (finding.location, finding.description) == (location, description)


@pytest.mark.parametrize(
    "policy",
    [
        "script-src 'nonce-'",  # no value at all: a syntax finding, not a short nonce
        "script-src 'nonce-abcdefghij",  # no closing quote: not a nonce source
        "script-src 'strict-dynamic' 'nonce-abcdefghijklmnopqrstuv'",  # keywords are not nonces
        "script-src 'nonce-abcdefgh'",  # 8 characters is long enough
    ],
)
def test_only_quoted_nonces_with_a_value_are_measured(policy: str) -> None:
    """No nonce finding for what is not a nonce, or is one of 8 characters or more."""
    findings = evaluate(parse(policy))
    assert [f for f in findings if f.check in ("nonce_length", "nonce_charset")] == []
