"""Allowed domains: normalise and check one entry of a web messaging channel's `allowedDomains`.

Genesys adds each entry to its CORS headers and Messenger refuses to load on other pages, so an entry
names sites, nothing else. Accepted: a host name, surrounding whitespace trimmed, optionally

- after `https://` (any case; stripped). Any other scheme (`http://`, `ftp://`, `javascript:`) and a
  scheme-relative `//host` are refused;
- followed by one `/` and nothing else (stripped: a pasted origin `https://example.com/` names the same
  site). Any other path, a query, a fragment and user info (`user@`, `user:pw@`) are refused;
- with a port: `:443` (https's default) is dropped, 1-65535 otherwise kept (`example.com:8443`);
  port 0, a larger one, a non-numeric one or an empty one after `:` are refused;
- with one wildcard label in front, `*.example.com`; `*` anywhere else, or alone, is refused.

The host comes out lower case, without its trailing dot, in ASCII: UTS #46 mapping then IDNA 2008 (the
`idna` package, STD3 rules), also on ASCII input, so an invalid A-label (`xn--zz`) and IDNA's hyphen
rules (`ab--cd.example`, `-a.example`) are refused; then decoded again as a check. Labels are 1-63
octets, the whole host (with any `*.`) at most 253. It must be registrable under the Public Suffix List
(the `publicsuffixlist` package's bundled snapshot; ICANN and private sections): a bare public suffix
(`co.uk`, `github.io`), a wildcard directly over one (`*.co.uk`) and a single label (`localhost`) are
refused. The list's default rule `*` makes an unknown TLD a public suffix, so `example.notatld` is
accepted: a typo in a TLD is not caught.

A host whose last label is a number is an IPv4 address or nothing (the WHATWG URL rule). IPv4 in
dotted-quad form and IPv6 (`[2001:db8::1]`, or bare `::1`) are refused unless `allow_ip`; then they are
kept in canonical form (IPv6 in brackets). Entries longer than 1024 characters are refused unread, and a
password in user info is masked where a message quotes the entry.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import idna
from publicsuffixlist import PublicSuffixList

from gcwm.errors import DomainError

__all__ = ["DomainCheck", "check_domains", "normalize_domain", "normalize_domains"]


@cache
def _psl() -> PublicSuffixList:
    """The Public Suffix List snapshot bundled with the package (never the network), parsed on first
    use rather than at import. It is data that ships with gcwm, not state of an org."""
    return PublicSuffixList()


_MAX_ENTRY = 1024
_MAX_HOST = 253
_MAX_LABEL = 63
_HTTPS_PORT = 443
_MAX_PORT = 65535
_ACCEPTED = "a host name like 'example.com' or '*.example.com'"
_HOST_ONLY = "an allowed domain is a host name only, like 'example.com'"

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*)://")
_BROKEN_SCHEME = re.compile(r"[^/?#\\]*://")
# `name:` not followed by a port (digits up to the end or a path): `javascript:alert(1)`, `data:...`.
_OPAQUE_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+\-]*):(?!:|[0-9]*(?:[/?#\\]|$))")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_END_OF_AUTHORITY = re.compile(r"[/?#\\]")
# WHATWG URL: a host whose last label is decimal or 0x-hex is parsed as an IPv4 address.
_NUMBER = re.compile(r"[0-9]+|0x[0-9a-f]*")
# ASCII other than a-z, 0-9, "-" and "." (STD3 rules, after UTS #46 mapping has lowered case).
_NOT_LDH = re.compile(r"[\x00-\x2c\x2f\x3a-\x60\x7b-\x7f]")


@dataclass(frozen=True)
class DomainCheck:
    """One entry checked: what was given, and either its normalised form or why it was refused."""

    input: str
    normalized: str | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        if (self.normalized is None) == (self.error is None):
            msg = "a DomainCheck has either normalized or error, not both or neither"
            raise ValueError(msg)

    @property
    def is_ok(self) -> bool:
        """True when the entry was accepted."""
        return self.error is None

    def to_dict(self) -> dict[str, str]:
        """`{"input", "normalized"}` or `{"input", "error"}`, as `gcwm domains --output json` prints."""
        if self.error is not None:
            return {"input": self.input, "error": self.error}
        return {"input": self.input, "normalized": self.normalized or ""}


def normalize_domain(text: str, *, allow_ip: bool = False) -> str:
    """The entry in the form Genesys gets it; DomainError (only) says what is wrong and what would do."""
    if not isinstance(text, str):
        msg = f"an entry of type {type(text).__name__} is not a host name; expected {_ACCEPTED}"
        raise DomainError(msg)
    shown = _quote(text)
    entry = text.strip()
    if not entry:
        msg = f"{shown} is empty; expected {_ACCEPTED}"
        raise DomainError(msg)
    if len(entry) > _MAX_ENTRY:
        msg = f"{shown} is too long ({len(entry)} characters); a host name has at most {_MAX_HOST}"
        raise DomainError(msg)
    _check_characters(text, shown)
    authority = _authority(_without_scheme(entry, shown), shown)
    if "@" in authority:
        msg = f"{shown} has user info before '@'; {_HOST_ONLY}"
        raise DomainError(msg)
    host, port_text, is_ipv6 = _host_and_port(authority, shown)
    port = None if port_text is None else _port(port_text, shown)
    suffix = "" if port in (None, _HTTPS_PORT) else f":{port}"
    if is_ipv6:
        return _ip(_ipv6(host, shown), shown, allow_ip) + suffix
    return _host(host, shown, allow_ip) + suffix


def check_domains(entries: Sequence[str], *, allow_ip: bool = False) -> list[DomainCheck]:
    """One DomainCheck per entry, in order, duplicates included."""
    checks = []
    for entry in entries:
        try:
            checks.append(DomainCheck(input=entry, normalized=normalize_domain(entry, allow_ip=allow_ip)))
        except DomainError as exc:
            checks.append(DomainCheck(input=entry, error=exc.message))
    return checks


def normalize_domains(entries: Sequence[str], *, allow_ip: bool = False) -> list[str]:
    """All entries normalised, duplicates dropped after normalising (first kept); names a bad one's index."""
    if isinstance(entries, str):
        msg = f"allowedDomains must be a list of host names, not the single string {_quote(entries)}"
        raise DomainError(msg)
    normalized: dict[str, None] = {}
    for index, entry in enumerate(entries):
        try:
            normalized.setdefault(normalize_domain(entry, allow_ip=allow_ip))
        except DomainError as exc:
            msg = f"allowedDomains[{index}]: {exc.message}"
            raise DomainError(msg) from exc
    return list(normalized)


