"""The v1 API under `/v1`: channels, jobs, audit and notifications."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(prefix="/v1")

__all__ = ["router"]
