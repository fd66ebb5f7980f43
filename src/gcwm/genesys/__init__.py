"""The Genesys Cloud client: the only code in gcwm that knows Genesys wire formats.

Imports gcwm.errors and gcwm.observability, nothing else from gcwm.
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gcwm.genesys.auth import ClientCredentials, TokenProvider
    from gcwm.genesys.client import GenesysClient
    from gcwm.genesys.errors import is_outcome_unknown
    from gcwm.genesys.regions import Endpoints, endpoints_for, resolve_region
    from gcwm.genesys.retries import RetryPolicy
    from gcwm.genesys.transport import GenesysTransport
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
    "ClientCredentials": "gcwm.genesys.auth",
    "Endpoints": "gcwm.genesys.regions",
    "GenesysClient": "gcwm.genesys.client",
    "GenesysTransport": "gcwm.genesys.transport",
    "RetryPolicy": "gcwm.genesys.retries",
    "TokenProvider": "gcwm.genesys.auth",
    "endpoints_for": "gcwm.genesys.regions",
    "is_outcome_unknown": "gcwm.genesys.errors",
    "resolve_region": "gcwm.genesys.regions",
}

__all__ = [
    "ClientCredentials",
    "Endpoints",
    "GenesysClient",
    "GenesysTransport",
    "RetryPolicy",
    "TokenProvider",
    "endpoints_for",
    "is_outcome_unknown",
    "resolve_region",
]