def _clip(text: str, limit: int = 80) -> str:
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def _quote(text: str) -> str:
    """The entry as messages quote it: repr, cut short, any user-info password masked."""
    lead = len(text) - len(text.lstrip())
    scheme = _SCHEME.match(text, lead)
    start = scheme.end() if scheme else (lead + 2 if text.startswith("//", lead) else lead)
    end_match = _END_OF_AUTHORITY.search(text, start)
    end = end_match.start() if end_match else len(text)
    at = text.rfind("@", start, end)
    colon = text.find(":", start, at) if at >= 0 else -1
    return _clip(text if colon < 0 else f"{text[: colon + 1]}***{text[at:]}")


def _check_characters(text: str, shown: str) -> None:
    stripped = text.strip()
    lead = len(text) - len(text.lstrip())
    for position, char in enumerate(stripped, lead + 1):
        category = unicodedata.category(char)
        if category == "Cs":
            what = "a lone surrogate"
        elif category == "Cc":
            what = "a control character"
        elif category.startswith("Z") or char.isspace():
            what = "whitespace"
        else:
            continue
        msg = f"{shown} contains {what} (U+{ord(char):04X}) at position {position}; a host name has none"
        raise DomainError(msg)


def _without_scheme(entry: str, shown: str) -> str:
    """The entry after an `https://` prefix; any other scheme is refused."""
    if scheme := _SCHEME.match(entry):
        name = scheme.group(1).lower()
        if name == "https":
            return entry[scheme.end() :]
        msg = f"{shown} uses {name}://; only https:// (or no scheme) is allowed"
    elif entry.startswith("//"):
        msg = f"{shown} is scheme-relative (starts with //); only https:// (or no scheme) is allowed"
    elif _BROKEN_SCHEME.match(entry):
        msg = f"{shown} has a malformed scheme before ://; only https:// (or no scheme) is allowed"
    elif (
        (opaque := _OPAQUE_SCHEME.match(entry))
        # `fe80:0::1` is an IPv6 address, not the scheme `fe80:`.
        and not (_HEX.fullmatch(opaque.group(1)) and entry.count(":") > 1)
        # `user:pw@host` is user info, which is refused as such.
        and "@" not in _END_OF_AUTHORITY.split(entry, maxsplit=1)[0]
    ):
        name = opaque.group(1).lower()
        if name == "https":
            msg = f"{shown} has https: without //; write 'https://example.com' or the host alone"
        else:
            msg = f"{shown} uses the {name}: scheme; only https:// (or no scheme) is allowed"
    else:
        return entry
    raise DomainError(msg)


