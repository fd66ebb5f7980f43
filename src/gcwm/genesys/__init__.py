"""The Genesys Cloud client: the only code in gcwm that knows Genesys wire formats.

Imports gcwm.errors and gcwm.observability, nothing else from gcwm.
"""

from gcwm.genesys.auth import ClientCredentials, TokenProvider
from gcwm.genesys.client import GenesysClient
from gcwm.genesys.errors import is_outcome_unknown
from gcwm.genesys.regions import Endpoints, endpoints_for, resolve_region
from gcwm.genesys.retries import RetryPolicy
from gcwm.genesys.transport import GenesysTransport

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
