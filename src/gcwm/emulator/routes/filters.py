"""Query filters shared by the queue and flow listings."""

from __future__ import annotations

from starlette.datastructures import QueryParams


def name_matches(pattern: str | None, name: str) -> bool:
    """Genesys's `name` filter: exact but case-insensitive, or a prefix when it ends with `*`."""
    if not pattern:
        return True
    if pattern.endswith("*"):
        return name.casefold().startswith(pattern[:-1].casefold())
    return name.casefold() == pattern.casefold()


def list_param(params: QueryParams, name: str) -> list[str]:
    """A list parameter, repeated (`type=a&type=b`) or comma-joined as the official SDK sends it."""
    return [part.strip() for value in params.getlist(name) for part in value.split(",") if part.strip()]


def kept_filters(params: QueryParams, *names: str) -> dict[str, str]:
    """The filters to repeat in the listing's page URIs."""
    return {name: params[name] for name in names if name in params}
