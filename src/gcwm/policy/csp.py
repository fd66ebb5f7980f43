"""Content-Security-Policy model: parse one serialized policy (CSP Level 3), serialize it, merge sources.

A `Policy` is an ordered mapping directive -> sources, plus what parsing found. Fetch directives fall
back along CSP3's directive fallback list (`script-src-elem` -> `script-src` -> `default-src`,
`frame-src` -> `child-src` -> `default-src`, ...): an absent directive is governed by the first
present one of its list, and by nothing (everything allowed) when none is present. `merge` keeps that
meaning: a directive it creates starts from the sources that governed it, so adding a host never
drops what the site allowed before.

Choices:
- Parsing never fails on text: problems become findings of severity "syntax". `CspError` is raised
  only for a value that is not `str`, or holds a character a header value cannot carry (a control
  character other than tab, or any non-ASCII character: IDN hosts must be written in Punycode).
- Only the first policy of a comma-separated list is read (the others are a "syntax" finding).
- The first of duplicate directives wins (CSP3 "parse a serialized CSP"); the rest are findings.
- Directive names, keywords, schemes and the scheme and host of host-sources are lower-cased; paths,
  nonce and hash values are kept. A source repeated in one directive is kept once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from types import MappingProxyType

from gcwm.errors import CspError, Finding

__all__ = [
    "DEPRECATED_DIRECTIVES",
    "FETCH_FALLBACKS",
    "HOST_SOURCE",
    "KNOWN_DIRECTIVES",
    "NONCE_PLACEHOLDER",
    "SCHEME_SOURCE",
    "Policy",
    "is_hash",
    "is_nonce",
    "merge",
    "parse",
    "strict_base",
]

# In a policy gcwm proposes, the site puts a fresh nonce here in every response (CSP3: unique per
# response, at least 128 bits), on the header and on the snippet's <script>.
NONCE_PLACEHOLDER = "REPLACE_WITH_A_FRESH_NONCE_PER_RESPONSE"

# CSP3 "directive fallback list" (w3c/webappsec-csp index.bs, "Get the effective directive ...").
FETCH_FALLBACKS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "default-src": ("default-src",),
        "child-src": ("child-src", "default-src"),
        "connect-src": ("connect-src", "default-src"),
        "font-src": ("font-src", "default-src"),
        "frame-src": ("frame-src", "child-src", "default-src"),
        "img-src": ("img-src", "default-src"),
        "manifest-src": ("manifest-src", "default-src"),
        "media-src": ("media-src", "default-src"),
        "object-src": ("object-src", "default-src"),
        "prefetch-src": ("prefetch-src", "default-src"),
        "script-src": ("script-src", "default-src"),
        "script-src-elem": ("script-src-elem", "script-src", "default-src"),
        "script-src-attr": ("script-src-attr", "script-src", "default-src"),
        "style-src": ("style-src", "default-src"),
        "style-src-elem": ("style-src-elem", "style-src", "default-src"),
        "style-src-attr": ("style-src-attr", "style-src", "default-src"),
        "worker-src": ("worker-src", "child-src", "script-src", "default-src"),
    }
)
# reflected-xss, referrer, disown-opener, prefetch-src: google/csp-evaluator checkDeprecatedDirective.
# plugin-types, navigate-to, require-sri-for: known to that evaluator, absent from CSP3's directive list
# (research notes 4.2). verify: https://w3c.github.io/webappsec-csp/#changes-from-level-2
DEPRECATED_DIRECTIVES = frozenset(
    (
        "reflected-xss",
        "referrer",
        "disown-opener",
        "prefetch-src",
        "plugin-types",
        "navigate-to",
        "require-sri-for",
    )
)
_SOURCE_LIST_DIRECTIVES = frozenset(
    (*FETCH_FALLBACKS, "base-uri", "form-action", "frame-ancestors", "navigate-to")
)
KNOWN_DIRECTIVES = (
    _SOURCE_LIST_DIRECTIVES
    | {"sandbox", "report-uri", "report-to", "webrtc", "require-trusted-types-for", "trusted-types"}
    | {"upgrade-insecure-requests", "block-all-mixed-content"}
    | DEPRECATED_DIRECTIVES
)

# CSP3 keyword-source (w3c/webappsec-csp index.bs), plus Chrome's 'inline-speculation-rules'.
_SOURCE_KEYWORDS = frozenset(
    f"'{k}'"
    for k in (
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
    )
)
# Directives whose quoted values are not source keywords (Trusted Types, webrtc).
_QUOTED_VALUES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "require-trusted-types-for": frozenset({"'script'"}),
        "trusted-types": frozenset({"'none'", "'allow-duplicates'"}),
        "webrtc": frozenset({"'allow'", "'block'"}),
    }
)
_ALL_QUOTED = _SOURCE_KEYWORDS.union(*_QUOTED_VALUES.values())

_BASE64 = r"[A-Za-z0-9+/_-]+={0,2}"
_NONCE = re.compile(rf"'nonce-{_BASE64}'")
_HASH = re.compile(rf"'(?:sha256|sha384|sha512)-{_BASE64}'")
_QUOTED_PREFIX = re.compile(r"'(nonce|sha256|sha384|sha512)-", re.IGNORECASE)
_UNQUOTED_PREFIX = re.compile(r"(nonce|sha256|sha384|sha512)-", re.IGNORECASE)
SCHEME_SOURCE = re.compile(r"[a-z][a-z0-9+.-]*:", re.IGNORECASE)
HOST_SOURCE = re.compile(
    r"(?:(?P<scheme>[a-z][a-z0-9+.-]*)://)?"
    r"(?P<host>\*|(?:\*\.)?[a-z0-9-]+(?:\.[a-z0-9-]+)*\.?)"
    r"(?::(?P<port>[0-9]+|\*))?"
    r"(?P<path>/[^;,]*)?",
    re.IGNORECASE,
)
_WS = re.compile(r"[ \t]+")
_NOT_A_TOKEN = re.compile(r"[^!-~]|[;,]")


def is_nonce(source: str) -> bool:
    """True for a well-formed `'nonce-<base64>'` source."""
    return _NONCE.fullmatch(source) is not None


def is_hash(source: str) -> bool:
    """True for a well-formed `'sha256|384|512-<base64>'` source."""
    return _HASH.fullmatch(source) is not None


def _normalize(directive: str, source: str) -> str:
    lower = source.lower()
    if lower in _ALL_QUOTED:
        return lower
    prefix = _QUOTED_PREFIX.match(source)
    if prefix:
        return prefix.group(0).lower() + source[prefix.end() :]
    if directive not in _SOURCE_LIST_DIRECTIVES:
        return source
    if SCHEME_SOURCE.fullmatch(source):
        return lower
    host = HOST_SOURCE.fullmatch(source)
    if host is None:
        return source
    scheme = f"{host['scheme'].lower()}://" if host["scheme"] else ""
    port = f":{host['port']}" if host["port"] else ""
    return f"{scheme}{host['host'].lower()}{port}{host['path'] or ''}"


def _token(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or _NOT_A_TOKEN.search(value):
        raise CspError(
            f"{what} {value!r} cannot be written in a Content-Security-Policy: expected one printable "
            "ASCII word without spaces, ';' or ','"
        )
    return value


@dataclass(frozen=True)
class Policy:
    """One CSP policy: directives in order (lower-cased name -> normalised sources) and parse findings.

    `parse_findings` are what only the text showed (duplicate directives, a policy list);
    `findings` adds the syntax findings of the directives themselves."""

    directives: Mapping[str, tuple[str, ...]]
    parse_findings: tuple[Finding, ...] = field(default=(), compare=False)

    def __post_init__(self) -> None:
        clean: dict[str, tuple[str, ...]] = {}
        for raw_name, sources in self.directives.items():
            name = _token(raw_name, "directive name").lower()
            if isinstance(sources, str):
                raise CspError(f"sources of {name} must be a sequence of sources, not the string {sources!r}")
            kept: list[str] = []
            for source in sources:
                value = _normalize(name, _token(source, f"source of {name}"))
                if value not in kept:
                    kept.append(value)
            clean.setdefault(name, tuple(kept))
        object.__setattr__(self, "directives", MappingProxyType(clean))
        object.__setattr__(self, "parse_findings", tuple(self.parse_findings))

    def __hash__(self) -> int:
        return hash(frozenset(self.directives.items()))

    def serialize(self) -> str:
        """The canonical header value: `directive src src; directive2 src`."""
        return "; ".join(" ".join((name, *sources)) for name, sources in self.directives.items())

    def effective_directive(self, name: str) -> str | None:
        """The present directive that governs `name` (CSP3 fallback), or None when nothing restricts it."""
        return next((d for d in FETCH_FALLBACKS.get(name, (name,)) if d in self.directives), None)

    @cached_property
    def findings(self) -> tuple[Finding, ...]:
        """Every syntax finding: the parse findings, then those of the directives."""
        return self.parse_findings + tuple(_syntax_findings(self.directives))


def _syntax(check: str, location: str, description: str) -> Finding:
    return Finding(check=check, severity="syntax", location=location, description=description)


def _syntax_findings(directives: Mapping[str, tuple[str, ...]]) -> Iterable[Finding]:
    for name, sources in directives.items():
        if name not in KNOWN_DIRECTIVES:
            hint = "directive names do not end with ':'" if name.endswith(":") else "not a known directive"
            yield _syntax("unknown_directive", name, f"{name!r}: {hint}; browsers ignore it")
        is_source_list = name in _SOURCE_LIST_DIRECTIVES
        quoted = _SOURCE_KEYWORDS if is_source_list else _QUOTED_VALUES.get(name, frozenset())
        for source in sources:
            yield from _source_findings(name, source, is_source_list, quoted)
        if is_source_list and "'none'" in sources and len(sources) > 1:
            yield _syntax(
                "none_with_sources",
                name,
                f"{name}: 'none' must stand alone; with other sources browsers ignore it",
            )


def _source_findings(
    name: str, source: str, is_source_list: bool, quoted: frozenset[str]
) -> Iterable[Finding]:
    if source.lower() in KNOWN_DIRECTIVES:
        yield _syntax(
            "missing_semicolon",
            name,
            f"{name}: {source!r} is a directive, not a source: did you forget a ';' before it?",
        )
    elif f"'{source}'" in quoted or (is_source_list and _UNQUOTED_PREFIX.match(source)):
        yield _syntax("invalid_keyword", name, f"{name}: {source} must be in single quotes: '{source}'")
    elif source.startswith("'"):
        valid = source in quoted or (is_source_list and (is_nonce(source) or is_hash(source)))
        if not valid and name not in DEPRECATED_DIRECTIVES:
            accepted = (
                "a keyword such as 'self', 'none', 'strict-dynamic', or 'nonce-<base64>', 'sha256-<base64>'"
                if is_source_list
                else " or ".join(sorted(quoted)) or "no quoted value"
            )
            yield _syntax(
                "invalid_keyword", name, f"{name}: {source} is not valid here (accepted: {accepted})"
            )
    elif is_source_list and not (SCHEME_SOURCE.fullmatch(source) or HOST_SOURCE.fullmatch(source)):
        yield _syntax(
            "invalid_source",
            name,
            f"{name}: {source!r} is not a source expression (scheme 'https:', host "
            "'https://*.example.com:443/path', or a quoted keyword); browsers ignore it",
        )


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise CspError(f"a Content-Security-Policy must be text, not {type(text).__name__}")
    for at, char in enumerate(text):
        if not (" " <= char <= "~" or char == "\t"):
            raise CspError(
                f"Content-Security-Policy: character {char!r} at position {at} cannot be carried by a header "
                "(printable ASCII, spaces and tabs only; write IDN hosts in Punycode, join lines with spaces)"
            )
    return text


def parse(text: str) -> Policy:
    """Read one serialized policy (a header value); problems are findings, never exceptions.

    Raises CspError only for a value that is not text or holds a character a header cannot carry."""
    found: list[Finding] = []
    policies = [p for p in _check_text(text).split(",") if p.strip(" \t")]
    if len(policies) > 1:
        found.append(
            _syntax(
                "policy_list",
                "",
                f"the value holds {len(policies)} policies separated by ','; only the first is read "
                "(browsers enforce each one: check them one by one)",
            )
        )
    directives: dict[str, tuple[str, ...]] = {}
    for token in policies[0].split(";") if policies else ():
        words = _WS.split(token.strip(" \t"))
        if not words[0]:
            continue
        name = words[0].lower()
        if name in directives:
            found.append(
                _syntax(
                    "duplicate_directive",
                    name,
                    f"{name} appears more than once; browsers use the first and ignore "
                    f"{' '.join(words[1:]) or 'the empty one'}",
                )
            )
            continue
        directives[name] = tuple(words[1:])
    return Policy(directives, tuple(found))


def merge(policy: Policy, needs: Mapping[str, Sequence[str]], *, create_absent: bool = True) -> Policy:
    """Add the given sources to the given directives, keeping everything the policy already has.

    A directive that is absent starts from the sources of the directive that governed it (CSP3
    fallback: `default-src` for most), so the site keeps what it allowed. `'none'` gives way to the
    first source added (with other sources it is invalid and ignored). An absent directive that
    nothing governed allowed everything: creating it restricts its kind to the given sources, which a
    new policy wants but may break a site's other loads; `create_absent=False` leaves it absent.
    The parse findings are kept. Raises CspError for a name or source that cannot be one CSP word."""
    directives = {name: list(sources) for name, sources in policy.directives.items()}
    for raw_name, sources in needs.items():
        name = _token(raw_name, "directive name").lower()
        if isinstance(sources, str):
            raise CspError(f"sources of {name} must be a sequence of sources, not the string {sources!r}")
        if name not in directives:
            governing = policy.effective_directive(name)
            if governing is None and not create_absent:
                continue
            directives[name] = list(policy.directives[governing]) if governing else []
        current = directives[name]
        for raw_source in sources:
            source = _normalize(name, _token(raw_source, f"source of {name}"))
            if source in current:
                continue
            if current == ["'none'"]:
                current.clear()
            current.append(source)
    return Policy({name: tuple(sources) for name, sources in directives.items()}, policy.parse_findings)


def strict_base(nonce: str) -> Policy:
    """The start of a strict policy: a nonce with 'strict-dynamic', fallbacks for older browsers.

    Raises CspError unless `nonce` is base64 of at least 128 bits (22 characters; CSP3 asks for
    128 bits from a CSPRNG, fresh for every response): `secrets.token_urlsafe(16)` gives one."""
    if not isinstance(nonce, str) or not re.fullmatch(_BASE64, nonce) or len(nonce.rstrip("=")) < 22:
        raise CspError(f"nonce {nonce!r} must be base64 or base64url of at least 128 bits (22 characters)")
    return Policy(
        {
            # https: and 'unsafe-inline' are ignored by CSP3 browsers ('strict-dynamic', nonce);
            # they keep the page working in browsers that predate them.
            "script-src": (f"'nonce-{nonce}'", "'strict-dynamic'", "https:", "'unsafe-inline'"),
            "object-src": ("'none'",),
            "base-uri": ("'none'",),
            "frame-ancestors": ("'self'",),
        }
    )
