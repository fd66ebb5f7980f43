"""Messenger preview: a local page that embeds a deployment's snippet under a given CSP, served by
uvicorn, so a real browser shows whether the policy lets Messenger load, and what it blocked.

Entry-point side (the `gcwm preview` command uses it): may import gcwm.errors and gcwm.policy, never
gcwm.provisioning. No I/O at import.

Every answer of `GET /` gets a fresh nonce (`secrets.token_urlsafe(16)`, 128 bits, as CSP3 asks):
it replaces `NONCE_PLACEHOLDER` in the policy's header value and is set on the snippet's `<script>`
tags and on the page's own script. A policy without the placeholder is served as it is (to try a
site's own policy), but for where its reports go.

Violations are collected by the browser's own reporting, which needs no script on the page (an
inline reporter is blocked by the very policies that break Messenger, issue 24 item 11):
- the policy goes out with `report-uri /csp-reports`;
- the same policy goes out as `Content-Security-Policy-Report-Only` with `report-to gcwm-preview`,
  named by a `Reporting-Endpoints` header. A browser that honours `report-to` ignores `report-uri` in
  the same policy, so each has its own copy; the copy enforces nothing and drops the directives a
  report-only policy ignores (and warns about). Chromium 156 sent no `report-to` report from this
  http://127.0.0.1 page in our tests (it never took the endpoint), so its reports come by `report-uri`.
The policy's own `report-uri` and `report-to` are replaced: a local preview reports to itself.

`POST /csp-reports` takes both formats (`application/csp-report`, `application/reports+json`);
each distinct violation is handed to `on_violation` the first time it arrives (`gcwm preview` prints
it on stderr) and counted after. `GET /csp-reports` lists them. The page lists them too: as served,
then, if its own script (`/preview.js`, same origin, with the nonce) may run, live: polling
`/csp-reports` when the policy lets it connect to its own origin, else from the page's
`securitypolicyviolation` events. Its text says which, and says so when its script is blocked.
"""

from __future__ import annotations

import asyncio
import html
import json
import re
import secrets
import socket
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gcwm.errors import ConfigError
from gcwm.policy.csp import NONCE_PLACEHOLDER, parse
from gcwm.policy.csp_allows import allows

__all__ = [
    "NONCE_PLACEHOLDER",
    "REPORTS_PATH",
    "Violation",
    "ViolationLog",
    "may_connect_to",
    "preview_app",
    "print_violation",
    "read_reports",
    "reporting_policies",
    "serve_preview",
    "serve_preview_async",
]

REPORTS_PATH = "/csp-reports"
SCRIPT_PATH = "/preview.js"
REPORTING_GROUP = "gcwm-preview"
#: A report body larger than this is refused (413): a browser's is a few KB.
MAX_REPORT_BYTES = 64 * 1024
#: Distinct violations kept; past this they are counted, not listed (any local page may post here).
MAX_VIOLATIONS = 200
_MAX_FIELD = 500

_SCRIPT_TAG = re.compile(r"<script\b", re.IGNORECASE)
# Control and format characters: a blocked URL is the page's to choose, and goes to a terminal.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")
_OWN_REPORTING = ("report-uri", "report-to")
# What a report-only policy ignores, and Chromium warns about on the console (CSP3, 6.1 and 6.3).
_NOT_REPORT_ONLY = ("frame-ancestors", "sandbox", "upgrade-insecure-requests", "block-all-mixed-content")


@dataclass(frozen=True)
class Violation:
    """One violation as a browser reported it: directive, what was blocked, where (`file:line:col`)."""

    directive: str
    blocked: str
    source: str = ""
    sample: str = ""

    def describe(self) -> str:
        """`connect-src blocked ws://... at http://.../messenger-ui.js:95:19`."""
        where = f" at {self.source}" if self.source else ""
        return f"{self.directive} blocked {self.blocked or '(unknown)'}{where}"


@dataclass
class _Seen:
    violation: Violation
    count: int = 0
    via: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        v = self.violation
        return {
            "directive": v.directive,
            "blocked": v.blocked,
            "source": v.source,
            "sample": v.sample,
            "count": self.count,
            "via": self.via,
        }


class ViolationLog:
    """The violations the browser reported to a preview server, each distinct one once, in order of
    arrival, with how many times and by which route (`report-uri`, `report-to`) it came."""

    def __init__(self, on_violation: Callable[[Violation, str], None] | None = None) -> None:
        self._seen: dict[Violation, _Seen] = {}
        self._on_violation = on_violation
        self.reports = 0

    def add(self, violation: Violation, via: str) -> None:
        """Count a report; the first of a violation goes to `on_violation(violation, via)`."""
        self.reports += 1
        seen = self._seen.get(violation)
        if seen is None:
            if len(self._seen) >= MAX_VIOLATIONS:
                return
            seen = self._seen[violation] = _Seen(violation)
            if self._on_violation is not None:
                self._on_violation(violation, via)
        seen.count += 1
        if via not in seen.via:
            seen.via.append(via)

    def documents(self) -> list[dict[str, Any]]:
        return [seen.document() for seen in self._seen.values()]