def _authority(rest: str, shown: str) -> str:
    """What precedes any path, query or fragment; only a lone trailing `/` may follow."""
    end = _END_OF_AUTHORITY.search(rest)
    if end is None:
        return rest
    authority, tail = rest[: end.start()], rest[end.start() :]
    if tail == "/":
        return authority
    if tail.startswith("/") and tail[1:2] in ("?", "#"):
        tail = tail[1:]
    if tail.startswith("?"):
        msg = f"{shown} has a query ({_clip(tail, 40)}); {_HOST_ONLY}"
    elif tail.startswith("#"):
        msg = f"{shown} has a fragment ({_clip(tail, 40)}); {_HOST_ONLY}"
    else:
        msg = f"{shown} has a path ({_clip(tail, 40)}); {_HOST_ONLY}"
    raise DomainError(msg)


def _host_and_port(authority: str, shown: str) -> tuple[str, str | None, bool]:
    """(host, port text or None when there is no `:`, whether the host is an IPv6 address)."""
    if authority.startswith("["):
        close = authority.find("]")
        if close < 0:
            msg = f"{shown} has '[' without ']'; an IPv6 address is written like '[2001:db8::1]'"
            raise DomainError(msg)
        after = authority[close + 1 :]
        if after and not after.startswith(":"):
            msg = (
                f"{shown} has {_clip(after, 40)} after ']'; only a port may follow, like '[2001:db8::1]:8443'"
            )
            raise DomainError(msg)
        return authority[1:close], after[1:] if after else None, True
    if "[" in authority or "]" in authority:
        msg = f"{shown} has a bracket outside an IPv6 address like '[2001:db8::1]'; {_HOST_ONLY}"
        raise DomainError(msg)
    if authority.count(":") > 1:
        if any(c not in "0123456789abcdefABCDEF:." for c in authority.partition("%")[0]):
            msg = f"{shown} has more than one ':'; a port is written once, like 'example.com:8443'"
            raise DomainError(msg)
        return authority, None, True
    host, colon, port = authority.partition(":")
    return host, port if colon else None, False


def _port(text: str, shown: str) -> int:
    if not text:
        msg = f"{shown} has an empty port after ':'; write a port from 1 to {_MAX_PORT}, or none"
        raise DomainError(msg)
    if not (text.isascii() and text.isdigit()):
        msg = f"{shown} has a non-numeric port {_clip(text, 20)}; a port is a number from 1 to {_MAX_PORT}"
        raise DomainError(msg)
    digits = text.lstrip("0")
    # int() of a huge digit string is refused by Python itself, so the length is checked first.
    if len(digits) > len(str(_MAX_PORT)) or int(digits or "0") > _MAX_PORT:
        msg = f"{shown} has port {_clip(text, 20)}, out of range; a port is from 1 to {_MAX_PORT}"
        raise DomainError(msg)
    if not digits:
        msg = f"{shown} has port 0, which no site is served on; a port is from 1 to {_MAX_PORT}"
        raise DomainError(msg)
    return int(digits)


def _ipv6(text: str, shown: str) -> ipaddress.IPv6Address:
    if "%" in text:
        msg = f"{shown} has an IPv6 zone id ('%...'); browsers do not accept one in a URL"
        raise DomainError(msg)
    try:
        return ipaddress.IPv6Address(text)
    except ValueError as exc:
        msg = f"{shown} is not a valid IPv6 address (like '[2001:db8::1]'): {exc}"
        raise DomainError(msg) from exc


def _ip(address: ipaddress.IPv4Address | ipaddress.IPv6Address, shown: str, allow_ip: bool) -> str:
    if not allow_ip:
        msg = f"{shown} is an IP address ({address}); IP addresses are refused unless explicitly allowed"
        raise DomainError(msg)
    return f"[{address}]" if address.version == 6 else str(address)


