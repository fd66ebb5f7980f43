"""The preview page: the snippet under the given CSP, a fresh nonce per response, no inline script of
its own, and the violations the browser reports (report-uri and report-to) collected and listed."""

from __future__ import annotations

import json
import re

import httpx
import pytest

from gcwm.errors import CspError
from gcwm.preview import (
    NONCE_PLACEHOLDER,
    REPORTS_PATH,
    Violation,
    may_connect_to,
    preview_app,
    read_reports,
    reporting_policies,
)

SNIPPET = '<script type="text/javascript" charset="utf-8">\n  window.loaded = 1;\n</script>'
POLICY = f"script-src 'nonce-{NONCE_PLACEHOLDER}' 'strict-dynamic'; object-src 'none'"
REPORT_URI_BODY = {
    "csp-report": {
        "document-uri": "http://127.0.0.1:8765/",
        "violated-directive": "script-src-elem",
        "effective-directive": "script-src-elem",
        "blocked-uri": "inline",
        "source-file": "http://127.0.0.1:8765/",
        "line-number": 31,
        "column-number": 1,
        "disposition": "enforce",
    }
}
REPORT_TO_BODY = [
    {
        "type": "csp-violation",
        "url": "http://127.0.0.1:8765/",
        "body": {
            "effectiveDirective": "script-src-elem",
            "blockedURL": "inline",
            "sourceFile": "http://127.0.0.1:8765/",
            "lineNumber": 31,
            "columnNumber": 1,
            "disposition": "report",
        },
    },
    {"type": "deprecation", "body": {"id": "x"}},
]


def _client(app: object) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://preview.test")


async def _get(snippet: str, csp: str) -> httpx.Response:
    async with _client(preview_app(snippet, csp)) as client:
        return await client.get("/")


async def test_every_answer_has_a_fresh_nonce_in_header_and_scripts() -> None:
    """The placeholder becomes a new 128-bit nonce per answer, the same in the header and on every script."""
    nonces = []
    for _ in range(2):
        page = await _get(SNIPPET, POLICY)
        header = page.headers["content-security-policy"]
        assert NONCE_PLACEHOLDER not in header and NONCE_PLACEHOLDER not in page.text
        match = re.fullmatch(
            r"script-src 'nonce-([A-Za-z0-9_-]{22})' 'strict-dynamic'; object-src 'none';"
            r" report-uri /csp-reports",
            header,
        )
        assert match, header
        nonce = match[1]
        assert len(re.findall(r"<script\b", page.text)) == 2  # the page's own script and the snippet
        assert page.text.count(f'<script nonce="{nonce}"') == 2
        assert f'<script nonce="{nonce}" src="/preview.js"></script>' in page.text
        assert f'<script nonce="{nonce}" type="text/javascript" charset="utf-8">' in page.text
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


async def test_the_page_has_no_inline_script_of_its_own_and_serves_its_script_from_its_origin() -> None:
    """The listing script is /preview.js (a policy allowing 'self' or the nonce runs it); the page
    says, until that script runs, that it is blocked."""
    async with _client(preview_app(SNIPPET, POLICY)) as client:
        page = await client.get("/")
        script = await client.get("/preview.js")
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    assert '<ul id="csp-violations" data-count="0"></ul>' in page.text
    assert 'id="page-script" data-state="blocked"' in page.text
    assert "<li><code>object-src &#x27;none&#x27;</code></li>" in page.text
    assert "securitypolicyviolation" not in page.text
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["x-content-type-options"] == "nosniff"
    assert 'addEventListener("securitypolicyviolation"' in script.text


async def test_a_sites_own_policy_is_served_with_the_previews_reporting_instead_of_its_own() -> None:
    """A policy without the placeholder goes out as it is, but for report-uri (the preview's), and a
    Report-Only copy reports by report-to to the endpoint Reporting-Endpoints names."""
    kept = "script-src 'self' 'unsafe-inline'; connect-src 'self'"
    own = f"{kept}; report-uri https://csp.example/r; report-to site"
    page = await _get(SNIPPET, own)
    assert page.headers["content-security-policy"] == f"{kept}; report-uri {REPORTS_PATH}"
    assert page.headers["content-security-policy-report-only"] == f"{kept}; report-to gcwm-preview"
    assert page.headers["reporting-endpoints"] == f'gcwm-preview="http://preview.test{REPORTS_PATH}"'
    assert '<script nonce="' in page.text
    assert 'data-poll="true"' in page.text  # connect-src 'self': the page may poll its server


