"""The v1 API under `/v1`: channels, jobs, audit and notifications."""

from __future__ import annotations

from fastapi import APIRouter, Security
from fastapi.security import HTTPBearer

from gcwm.api.v1 import audit, channels, jobs, keys, notifications

# Documents the Bearer scheme in /openapi.json; `auth.require` does the checking (401/403 problems).
_bearer = HTTPBearer(auto_error=False, description="an API key from `gcwm keys create`")

router = APIRouter(prefix="/v1", dependencies=[Security(_bearer)])
for _part in (channels, jobs, audit, notifications, keys):
    router.include_router(_part.router)

__all__ = ["router"]
