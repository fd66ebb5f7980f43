"""One router per resource; `ROUTERS` is the order the app mounts them in."""

from __future__ import annotations

from fastapi import APIRouter

from gcwm.emulator.routes import (
    admin,
    configurations,
    deployments,
    flows,
    messenger,
    oauth,
    organization,
    queues,
    supportedcontent,
)

ROUTERS: tuple[APIRouter, ...] = (
    oauth.router,
    organization.router,
    queues.router,
    flows.router,
    configurations.router,
    deployments.router,
    supportedcontent.router,
    admin.router,
    messenger.router,
)

__all__ = ["ROUTERS"]
