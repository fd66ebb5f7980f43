"""What a refused allowed domain is told, word for word, and the limits at their exact edges (issue 25:
each of these is a change to domains.py that test_domains.py let through)."""

from __future__ import annotations

import dataclasses

import pytest

from gcwm.errors import DomainError
from gcwm.policy.domains import DomainCheck, normalize_domain, normalize_domains

HOST_ONLY = "an allowed domain is a host name only, like 'example.com'"
# Labels 63 + 63 + 63 + 55 + "com", with dots: 251 characters; with "*." in front, 253.
NAME_251 = ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * 55, "com"])


def refusal(text: object, **options: bool) -> str:
    with pytest.raises(DomainError) as caught:
        normalize_domain(text, **options)  # type: ignore[arg-type]
    return caught.value.message


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("", "'' is empty; expected a host name like 'example.com' or '*.example.com'"),
        ("user@example.com", f"'user@example.com' has user info before '@'; {HOST_ONLY}"),
        # The password is masked wherever the user info starts: after a scheme, or at the very start.
        (
            "https://user:secret@example.com",
            f"'https://user:***@example.com' has user info before '@'; {HOST_ONLY}",
        ),
        (":secret@example.com", f"':***@example.com' has user info before '@'; {HOST_ONLY}"),
        # `user:pw@` is user info, not the scheme `user:`, even with a path after the host.
        ("user:pw@host/x", f"'user:***@host/x' has a path ('/x'); {HOST_ONLY}"),
        ("example.com/#x", f"'example.com/#x' has a fragment ('#x'); {HOST_ONLY}"),
        ("example.com/?q", f"'example.com/?q' has a query ('?q'); {HOST_ONLY}"),
        ("beef:x", "'beef:x' uses the beef: scheme; only https:// (or no scheme) is allowed"),
        (" a b.com", "' a b.com' contains whitespace (U+0020) at position 3; a host name has none"),
        ("a.*.com", "'a.*.com' has a wildcard in label 2; it is allowed only as the first label"),
        (
            "ex\uff0fample.com",
            "'ex\uff0fample.com' contains '/' (after UTS #46 mapping), which a host name cannot have"
            " (letters, digits, hyphens and dots only)",
        ),
        (
            "ex_ample.com",
            "'ex_ample.com' contains '_', which a host name cannot have (letters, digits, hyphens and dots"
            " only)",
        ),
    ],
)
def test_a_refused_entry_is_told_exactly_why(entry: str, message: str) -> None:
    """The message quotes the entry (password masked) and says what is wrong and what would do."""
    assert refusal(entry) == message


def test_long_parts_are_quoted_cut_short_with_their_length() -> None:
    """A query, what follows ']', and a port are quoted up to 40, 40 and 20 characters."""
    query = "?" + "q" * 60
    assert refusal("example.com" + query) == (
        f"'example.com{query}' has a query ('{query[:40]}'... (61 characters)); {HOST_ONLY}"
    )
    after = "x" * 60
    assert refusal(f"[::1]{after}") == (
        f"'[::1]{after}' has '{after[:40]}'... (60 characters) after ']'; only a port may follow,"
        " like '[2001:db8::1]:8443'"
    )
    port = "9" * 30
    assert refusal(f"example.com:{port}") == (
        f"'example.com:{port}' has port '{port[:20]}'... (30 characters), out of range; a port is from 1 to"
        " 65535"
    )


def test_an_entry_is_measured_before_anything_else_up_to_1024_characters() -> None:
    """1024 characters are looked at (and refused for what they hold); 1025 are refused for length."""
    assert "has a label of 1024 characters" in refusal("a" * 1024)
    assert "is too long (1025 characters); a host name has at most 253" in refusal("a" * 1025)


def test_a_wildcard_name_counts_its_two_leading_characters_up_to_253() -> None:
    """`*.` + 251 characters is 253: allowed; one more is too long."""
    assert normalize_domain("*." + NAME_251) == "*." + NAME_251
    longer = NAME_251.replace("d" * 55, "d" * 56)
    assert "is too long (254 characters in ASCII form); a host name has at most 253" in refusal("*." + longer)


