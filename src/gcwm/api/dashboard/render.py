"""Pages from Jinja2 templates, every value autoescaped, each response with its own CSP nonce.

The templates and the two static files (htmx, the stylesheet) ship inside the package, next to this
module; static files are read once and served from memory with their own, closed policy.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from gcwm import __version__
from gcwm.api.dashboard.security import headers_for, new_nonce
from gcwm.api.dashboard.session import PageSession

__all__ = ["page", "static_file"]

HERE = Path(__file__).parent
STATIC_TYPES = {
    "htmx.min.js": "text/javascript; charset=utf-8",
    "dashboard.css": "text/css; charset=utf-8",
}


@cache
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,  # every template, whatever its name: nothing reaches a page unescaped
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["ms"] = _ms
    return env


def page(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    session: PageSession | None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A rendered page (or htmx fragment) with the dashboard's headers and a fresh script nonce."""
    nonce = new_nonce()
    html = (
        _environment()
        .get_template(template)
        .render(
            **context,
            nonce=nonce,
            session=session,
            path=request.url.path,
            version=__version__,
        )
    )
    return HTMLResponse(html, status_code=status, headers={**headers_for(nonce), **(headers or {})})


def static_file(name: str) -> Response:
    """One of the dashboard's static files, or 404."""
    media = STATIC_TYPES.get(name)
    if media is None:
        return Response("not found", status_code=404, media_type="text/plain", headers=headers_for(None))
    return Response(_read(name), media_type=media, headers=headers_for(None, cache=True))


@cache
def _read(name: str) -> bytes:
    return (HERE / "static" / name).read_bytes()


def _when(moment: datetime | None) -> str:
    """A time as the pages show it: UTC, to the second."""
    if moment is None:
        return "—"
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _ms(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} ms" if value >= 100 else f"{value:.1f} ms"
