"""The Genesys Cloud client: the only code in gcwm that knows Genesys wire formats.

Imports gcwm.errors and gcwm.observability (and gcwm.lazy), nothing else from gcwm.
"""

from typing import TYPE_CHECKING

from gcwm.lazy import lazy_exports

if TYPE_CHECKING:
    from gcwm.genesys.auth import ClientCredentials, TokenProvider
    from gcwm.genesys.client import GenesysClient
    from gcwm.genesys.errors import is_outcome_unknown
    from gcwm.genesys.regions import Endpoints, endpoints_for, resolve_region
    from gcwm.genesys.retries import RetryPolicy
    from gcwm.genesys.send_guard import guarded_sends
    from gcwm.genesys.transport import GenesysTransport


# Each public name and the module that defines it.
_EXPORTS = {
    "ClientCredentials": "gcwm.genesys.auth",
    "Endpoints": "gcwm.genesys.regions",
    "GenesysClient": "gcwm.genesys.client",
    "GenesysTransport": "gcwm.genesys.transport",
    "RetryPolicy": "gcwm.genesys.retries",
    "TokenProvider": "gcwm.genesys.auth",
    "endpoints_for": "gcwm.genesys.regions",
    "guarded_sends": "gcwm.genesys.send_guard",
    "is_outcome_unknown": "gcwm.genesys.errors",
    "resolve_region": "gcwm.genesys.regions",
}

if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, _EXPORTS)

__all__ = [
    "ClientCredentials",
    "Endpoints",
    "GenesysClient",
    "GenesysTransport",
    "RetryPolicy",
    "TokenProvider",
    "endpoints_for",
    "guarded_sends",
    "is_outcome_unknown",
    "resolve_region",
]