def test_the_report_only_copy_leaves_out_what_report_only_policies_ignore() -> None:
    """frame-ancestors and sandbox are enforced but not copied (browsers warn about them there); each
    policy of a list gets its reporting."""
    enforced, copy = reporting_policies("default-src 'self'; frame-ancestors 'none', img-src 'none'; sandbox")
    assert enforced == (
        "default-src 'self'; frame-ancestors 'none'; report-uri /csp-reports, "
        "img-src 'none'; sandbox; report-uri /csp-reports"
    )
    assert copy == "default-src 'self'; report-to gcwm-preview, img-src 'none'; report-to gcwm-preview"


@pytest.mark.parametrize(
    ("policy", "polls"),
    [
        ("default-src 'self'; script-src 'self'", True),
        ("script-src 'nonce-abc'; object-src 'none'", True),
        ("connect-src http://127.0.0.1:8765", True),
        ("connect-src https://api.mypurecloud.com", False),
        ("default-src 'none'", False),
        ("connect-src 'self', connect-src https://api.mypurecloud.com", False),
    ],
)
def test_the_page_polls_its_server_only_where_connect_src_lets_it(policy: str, polls: bool) -> None:
    """A poll the policy blocks would itself be a violation: the page then lists its own events."""
    assert may_connect_to(policy, "http://127.0.0.1:8765") is polls


def test_both_report_formats_are_read_and_other_bodies_hold_none() -> None:
    """report-uri's csp-report and the Reporting API's csp-violation give the same violation; other
    report types, and bodies that are not reports, give none; control characters are replaced."""
    expected = Violation("script-src-elem", "inline", "http://127.0.0.1:8765/:31:1")
    assert read_reports(json.dumps(REPORT_URI_BODY).encode()) == [(expected, "report-uri")]
    assert read_reports(json.dumps(REPORT_TO_BODY).encode()) == [(expected, "report-to")]
    assert read_reports(b"not json") == []
    assert read_reports(b'{"csp": 1}') == []
    sneaky = {"csp-report": {"effective-directive": "img-src", "blocked-uri": "http://x/\x1b[2J\u202e"}}
    [(violation, _)] = read_reports(json.dumps(sneaky).encode())
    assert violation.blocked == "http://x/?[2J?"


async def test_reports_are_collected_once_per_violation_and_listed_with_their_routes() -> None:
    """The same violation by report-uri and report-to is one entry (count 2, both routes); the
    callback hears it once; the page and GET /csp-reports list it; an oversized body is 413."""
    heard: list[tuple[Violation, str]] = []
    app = preview_app(SNIPPET, POLICY, on_violation=lambda v, via: heard.append((v, via)))
    headers = {"content-type": "application/csp-report"}
    async with _client(app) as client:
        first = await client.post(REPORTS_PATH, content=json.dumps(REPORT_URI_BODY), headers=headers)
        second = await client.post(
            REPORTS_PATH, json=REPORT_TO_BODY, headers={"content-type": "application/reports+json"}
        )
        huge = await client.post(REPORTS_PATH, content=b"[" + b" " * (70 * 1024) + b"]", headers=headers)
        listed = (await client.get(REPORTS_PATH)).json()
        page = await client.get("/")
    assert (first.status_code, second.status_code, huge.status_code) == (204, 204, 413)
    assert heard == [(Violation("script-src-elem", "inline", "http://127.0.0.1:8765/:31:1"), "report-uri")]
    assert listed == {
        "violations": [
            {
                "directive": "script-src-elem",
                "blocked": "inline",
                "source": "http://127.0.0.1:8765/:31:1",
                "sample": "",
                "count": 2,
                "via": ["report-uri", "report-to"],
            }
        ],
        "reports": 2,
    }
    assert '<ul id="csp-violations" data-count="1"><li data-directive="script-src-elem"' in page.text
    assert 'data-via="report-uri report-to"' in page.text
    assert '<p id="csp-violations-none" hidden>' in page.text


def test_policy_that_cannot_be_a_header_is_refused_up_front() -> None:
    """A line break in the policy is a CspError when the app is made, not a broken header later."""
    with pytest.raises(CspError):
        preview_app(SNIPPET, "script-src 'self';\nobject-src 'none'")
