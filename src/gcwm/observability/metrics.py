"""Prometheus metrics: latency of every Genesys call and every provisioning step."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

REGISTRY = CollectorRegistry(auto_describe=True)

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)

GENESYS_REQUEST_SECONDS = Histogram(
    "gcwm_genesys_request_duration_seconds",
    "Latency of each Genesys Cloud API call attempt, by operation and answer status.",
    ["operation", "status"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
GENESYS_RETRIES = Counter(
    "gcwm_genesys_retries_total",
    "Genesys Cloud calls retried, by operation and cause.",
    ["operation", "cause"],
    registry=REGISTRY,
)
PROVISION_STEP_SECONDS = Histogram(
    "gcwm_provision_step_duration_seconds",
    "Duration of each provisioning step, by step and outcome.",
    ["step", "outcome"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