def read_reports(body: bytes) -> list[tuple[Violation, str]]:
    """The violations in a report body, each with its route: a `report-uri` body
    (`{"csp-report": {...}}`) or a Reporting API list (`[{"type": "csp-violation", "body": {...}}]`).
    Anything else holds none."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    if isinstance(document, dict) and isinstance(document.get("csp-report"), dict):
        r = document["csp-report"]
        where = _where(r.get("source-file"), r.get("line-number"), r.get("column-number"))
        directive = r.get("effective-directive") or r.get("violated-directive")
        found = Violation(_text(directive), _text(r.get("blocked-uri")), where, _text(r.get("script-sample")))
        return [(found, "report-uri")]
    if not isinstance(document, list):
        return []
    violations = []
    for report in document:
        if not isinstance(report, dict) or report.get("type") != "csp-violation":
            continue
        b = report.get("body")
        if not isinstance(b, dict):
            continue
        where = _where(b.get("sourceFile"), b.get("lineNumber"), b.get("columnNumber"))
        found = Violation(
            _text(b.get("effectiveDirective")), _text(b.get("blockedURL")), where, _text(b.get("sample"))
        )
        violations.append((found, "report-to"))
    return violations


def _text(value: object) -> str:
    return _UNPRINTABLE.sub("?", value if isinstance(value, str) else "")[:_MAX_FIELD]


def _where(source: object, line: object, column: object) -> str:
    text = _text(source)
    if text and isinstance(line, int) and line > 0:
        text += f":{line}" + (f":{column}" if isinstance(column, int) and column > 0 else "")
    return text


def reporting_policies(policy: str) -> tuple[str, str]:
    """The enforced policy with `report-uri /csp-reports`, and its Report-Only copy with `report-to`.

    Each policy of a list (`,`) gets them; the policy's own report-uri and report-to are dropped."""
    enforced, copy = [], []
    for one in policy.split(","):
        directives = [d.strip(" \t") for d in one.split(";")]
        kept = [d for d in directives if d and d.split()[0].lower() not in _OWN_REPORTING]
        if not kept:
            continue
        enforced.append("; ".join([*kept, f"report-uri {REPORTS_PATH}"]))
        reported = [d for d in kept if d.split()[0].lower() not in _NOT_REPORT_ONLY]
        copy.append("; ".join([*reported, f"report-to {REPORTING_GROUP}"]))
    return ", ".join(enforced), ", ".join(copy)


