"""What the HTTP app works with: one service, one store, the settings, built once by `gcwm serve`."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from gcwm.provisioning import OrgRef, ProvisioningService
from gcwm.settings import Settings
from gcwm.store import Store


@dataclass
class ApiRuntime:
    """The app's collaborators; `run_workers` off lets a test serve the API without working jobs."""

    service: ProvisioningService
    store: Store
    settings: Settings
    org: OrgRef
    metrics_public: bool = False
    run_workers: bool = True


def runtime_of(request: Request) -> ApiRuntime:
    """The runtime of the app serving this request (a FastAPI dependency)."""
    runtime: ApiRuntime = request.app.state.runtime
    return runtime
