"""Opaque cursors for the API's listings: the last row's sort key, encoded so callers do not parse it.

A cursor names the listing it belongs to, so one from /v1/jobs is refused by /v1/notifications
rather than silently misread. A cursor that does not decode is a 422 problem, never a 500.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query

from gcwm.api.problems import TYPE_BASE, Problem

PageSize = Annotated[int, Query(ge=1, le=200, description="how many items per page")]
CursorParam = Annotated[
    str | None,
    Query(max_length=512, description="`nextCursor` of the previous page; omit for the first page"),
]


def encode(listing: str, key: list[Any]) -> str:
    """A cursor for `listing` that resumes after the row whose sort key is `key`."""
    raw = json.dumps([listing, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(listing: str, cursor: str, shape: tuple[type, ...]) -> list[Any]:
    """The sort key in a cursor of `listing`, each part of the type in `shape`; a 422 problem if not."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        parts = json.loads(raw)
    except (binascii.Error, ValueError):
        raise _bad(listing) from None
    if not isinstance(parts, list) or len(parts) != len(shape) + 1 or parts[0] != listing:
        raise _bad(listing)
    key = parts[1:]
    if not all(
        isinstance(part, kind) and not isinstance(part, bool) for part, kind in zip(key, shape, strict=True)
    ):
        raise _bad(listing)
    return key


def time_and_id(listing: str, cursor: str | None) -> tuple[datetime, str] | None:
    """A (created_at, id) cursor, decoded."""
    if cursor is None:
        return None
    at, ident = decode(listing, cursor, (str, str))
    try:
        when = datetime.fromisoformat(at)
    except ValueError:
        raise _bad(listing) from None
    if when.tzinfo is None:
        raise _bad(listing)
    return when, ident


def _bad(listing: str) -> Problem:
    return Problem(
        422,
        "The cursor is not valid",
        f"pass the `nextCursor` of a previous page of {listing} unchanged",
        type_=TYPE_BASE + "invalid-cursor",
    )
