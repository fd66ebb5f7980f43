"""The emulator's own admin API under `/emulator/` (not Genesys's): faults, tokens, stats, reset.

No auth, never rate-limited, never faulted (the pipeline lets `/emulator/*` through untouched)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, ConfigDict, Field

from gcwm.emulator.config import FaultKind, FaultRule
from gcwm.emulator.runtime import runtime_of
from gcwm.emulator.state import OrgLimits

router = APIRouter(prefix="/emulator")


class FaultChanges(BaseModel):
    """`PUT /emulator/faults`: the knobs to change; naming `seed` restarts the RNG from it.
    `dependency_400s`: the transient 400s of the first N publishes / deployment creates per object."""

    model_config = ConfigDict(extra="forbid")

    fault_5xx_rate: float = Field(0.0, ge=0, le=1)
    fault_429_rate: float = Field(0.0, ge=0, le=1)
    commit_then_fail_rate: float = Field(0.0, ge=0, le=1)
    latency_ms: float = Field(0.0, ge=0)
    stall_s: float = Field(2.0, ge=0)
    seed: int | None = None
    dependency_400s: int = Field(0, ge=0)


class RuleBody(BaseModel):
    """`POST /emulator/faults/rules`: one FaultRule."""

    model_config = ConfigDict(extra="forbid")

    method: str
    path: str
    fault: FaultKind
    count: int = Field(1, ge=1)
    retry_after_s: int = Field(1, ge=0)
    latency_ms: float = Field(0, ge=0)


@router.get("/faults")
async def get_faults(request: Request) -> dict[str, Any]:
    return runtime_of(request).faults.describe()


@router.put("/faults")
async def put_faults(changes: FaultChanges, request: Request) -> dict[str, Any]:
    faults = runtime_of(request).faults
    faults.update(changes.model_dump(exclude_unset=True))
    return faults.describe()


@router.post("/faults/rules")
async def add_rule(body: RuleBody, request: Request) -> dict[str, Any]:
    try:
        rule = FaultRule(**body.model_dump())
    except ValueError as exc:  # e.g. a path that is not a valid regex
        raise HTTPException(400, str(exc)) from exc
    faults = runtime_of(request).faults
    faults.add_rule(rule)
    return faults.describe()


@router.delete("/faults/rules")
async def clear_rules(request: Request) -> dict[str, Any]:
    faults = runtime_of(request).faults
    faults.clear_rules()
    return faults.describe()


@router.post("/faults/held/release")
async def release_held(request: Request) -> dict[str, int]:
    """Send every answer a commit_then_delay rule holds back, and let through every request a
    latency rule delays, right now."""
    return {"released": runtime_of(request).releases.release_all()}


@router.post("/deployments/{deployment_id}/error")
async def break_deployment(deployment_id: str, request: Request) -> dict[str, str]:
    """Put a deployment in status `Error` (it stays so until deleted), to test what a client does then."""
    runtime_of(request).state.break_deployment(deployment_id)
    return {"id": deployment_id, "status": "Error"}


@router.get("/limits")
async def get_limits(request: Request) -> dict[str, int]:
    """The org's enforced limits, by full name (`web.deployments.deployments.max`)."""
    return {f"web.deployments.{k}": v for k, v in runtime_of(request).state.limits.as_keys().items()}


@router.put("/limits")
async def put_limits(changes: dict[str, int], request: Request) -> dict[str, int]:
    """Change some limits, by full name or key; the limits API and creates follow at once."""
    state = runtime_of(request).state
    try:
        state.limits = state.limits.with_keys(changes)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from exc
    return {f"web.deployments.{k}": v for k, v in state.limits.as_keys().items()}


@router.post("/tokens/expire")
async def expire_tokens(request: Request) -> dict[str, int]:
    return {"expired": runtime_of(request).tokens.expire_all()}


@router.get("/stats")
async def stats(request: Request) -> dict[str, Any]:
    rt = runtime_of(request)
    configurations, deployments = rt.state.live_counts()
    return {**rt.stats.snapshot(), "deployments": deployments, "configurations": configurations}


@router.post("/reset")
async def reset(request: Request) -> dict[str, Any]:
    """Back to the seed: no configurations or deployments, only the seeded default supported
    content profile, the configured limits, no faults (dependency_400s 0 too), zeroed stats and
    rate windows.

    The org id, queues, flows and issued tokens stay, and so does `heldAnswers` (answers still in
    flight, not a count)."""
    rt = runtime_of(request)
    rt.state.reset()
    rt.state.limits = OrgLimits(rt.config.deployments_max, rt.config.configurations_max)
    rt.faults.reset()
    rt.stats.clear()
    rt.limiter.clear()
    return {"orgId": rt.state.org_id}
