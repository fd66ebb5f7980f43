"""structlog set-up: logs go to stderr (stdout is for results), secrets are dropped before output."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

# Keys whose values are secrets wherever they appear in an event.
SECRET_KEYS = frozenset(
    {
        "authorization",
        "client_secret",
        "access_token",
        "token",
        "password",
        "secret",
        "signing_key",
        "webhook_secret",
    }
)
REDACTED = "[redacted]"


def redact_secrets(
    _logger: object, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the value of any secret-named key, at any depth of dicts, with a marker."""
    return _redact(event)  # type: ignore[no-any-return]


def _redact(value: Any) -> Any:
    if isinstance(value, MutableMapping):
        for key in list(value):
            if str(key).lower() in SECRET_KEYS:
                value[key] = REDACTED
            else:
                value[key] = _redact(value[key])
    return value


def configure_logging(*, level: str = "warning", json: bool = False) -> None:
    """Send structured logs to stderr at `level`; JSON lines for machines, colour for people."""
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.WARNING)
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            redact_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
