"""The operator dashboard at `/`: server-rendered pages (Jinja2, autoescaped) with the vendored htmx
for live progress, a login with an API key, CSRF tokens on every form and a strict per-response CSP."""

from __future__ import annotations

from fastapi import APIRouter

from gcwm.api.dashboard import actions, pages

router = APIRouter(include_in_schema=False)
router.include_router(pages.router)
router.include_router(actions.router)

__all__ = ["router"]
