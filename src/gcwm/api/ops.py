"""Operations endpoints: `/metrics` for Prometheus, `/healthz` (alive) and `/readyz` (can serve).

`/metrics` needs a viewer key unless GCWM_METRICS_PUBLIC=1 (a scraper inside a trusted network).
Besides the process's own metrics it counts, at each scrape, what is stored: jobs by status, the
outbox's messages by status and the audit chain's length, shared by every replica on the database.
"""

from __future__ import annotations

import asyncio
import os
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest, multiprocess
from pydantic import BaseModel

from gcwm.api.auth import authenticate, check_role
from gcwm.api.runtime import ApiRuntime, runtime_of
from gcwm.api.v1.models import problems
from gcwm.errors import GcwmError
from gcwm.observability.gauges import StoredCounts, StoredGauges
from gcwm.observability.metrics import REGISTRY
from gcwm.provisioning.roles import Role
from gcwm.store import Store, head_revision
from gcwm.store.ops_reads import audit_length, jobs_by_status, migration_revision, outbox_by_status

router = APIRouter(tags=["operations"])

#: How recently the worker loop must have ticked for `/readyz` to call it alive.
WORKER_BEAT_WITHIN_S = 10.0

Runtime = Annotated[ApiRuntime, Depends(runtime_of)]


class Health(BaseModel):
    status: str


class Check(BaseModel):
    name: str
    ok: bool
    detail: str


class Readiness(BaseModel):
    status: str
    checks: list[Check]


async def metrics_reader(request: Request, runtime: Runtime) -> None:
    """A viewer key, unless the settings make the metrics public."""
    if not runtime.metrics_public:
        check_role(await authenticate(request, runtime), Role.viewer)


@router.get(
    "/metrics",
    dependencies=[Depends(metrics_reader)],
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {"schema": {"type": "string"}}}},
        **{status: answer for status, answer in problems().items() if status in (401, 403)},
    },
)
async def metrics(runtime: Runtime) -> Response:
    """The Prometheus text exposition of gcwm's metrics and the store's gauges."""
    # Counting rows is blocking database I/O: off the loop that also runs the job workers.
    body = await asyncio.to_thread(_exposition, runtime.store)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _exposition(store: Store) -> bytes:
    stored = CollectorRegistry(auto_describe=False)
    stored.register(
        StoredGauges(
            StoredCounts(
                jobs_by_status=lambda: jobs_by_status(store),
                outbox_by_status=lambda: outbox_by_status(store),
                audit_entries=lambda: audit_length(store),
            )
        )
    )
    # Two registries, one exposition: the text format is a sequence of independent families.
    return generate_latest(_process_metrics()) + generate_latest(stored)


def _process_metrics() -> CollectorRegistry:
    """This process's metrics; under `serve --workers N` (PROMETHEUS_MULTIPROC_DIR set by the parent)
    every process's, summed, so a scrape answered by any one of them sees them all."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry(auto_describe=False)
    multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return registry


@router.get("/healthz")
async def healthz() -> Health:
    """The process is up and answering."""
    return Health(status="ok")


@router.get("/readyz", responses={503: {"model": Readiness, "description": "a check failed"}})
async def readyz(runtime: Runtime) -> JSONResponse:
    """Ready to serve: the database answers, its tables are at this gcwm's migration head, and a job
    worker of this process ticked lately. 503 names the check that failed."""
    checks = [*await asyncio.to_thread(_database_checks, runtime.store), _worker_check(runtime)]
    ready = all(c.ok for c in checks)
    document = Readiness(status="ready" if ready else "not ready", checks=checks)
    return JSONResponse(document.model_dump(), status_code=200 if ready else 503)


def _database_checks(store: Store) -> list[Check]:
    try:
        revision = migration_revision(store)
    except GcwmError as exc:
        return [
            Check(name="database", ok=False, detail=exc.message),
            Check(name="migrations", ok=False, detail="not checked: the database did not answer"),
        ]
    head = head_revision()
    at_head = revision == head
    detail = f"at {revision}" if at_head else f"at {revision or 'no revision'}; this gcwm needs {head}"
    return [
        Check(name="database", ok=True, detail="reachable"),
        Check(name="migrations", ok=at_head, detail=detail),
    ]


def _worker_check(runtime: ApiRuntime) -> Check:
    if not runtime.run_workers:
        return Check(name="worker", ok=True, detail="this process runs no job workers")
    alive = runtime.service.worker_alive(WORKER_BEAT_WITHIN_S)
    detail = "ticked within the last" if alive else "has not ticked in the last"
    return Check(name="worker", ok=alive, detail=f"{detail} {WORKER_BEAT_WITHIN_S:.0f} s")
