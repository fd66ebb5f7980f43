"""The api room: the HTTP service of `gcwm serve` (FastAPI). It parses requests and renders answers;
the use cases are the provisioning service's, as for the CLI."""

from gcwm.api.app import create_app
from gcwm.api.runtime import ApiRuntime

__all__ = ["ApiRuntime", "create_app"]