def _host(host: str, shown: str, allow_ip: bool) -> str:
    """The host name checked (wildcard, IP, characters, lengths, IDNA, PSL) and in ASCII form."""
    try:
        # UTS #46 maps ASCII to lower case and nothing else (STD3 rules are applied below).
        mapped = host.lower() if host.isascii() else idna.uts46_remap(host, std3_rules=False)
    except ValueError as exc:
        msg = f"{shown} is not a valid host name under IDNA 2008 / UTS #46: {exc}"
        raise DomainError(msg) from exc
    mapped = mapped.removesuffix(".")
    if not mapped:
        msg = f"{shown} has no host name; expected {_ACCEPTED}"
        raise DomainError(msg)
    labels = mapped.split(".")
    wildcard = labels[0] == "*"
    _check_wildcard(labels, shown)
    if "" in labels:
        msg = f"{shown} has an empty label (a leading dot or two dots in a row); expected {_ACCEPTED}"
        raise DomainError(msg)
    if wildcard:
        labels = labels[1:]
    if not labels:
        msg = f"{shown} is a lone wildcard '*', which would allow every site; use one like '*.example.com'"
        raise DomainError(msg)
    name = ".".join(labels)
    if _NUMBER.fullmatch(labels[-1]):
        return _ip(_ipv4(name, shown, wildcard), shown, allow_ip)
    if bad := _NOT_LDH.search(name):
        char = bad.group()
        mapped_from = "" if char in host.lower() else " (after UTS #46 mapping)"
        msg = (
            f"{shown} contains {char!r}{mapped_from}, which a host name cannot have "
            "(letters, digits, hyphens and dots only)"
        )
        raise DomainError(msg)
    _check_lengths(labels, wildcard, shown)
    if all(_is_plain_label(label) for label in labels):
        _check_public_suffix(name, wildcard, shown)
        return f"*.{name}" if wildcard else name
    try:
        ascii_name = idna.encode(name, uts46=True, std3_rules=True).decode("ascii")
        idna.decode(ascii_name)
    except ValueError as exc:  # IDNAError is a UnicodeError, a ValueError; so is what unicodedata raises
        msg = f"{shown} is not a valid host name under IDNA 2008 / UTS #46: {exc}"
        raise DomainError(msg) from exc
    _check_public_suffix(ascii_name, wildcard, shown)
    return f"*.{ascii_name}" if wildcard else ascii_name


def _is_plain_label(label: str) -> bool:
    """An LDH label that IDNA 2008 leaves as it is: ASCII, no Punycode, no hyphen at either end or in
    the third and fourth places. Such names skip the `idna` package's encode and decode (the hot path
    of every submission); anything else goes through them, for their checks and messages."""
    return label.isascii() and label[:1] != "-" and label[-1:] != "-" and label[2:4] != "--"


def _check_wildcard(labels: list[str], shown: str) -> None:
    for index, label in enumerate(labels):
        if "*" not in label:
            continue
        if label != "*":
            msg = (
                f"{shown} has a wildcard inside the label {_clip(label, 40)}; "
                "a wildcard is a whole first label, like '*.example.com'"
            )
        elif index == 0:
            continue
        elif labels[0] == "*":
            msg = f"{shown} has more than one wildcard label; only one leading '*.' is allowed"
        else:
            msg = f"{shown} has a wildcard in label {index + 1}; it is allowed only as the first label"
        raise DomainError(msg)


def _ipv4(name: str, shown: str, wildcard: bool) -> ipaddress.IPv4Address:
    try:
        address = ipaddress.IPv4Address(name)
    except ValueError as exc:
        msg = (
            f"{shown} ends in a number, so browsers read it as an IPv4 address, but it is not one "
            f"written like '192.0.2.1': {exc}"
        )
        raise DomainError(msg) from exc
    if wildcard:
        msg = f"{shown} puts a wildcard over the IP address {address}; a wildcard needs a host name"
        raise DomainError(msg)
    return address


def _check_lengths(labels: list[str], wildcard: bool, shown: str) -> None:
    # Limits count octets of the ASCII (A-label) form, which for a U-label is its Punycode plus `xn--`.
    lengths = [len(label) if label.isascii() else 4 + len(label.encode("punycode")) for label in labels]
    for length in lengths:
        if length > _MAX_LABEL:
            msg = (
                f"{shown} has a label of {length} characters in ASCII form; a label has at most {_MAX_LABEL}"
            )
            raise DomainError(msg)
    total = sum(lengths) + len(lengths) - 1 + (2 if wildcard else 0)
    if total > _MAX_HOST:
        msg = f"{shown} is too long ({total} characters in ASCII form); a host name has at most {_MAX_HOST}"
        raise DomainError(msg)


def _check_public_suffix(name: str, wildcard: bool, shown: str) -> None:
    known_suffix = _psl().is_public(name, accept_unknown=False)
    if "." not in name and not known_suffix:
        msg = (
            f"{shown} names {name!r}, a single label, not a registrable host name; "
            "use a full name like 'example.com'"
        )
    elif _psl().is_public(name) and wildcard:
        msg = (
            f"{shown} puts a wildcard directly over the public suffix {name!r} (Public Suffix List), "
            f"which would allow every site under it; use one under a registered name, like '*.example.{name}'"
        )
    elif _psl().is_public(name):
        msg = (
            f"{shown} is a public suffix (Public Suffix List), not a site; "
            f"use a name registered under it, like 'example.{name}'"
        )
    else:
        return
    raise DomainError(msg)