def may_connect_to(policy: str, origin: str) -> bool:
    """Whether every policy of `policy` lets the page fetch from `origin` (its own) under connect-src."""
    for one in policy.split(","):
        parsed = parse(one)
        governing = parsed.effective_directive("connect-src")
        if governing is None:
            continue
        if "'self'" not in parsed.directives[governing] and not allows(parsed, "connect-src", origin):
            return False
    return True


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>gcwm preview</title>
</head>
<body>
<h1>gcwm Messenger preview</h1>
<p>This page embeds the deployment's snippet under the Content-Security-Policy below (sent as a
response header, with a fresh nonce per response). Messenger's launcher appears at the bottom right
when the policy lets it load.</p>
<p id="messenger-state" data-state="unknown">Messenger: no launcher yet (the page's own script keeps
this line current, when the policy lets it run).</p>
<h2>CSP violations</h2>
<p id="reporting">The browser reports every violation to this preview server itself: by
<code>report-uri</code>, and by <code>report-to</code> (the Reporting API) on a Report-Only copy of
the policy, since a browser that honours <code>report-to</code> ignores <code>report-uri</code>.
<code>gcwm preview</code> prints each in its terminal as it arrives. (Chromium sends no
<code>report-to</code> report from an http:// page like this one; <code>report-uri</code> brings them.)</p>
<p id="page-script" data-state="blocked" data-poll="{poll}">This page's own script did not run: the
policy blocks it too, so this list does not update by itself. It shows what the browser had reported
when the page was served ({received} reports so far): reload to update it, or watch the terminal.</p>
<p id="csp-violations-none"{none_hidden}>None so far.</p>
<ul id="csp-violations" data-count="{count}">{items}</ul>
<h2>Content-Security-Policy</h2>
<ul id="csp">
{csp}
</ul>
<script nonce="{nonce}" src="{script}"></script>
{snippet}
</body>
</html>
"""


def _items(documents: list[dict[str, Any]]) -> str:
    return "".join(
        f'<li data-directive="{html.escape(d["directive"])}" data-blocked-uri="{html.escape(d["blocked"])}"'
        f' data-via="{html.escape(" ".join(d["via"]))}" data-count="{d["count"]}">'
        f"{html.escape(Violation(d['directive'], d['blocked'], d['source']).describe())}"
        f" <small>({html.escape(', '.join(d['via']))}, {d['count']} {'time' if d['count'] == 1 else 'times'})"
        "</small></li>"
        for d in documents
    )


def preview_app(
    snippet: str, csp: str, *, on_violation: Callable[[Violation, str], None] | None = None
) -> ASGIApp:
    """An app whose `GET /` is a page embedding `snippet` under the policy `csp`, and which collects
    the violations the browser reports (`on_violation` hears each new one).

    Raises CspError when `csp` cannot be a header value (a line break, a non-ASCII character)."""
    parse(csp)  # fail here, not in every response
    log = ViolationLog(on_violation)

    async def page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        policy = csp.replace(NONCE_PLACEHOLDER, nonce)
        enforced, copy = reporting_policies(policy)
        own = f"{request.url.scheme}://{request.url.netloc}"
        listed = log.documents()
        body = _PAGE.format(
            nonce=nonce,
            script=SCRIPT_PATH,
            poll="true" if may_connect_to(policy, own) else "false",
            received=log.reports,
            none_hidden=" hidden" if listed else "",
            count=len(listed),
            items=_items(listed),
            csp="\n".join(
                f"<li><code>{html.escape(d.strip())}</code></li>" for d in enforced.split(";") if d.strip()
            ),
            snippet=_SCRIPT_TAG.sub(f'<script nonce="{nonce}"', snippet),
        )
        headers = {
            "Content-Security-Policy": enforced,
            "Content-Security-Policy-Report-Only": copy,
            "Reporting-Endpoints": f'{REPORTING_GROUP}="{own}{REPORTS_PATH}"',
            "Cache-Control": "no-store",
        }
        return HTMLResponse(body, headers=headers)

    async def reports(request: Request) -> Response:
        if request.method == "GET":
            body = {"violations": log.documents(), "reports": log.reports}
            return JSONResponse(body, headers={"Cache-Control": "no-store"})
        received = bytearray()
        async for chunk in request.stream():
            received += chunk
            if len(received) > MAX_REPORT_BYTES:
                return Response(status_code=413)
        for violation, via in read_reports(bytes(received)):
            log.add(violation, via)
        return Response(status_code=204)

    async def script(request: Request) -> Response:
        headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
        return Response(_page_script(), media_type="text/javascript; charset=utf-8", headers=headers)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)  # the browser asks for one; nothing to report

    return Starlette(
        routes=[
            Route("/", page),
            Route(REPORTS_PATH, reports, methods=["GET", "POST"]),
            Route(SCRIPT_PATH, script),
            Route("/favicon.ico", no_icon),
        ]
    )


@cache
def _page_script() -> bytes:
    return resources.files("gcwm").joinpath("preview.js").read_bytes()


def print_violation(violation: Violation, via: str) -> None:
    """Say a violation on stderr, one line, as `gcwm preview` does when its browser reports one."""
    print(f"gcwm preview: CSP violation ({via}): {violation.describe()}", file=sys.stderr, flush=True)


class _Server(uvicorn.Server):
    """Uvicorn that says when it is listening."""

    def __init__(self, config: uvicorn.Config, url: str, ready: Callable[[str], None] | None) -> None:
        super().__init__(config)
        self._url = url
        self._ready = ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self._ready is not None and not self.should_exit:
            self._ready(self._url)


def serve_preview(
    snippet: str,
    csp: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    ready: Callable[[str], None] | None = None,
    on_violation: Callable[[Violation, str], None] | None = print_violation,
) -> None:
    """Serve the preview page on host:port until interrupted; `ready(url)` is called once listening,
    `on_violation(violation, via)` for each new violation the browser reports (default: a line on
    stderr).

    Blocking: runs its own event loop, so call it from the main thread, where it can hear Ctrl-C
    (from a worker thread nothing stops it); inside a running loop, await `serve_preview_async`.
    Port 0 picks a free port (the URL says which). Raises ConfigError when the address cannot be
    bound and CspError for a policy that cannot be a header value."""
    asyncio.run(
        serve_preview_async(snippet, csp, host=host, port=port, ready=ready, on_violation=on_violation)
    )


async def serve_preview_async(
    snippet: str,
    csp: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    ready: Callable[[str], None] | None = None,
    on_violation: Callable[[Violation, str], None] | None = print_violation,
) -> None:
    """`serve_preview` in the running event loop.

    In the main thread uvicorn takes SIGINT and SIGTERM while it serves: on Ctrl-C it stops
    serving, then raises the signal again, so `asyncio.run` ends with KeyboardInterrupt."""
    app = preview_app(snippet, csp, on_violation=on_violation)
    sock = _bind(host, port)
    try:
        bound = sock.getsockname()[1]
        url = f"http://{f'[{host}]' if ':' in host else host}:{bound}/"
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        await _Server(config, url, ready).serve(sockets=[sock])
    finally:
        sock.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        return socket.create_server((host, port), family=family)
    except (OSError, OverflowError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        msg = f"cannot serve the preview on {host}:{port}: {reason}"
        raise ConfigError(msg) from exc
