"""Security checks of a CSP policy, modelled on Google's CSP Evaluator (google/csp-evaluator, npm
`csp_evaluator` 1.1.8), plus gcwm's own rules for `connect-src` and `frame-ancestors`.

Severities map from the reference: HIGH -> "high", SYNTAX -> "syntax", MEDIUM, MEDIUM_MAYBE and
HIGH_MAYBE -> "medium", STRICT_CSP -> "low", INFO -> "info". Script directives are judged as a CSP3
browser sees them: a nonce or hash makes it ignore 'unsafe-inline'; 'strict-dynamic' makes it ignore
host and scheme sources, 'self' and 'unsafe-inline'. So the strict pattern
`'nonce-X' 'strict-dynamic' https: 'unsafe-inline'` is not flagged; a nonce without 'strict-dynamic'
does not excuse `https:`.

Choices: the reference's MEDIUM_MAYBE "make sure this host serves no JSONP" for every other
allow-listed host and 'self' is left out (it would flag every host Messenger needs); Flash bypass
hosts are left out (no browser runs Flash). A missing `frame-ancestors` is "low": like the
reference's STRICT_CSP advice it hardens the page (against clickjacking) but is not a hole.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable

from gcwm.errors import Finding
from gcwm.policy.csp import DEPRECATED_DIRECTIVES, HOST_SOURCE, Policy, is_hash, is_nonce

__all__ = ["BLOCKING_SEVERITIES", "blocking", "evaluate"]

BLOCKING_SEVERITIES = ("high", "syntax")

_SCRIPT_DIRECTIVES = ("script-src", "script-src-attr", "script-src-elem")
# google/csp-evaluator security_checks.ts DIRECTIVES_CAUSING_XSS and URL_SCHEMES_CAUSING_XSS.
_XSS_DIRECTIVES = (*_SCRIPT_DIRECTIVES, "object-src", "base-uri")
_XSS_SCHEMES = frozenset({"data:", "http:", "https:"})
_NETWORK_SCHEMES = frozenset({"http:", "https:", "ws:", "wss:"})

# (host, path, kind) of endpoints that run an attacker's script through an allow-listed host: a
# curated part of google/csp-evaluator allowlist_bypasses/json/{jsonp,angular}.json (Apache-2.0).
# "jsonp-eval" endpoints need 'unsafe-eval' as well (that list's "needsEval").
_BYPASSES: tuple[tuple[str, str, str], ...] = (
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
)
_IPV4 = re.compile(r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}")
_HOST_OF = re.compile(r"(?:[a-z][a-z0-9+.-]*://)?(\[[^\]]*\]|[^:/]*)", re.IGNORECASE)


class _Collector:
    """Findings in order, each (check, directive, value) once."""

    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, check: str, severity: str, location: str, description: str, value: str = "") -> None:
        if (check, location, value) not in self._seen:
            self._seen.add((check, location, value))
            self.findings.append(Finding(check, severity, location, description))


def _script_view(sources: tuple[str, ...]) -> tuple[str, ...]:
    """The sources a CSP3 browser still honours for scripts (CSP3 'strict-dynamic' usage)."""
    trusted = any(is_nonce(s) or is_hash(s) for s in sources)
    dynamic = "'strict-dynamic'" in sources
    return tuple(
        s
        for s in sources
        if not (
            (s == "'unsafe-inline'" and (trusted or dynamic)) or (dynamic and (s[0] != "'" or s == "'self'"))
        )
    )


def _governed(policy: Policy, names: Iterable[str]) -> Iterable[tuple[str, str, tuple[str, ...]]]:
    """(asked directive, governing directive, sources as honoured) for each asked one that is governed."""
    for name in names:
        governing = policy.effective_directive(name)
        if governing is not None:
            sources = policy.directives[governing]
            yield name, governing, _script_view(sources) if name in _SCRIPT_DIRECTIVES else sources


def _where(name: str, governing: str) -> str:
    return governing if name == governing else f"{governing} (the fallback for {name})"


def _check_scripts(policy: Policy, out: _Collector) -> None:
    for name, governing, sources in _governed(policy, _SCRIPT_DIRECTIVES):
        where = _where(name, governing)
        if "'unsafe-inline'" in sources:
            out.add(
                "script_unsafe_inline",
                "high",
                governing,
                f"{where}: 'unsafe-inline' lets any injected inline script and event handler run; "
                "use a nonce or hash (then browsers ignore 'unsafe-inline')",
            )
        if "'unsafe-eval'" in sources:
            out.add(
                "script_unsafe_eval",
                "medium",
                governing,
                f"{where}: 'unsafe-eval' lets code injected into eval() and similar DOM APIs run",
            )
        if "'unsafe-hashes'" in sources:
            out.add(
                "script_unsafe_hashes",
                "medium",
                governing,
                f"{where}: 'unsafe-hashes' lets inline event handlers run when their hash is listed; "
                "move them into scripts",
            )


def _check_xss_sources(policy: Policy, out: _Collector) -> None:
    for name, governing, sources in _governed(policy, _XSS_DIRECTIVES):
        where = _where(name, governing)
        for source in sources:
            host = HOST_SOURCE.fullmatch(source)
            if source in _XSS_SCHEMES:
                out.add(
                    "plain_url_scheme",
                    "high",
                    governing,
                    f"{where}: {source} allows code from any {source} URL, an attacker's too",
                    source,
                )
            elif host and host["host"] == "*":
                out.add("wildcard", "high", governing, f"{where}: {source} allows code from any host", source)


def _check_missing(policy: Policy, out: _Collector) -> None:
    present = policy.directives
    if not present.get("object-src") and not present.get("default-src"):
        out.add(
            "missing_object_src",
            "high",
            "object-src",
            "object-src is missing: injected plugins (<object>, <embed>) can run script; set it to 'none'",
        )
    if "script-src" not in present and "default-src" not in present:
        out.add("missing_script_src", "high", "script-src", "script-src (and default-src) is missing")
    # base-uri defeats nonces, and hashes with 'strict-dynamic' (google/csp-evaluator
    # checkMultipleMissingBaseUriDirective): relative script URLs resolve on the attacker's host.
    for _name, _governing, sources in _governed(policy, ("script-src", "script-src-elem")):
        dynamic = "'strict-dynamic'" in sources
        if "base-uri" not in present and any(is_nonce(s) or (dynamic and is_hash(s)) for s in sources):
            out.add(
                "missing_base_uri",
                "high",
                "base-uri",
                "base-uri is missing: an injected <base> tag can point nonced scripts' relative URLs to "
                "another host; set base-uri 'none' or 'self'",
            )
    object_src = present.get("object-src", ())
    if "'none'" not in object_src:
        for source in object_src:
            out.add(
                "object_src_not_none",
                "medium",
                "object-src",
                f"object-src: {source} allows plugins; can object-src be 'none' alone?",
                source,
            )
    if "frame-ancestors" not in present:
        out.add(
            "missing_frame_ancestors",
            "low",
            "frame-ancestors",
            "frame-ancestors is missing: any site can frame this page (clickjacking); set it to 'self' "
            "or the hosts that may embed it (as a header: <meta> CSP ignores it)",
        )


def _bypass(source: str, has_eval: bool) -> tuple[str, str] | None:
    match = HOST_SOURCE.fullmatch(source)
    if match is None or "." not in match["host"]:
        return None
    host = match["host"].lower().rstrip(".")
    path = match["path"] or "/"
    for known, known_path, kind in _BYPASSES:
        if host != known and not (host.startswith("*.") and known.endswith(host[1:])):
            continue
        # CSP path matching: a path ending in '/' is a prefix, any other must be the whole path.
        if path != "/" and not (known_path.startswith(path) if path.endswith("/") else known_path == path):
            continue
        if kind == "jsonp-eval" and not has_eval:
            continue
        return known, "AngularJS" if kind == "angular" else "JSONP endpoints"
    return None


def _check_allowlist_bypass(policy: Policy, out: _Collector) -> None:
    for name, governing, sources in _governed(policy, ("script-src", "script-src-elem")):
        if "'none'" in sources:
            continue
        for source in sources:
            found = _bypass(source, "'unsafe-eval'" in sources)
            if found:
                out.add(
                    "script_allowlist_bypass",
                    "high",
                    governing,
                    f"{_where(name, governing)}: {source} allows {found[0]}, known to host {found[1]} "
                    "that run an attacker's script; use a nonce with 'strict-dynamic' or narrow the path",
                    source,
                )


def _check_connect(policy: Policy, out: _Collector) -> None:
    for name, governing, sources in _governed(policy, ("connect-src",)):
        where = _where(name, governing)
        for source in sources:
            host = HOST_SOURCE.fullmatch(source)
            if source in _NETWORK_SCHEMES or (host and host["host"] == "*"):
                out.add(
                    "connect_src_broad",
                    "medium",
                    governing,
                    f"{where}: {source} lets the page send data to any host; list the hosts it needs",
                    source,
                )
            elif source.startswith("ws://"):
                out.add(
                    "connect_src_insecure",
                    "medium",
                    governing,
                    f"{where}: {source} is an unencrypted WebSocket; use wss://",
                    source,
                )


def _check_values(policy: Policy, out: _Collector) -> None:
    for name, sources in policy.directives.items():
        if name in _SCRIPT_DIRECTIVES:
            sources = _script_view(sources)
        for source in sources:
            if source.startswith("'nonce-") and source.endswith("'") and len(source) > 8:
                if len(source) - len("'nonce-'") < 8:
                    out.add(
                        "nonce_length", "medium", name, f"{name}: nonce {source} is shorter than 8 characters"
                    )
                if not is_nonce(source):
                    out.add("nonce_charset", "info", name, f"{name}: nonce {source} is not base64")
            if source.lower().startswith("http://"):
                text = "send reports over HTTPS" if name == "report-uri" else "allow only HTTPS resources"
                out.add("src_http", "medium", name, f"{name}: {source} is plain http://; {text}", source)
            host = _HOST_OF.match(source)
            if source[:1] != "'" and host and (_IPV4.fullmatch(host[1]) or host[1].startswith("[")):
                text = (
                    "allows localhost: remove it in production"
                    if host[1] == "127.0.0.1"
                    else ("is an IP address (browsers match no IP but 127.0.0.1)")
                )
                out.add("ip_source", "info", name, f"{name}: {source} {text}", source)
        if name in DEPRECATED_DIRECTIVES:
            out.add("deprecated_directive", "info", name, f"{name} is deprecated; browsers may ignore it")


def evaluate(policy: Policy) -> list[Finding]:
    """Every finding about `policy`: its syntax findings, then the security checks."""
    out = _Collector()
    for check in (
        _check_scripts,
        _check_xss_sources,
        _check_missing,
        _check_allowlist_bypass,
        _check_connect,
        _check_values,
    ):
        check(policy, out)
    return [*policy.findings, *out.findings]


def blocking(findings: Iterable[Finding], severities: Collection[str] = BLOCKING_SEVERITIES) -> list[Finding]:
    """The findings whose severity blocks (the local policy file chooses; default high and syntax)."""
    chosen = {severities} if isinstance(severities, str) else set(severities)
    return [f for f in findings if f.severity in chosen]
