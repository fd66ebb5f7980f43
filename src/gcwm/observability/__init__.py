"""Logs, metrics and request context. Imports only gcwm.errors; every other room may use it."""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gcwm.observability.context import actor, correlation_id, new_correlation_id, request_context
else:

    def __getattr__(name: str) -> Any:
        # PEP 562: each name is imported on first use, so a command loads only the modules it
        # uses (`gcwm domains` and `gcwm csp evaluate` load neither SQLAlchemy nor httpx).
        try:
            module = _EXPORTS[name]
        except KeyError:
            msg = f"module {__name__!r} has no attribute {name!r}"
            raise AttributeError(msg) from None
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


# Each public name and the module that defines it.
_EXPORTS = {
    "actor": "gcwm.observability.context",
    "correlation_id": "gcwm.observability.context",
    "new_correlation_id": "gcwm.observability.context",
    "request_context": "gcwm.observability.context",
}

__all__ = ["actor", "correlation_id", "new_correlation_id", "request_context"]