def test_a_bare_link_local_ipv6_address_is_an_address_not_a_scheme() -> None:
    """`fe80:0::1` starts like a scheme `fe80:` but is an IPv6 address: allowed with allow_ip."""
    assert normalize_domain("fe80:0::1", allow_ip=True) == "[fe80::1]"
    assert "is an IP address (fe80::1)" in refusal("fe80:0::1")


def test_normalize_domains_refuses_ip_addresses_unless_asked() -> None:
    """The list form has the same default as the single form: no IP addresses."""
    with pytest.raises(DomainError, match=r"allowedDomains\[1\]: '192.0.2.1' is an IP address"):
        normalize_domains(["example.com", "192.0.2.1"])
    assert normalize_domains(["192.0.2.1"], allow_ip=True) == ["192.0.2.1"]


def test_a_domain_check_cannot_be_changed_once_made() -> None:
    """DomainCheck is a value: what was checked stays as it was checked."""
    check = DomainCheck(input="example.com", normalized="example.com")
    with pytest.raises(dataclasses.FrozenInstanceError):
        check.normalized = "evil.example"  # type: ignore[misc]


def test_an_entry_of_80_characters_is_quoted_whole_and_one_of_81_cut_short() -> None:
    """Messages quote up to 80 characters of the entry."""
    whole = "a" * 75 + ".com!"
    assert refusal(whole).startswith(f"{whole!r} contains '!'")
    longer = "a" * 76 + ".com!"
    assert refusal(longer).startswith(f"{longer[:80]!r}... (81 characters) contains '!'")


@pytest.mark.parametrize(
    ("entry", "shown"),
    [
        ("//user:secret@example.com", "'//user:***@example.com'"),
        (" //u:p@example.com", "' //u:***@example.com'"),
    ],
)
def test_the_password_of_a_scheme_relative_entry_is_masked(entry: str, shown: str) -> None:
    """User info after a leading `//` is user info too."""
    message = refusal(entry)
    assert message == f"{shown} is scheme-relative (starts with //); only https:// (or no scheme) is allowed"
    assert "secret" not in message


def test_hex_before_a_colon_with_another_colon_after_is_read_as_ipv6_not_a_scheme() -> None:
    """`abcd:1:2` is a (bad) IPv6 address, not the scheme `abcd:`."""
    assert refusal("abcd:1:2", allow_ip=True).startswith("'abcd:1:2' is not a valid IPv6 address")


def test_a_query_that_holds_a_hash_is_a_query() -> None:
    """Only `/?` and `/#` lose their slash; `?#x` is a query."""
    assert refusal("example.com?#x") == f"'example.com?#x' has a query ('?#x'); {HOST_ONLY}"


def test_long_fragments_paths_ports_and_labels_are_quoted_cut_short() -> None:
    """40 characters of a fragment, a path or a label holding a wildcard; 20 of a port."""
    fragment, path = "#" + "f" * 60, "/" + "p" * 60
    assert refusal("example.com" + fragment) == (
        f"'example.com{fragment}' has a fragment ('{fragment[:40]}'... (61 characters)); {HOST_ONLY}"
    )
    assert refusal("example.com" + path) == (
        f"'example.com{path}' has a path ('{path[:40]}'... (61 characters)); {HOST_ONLY}"
    )
    port = "x" * 25
    assert refusal(f"example.com:{port}") == (
        f"'example.com:{port}' has a non-numeric port '{port[:20]}'... (25 characters); a port is a number"
        " from 1 to 65535"
    )
    label = "*x" + "y" * 60
    assert refusal(f"{label}.example.com") == (
        f"'{label}.example.com' has a wildcard inside the label '{label[:40]}'... (62 characters); a wildcard"
        " is a whole first label, like '*.example.com'"
    )


@pytest.mark.parametrize("entry", ["*.\u516c\u53f8.cn", "*.xn--55qx5d.cn"])
def test_a_wildcard_over_an_internationalised_public_suffix_is_refused(entry: str) -> None:
    """The public suffix check holds on the IDNA road too: 公司.cn is a suffix, in either form."""
    assert refusal(entry) == (
        f"{entry!r} puts a wildcard directly over the public suffix 'xn--55qx5d.cn' (Public Suffix List),"
        " which would allow every site under it; use one under a registered name, like"
        " '*.example.xn--55qx5d.cn'"
    )
