"""The two listing shapes: numbered pages (queues, flows) and cursors (web deployments).

Cursor listings default to `pageSize` 300, the SDK's documented default ("Number of entities to
return. Defaults to 300.", api-subset.json). Emulator choices, since the README does not say more
about how Genesys pages these: numbered pages take `pageSize` 1..500 (default 25); cursor listings
cap `pageSize` at 300 (larger values are served as 300; Genesys's maximum is unconfirmed), take an
opaque `after`/`before` cursor, and carry `nextUri`/`previousUri` only when there is such a page."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode

from gcwm.emulator.errors import invalid

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 25
MAX_NUMBERED_PAGE_SIZE = 500
DEFAULT_CURSOR_PAGE_SIZE = 300  # the SDK's documented default
MAX_CURSOR_PAGE_SIZE = 300  # emulator's choice: Genesys's maximum is unconfirmed


def numbered_page(
    entities: Sequence[dict[str, Any]],
    path: str,
    page_size: int,
    page_number: int,
    query: dict[str, str],
) -> dict[str, Any]:
    """A paged listing (`QueueEntityListing`, `FlowEntityListing`)."""
    if not 1 <= page_size <= MAX_NUMBERED_PAGE_SIZE:
        raise invalid("pageSize", f"must be between 1 and {MAX_NUMBERED_PAGE_SIZE}, got {page_size}")
    if page_number < 1:
        raise invalid("pageNumber", f"must be at least 1, got {page_number}")
    total = len(entities)
    page_count = max(1, math.ceil(total / page_size))
    start = (page_number - 1) * page_size

    def uri(number: int) -> str:
        return f"{path}?{urlencode({**query, 'pageSize': page_size, 'pageNumber': number})}"

    listing: dict[str, Any] = {
        "entities": list(entities[start : start + page_size]),
        "pageSize": page_size,
        "pageNumber": page_number,
        "total": total,
        "firstUri": uri(1),
        "selfUri": uri(page_number),
        "lastUri": uri(page_count),
        "pageCount": page_count,
    }
    if page_number < page_count:
        listing["nextUri"] = uri(page_number + 1)
    if page_number > 1:
        listing["previousUri"] = uri(page_number - 1)
    return listing


def cursor_page(
    entries: Sequence[tuple[int, T]],
    render: Callable[[T], dict[str, Any]],
    path: str,
    page_size: str | None,
    before: str | None,
    after: str | None,
    query: dict[str, str],
) -> dict[str, Any]:
    """A cursor listing (`...EntityListing` with entities, total, selfUri, nextUri, previousUri).

    `entries` are (creation sequence, object) in creation order; cursors point between them.
    Only the page's objects are rendered."""
    size = _cursor_page_size(page_size)
    if after is not None:
        start = _decode(after, "after")
        window = [e for e in entries if e[0] > start][:size]
    elif before is not None:
        end = _decode(before, "before")
        window = [e for e in entries if e[0] < end][-size:]
    else:
        window = list(entries[:size])
    base = {**query, "pageSize": str(size)}
    self_query = {**base, **({"after": after} if after else {}), **({"before": before} if before else {})}
    listing: dict[str, Any] = {
        "entities": [render(item) for _, item in window],
        "total": len(entries),
        "selfUri": f"{path}?{urlencode(self_query)}",
    }
    if window and any(seq > window[-1][0] for seq, _ in entries):
        listing["nextUri"] = f"{path}?{urlencode({**base, 'after': _encode(window[-1][0])})}"
    if window and any(seq < window[0][0] for seq, _ in entries):
        listing["previousUri"] = f"{path}?{urlencode({**base, 'before': _encode(window[0][0])})}"
    return listing


def _cursor_page_size(text: str | None) -> int:
    if text is None or text == "":
        return DEFAULT_CURSOR_PAGE_SIZE
    try:
        size = int(text)
    except ValueError:
        raise invalid("pageSize", f'"{text}" is not a whole number') from None
    if size < 1:
        raise invalid("pageSize", f"must be at least 1, got {size}")
    return min(size, MAX_CURSOR_PAGE_SIZE)


def _encode(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode().rstrip("=")


def _decode(cursor: str, field: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "seq":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid(field, f'"{cursor}" is not a cursor this listing handed out') from None
