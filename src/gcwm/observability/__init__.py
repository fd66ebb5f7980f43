"""Logs, metrics and request context. Imports only gcwm.errors (and gcwm.lazy); every other room may
use it."""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
    from gcwm.observability.context import actor, correlation_id, new_correlation_id, request_context


# Each public name and the module that defines it.
_EXPORTS = {
    "actor": "gcwm.observability.context",
    "correlation_id": "gcwm.observability.context",
    "new_correlation_id": "gcwm.observability.context",
    "request_context": "gcwm.observability.context",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = ["actor", "correlation_id", "new_correlation_id", "request_context"]
