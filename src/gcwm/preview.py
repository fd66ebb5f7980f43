"""Messenger preview: a local page that embeds a deployment's snippet under a given CSP, served by
uvicorn, so a real browser shows whether the policy lets Messenger load.

Entry-point side (the `gcwm preview` command uses it): may import gcwm.errors and gcwm.policy, never
gcwm.provisioning. No I/O at import.

Every answer of `GET /` gets a fresh nonce (`secrets.token_urlsafe(16)`, 128 bits, as CSP3 asks):
it replaces `NONCE_PLACEHOLDER` in the policy's header value and is set on the snippet's `<script>`
tags and on the page's own script. A policy without the placeholder is served as it is (to try a
site's own policy); then the page's script runs only if that policy allows it. The page's script
lists every `securitypolicyviolation` in `<ul id="csp-violations">` and logs it to the console. The
page itself has no styles, images or other loads, so any violation is Messenger's.
"""

from __future__ import annotations

import asyncio
import html
import re
import secrets
import socket
from collections.abc import Callable

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from gcwm.errors import ConfigError
from gcwm.policy.csp import NONCE_PLACEHOLDER, parse

__all__ = ["NONCE_PLACEHOLDER", "preview_app", "serve_preview", "serve_preview_async"]

# The placeholder gcwm's proposed policies carry (gcwm.provisioning.checks); the site, here the
# preview, puts a fresh nonce in its place in every response.
_SCRIPT_TAG = re.compile(r"<script\b", re.IGNORECASE)

# Lists each violation (textContent only) and logs it; registered before the snippet runs.
_REPORTER = """
(function () {
  "use strict";
  document.addEventListener("securitypolicyviolation", function (event) {
    var list = document.getElementById("csp-violations");
    var item = document.createElement("li");
    item.setAttribute("data-directive", event.violatedDirective);
    item.setAttribute("data-blocked-uri", event.blockedURI);
    item.textContent = event.violatedDirective + " blocked " + (event.blockedURI || "(inline)");
    list.appendChild(item);
    list.setAttribute("data-count", String(list.children.length));
    document.getElementById("csp-violations-none").hidden = true;
    console.error("gcwm preview: CSP violation: " + event.violatedDirective + " blocked " + event.blockedURI);
  });
})();
"""

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
<h2>CSP violations</h2>
<p id="csp-violations-none">None so far.</p>
<ul id="csp-violations" data-count="0"></ul>
<script nonce="{nonce}">{reporter}</script>
<h2>Content-Security-Policy</h2>
<ul id="csp">
{csp}
</ul>
{snippet}
</body>
</html>
"""


def preview_app(snippet: str, csp: str) -> ASGIApp:
    """An app whose `GET /` is a page embedding `snippet` under the policy `csp`.

    Raises CspError when `csp` cannot be a header value (a line break, a non-ASCII character)."""
    parse(csp)  # fail here, not in every response

    async def page(request: Request) -> Response:
        nonce = secrets.token_urlsafe(16)
        policy = csp.replace(NONCE_PLACEHOLDER, nonce)
        body = _PAGE.format(
            nonce=nonce,
            reporter=_REPORTER,
            csp="\n".join(
                f"<li><code>{html.escape(d.strip())}</code></li>" for d in policy.split(";") if d.strip()
            ),
            snippet=_SCRIPT_TAG.sub(f'<script nonce="{nonce}"', snippet),
        )
        headers = {"Content-Security-Policy": policy, "Cache-Control": "no-store"}
        return HTMLResponse(body, headers=headers)

    async def no_icon(request: Request) -> Response:
        return Response(status_code=204)  # the browser asks for one; nothing to report

    return Starlette(routes=[Route("/", page), Route("/favicon.ico", no_icon)])


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
) -> None:
    """Serve the preview page on host:port until interrupted; `ready(url)` is called once listening.

    Blocking: runs its own event loop, so call it from the main thread, where it can hear Ctrl-C
    (from a worker thread nothing stops it); inside a running loop, await `serve_preview_async`.
    Port 0 picks a free port (the URL says which). Raises ConfigError when the address cannot be
    bound and CspError for a policy that cannot be a header value."""
    asyncio.run(serve_preview_async(snippet, csp, host=host, port=port, ready=ready))


async def serve_preview_async(
    snippet: str,
    csp: str,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    ready: Callable[[str], None] | None = None,
) -> None:
    """`serve_preview` in the running event loop.

    In the main thread uvicorn takes SIGINT and SIGTERM while it serves: on Ctrl-C it stops
    serving, then raises the signal again, so `asyncio.run` ends with KeyboardInterrupt."""
    app = preview_app(snippet, csp)
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
