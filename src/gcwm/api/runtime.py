"""What the HTTP app works with: one service, one store, the settings, built once by `gcwm serve`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ParamSpec, TypeVar

from fastapi import Request

from gcwm.provisioning import OrgRef, ProvisioningService
from gcwm.settings import Settings
from gcwm.store import Store

P = ParamSpec("P")
T = TypeVar("T")


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


async def read(store: Store, query: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
    """A request's short read of the store (`Store.read`: inline on SQLite, where a thread hop cost
    more than the read and queued it behind submissions; on a thread on PostgreSQL)."""
    return await store.read(query, *args, **kwargs)
