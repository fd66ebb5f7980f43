"""Prometheus metrics: every Genesys call, every provisioning step and job, and the API's own requests.

One registry, REGISTRY, which `/metrics` exposes (with the store's gauges, read at scrape time by a
collector: see gcwm.observability.gauges). Metric names follow Prometheus's conventions (unit suffix,
`_total` on counters).
"""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from gcwm.observability.calls import record_call

REGISTRY = CollectorRegistry(auto_describe=True)

_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# A job waits for activations (seconds to a minute per Genesys object), so it needs longer buckets.
_JOB_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0)
# The API's own answers are expected in milliseconds (bench/api.py targets p99 < 20 ms).
_API_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)

GENESYS_REQUEST_SECONDS = Histogram(
    "gcwm_genesys_request_duration_seconds",
    "Latency of each Genesys Cloud API call attempt, by operation and answer status.",
    ["operation", "status"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
GENESYS_RETRIES = Counter(
    "gcwm_genesys_retries_total",
    "Genesys Cloud calls sent again, by operation and the cause of the failed attempt.",
    ["operation", "cause"],
    registry=REGISTRY,
)
GENESYS_RATE_LIMITED = Counter(
    "gcwm_genesys_rate_limited_total",
    "Genesys Cloud answers 429 Too Many Requests, by operation.",
    ["operation"],
    registry=REGISTRY,
)
GENESYS_RATE_LIMIT_REMAINING = Gauge(
    "gcwm_genesys_rate_limit_remaining",
    "Requests left in the current rate-limit window, from the last answer's inin-ratelimit-* headers.",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # with `serve --workers N`: the latest answer of any process
)
GENESYS_RATE_LIMIT_ALLOWED = Gauge(
    "gcwm_genesys_rate_limit_allowed",
    "The rate-limit window's budget, from the last answer's inin-ratelimit-allowed header.",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # with `serve --workers N`: the latest answer of any process
)
GENESYS_RATE_LIMIT_RESET_SECONDS = Gauge(
    "gcwm_genesys_rate_limit_reset_seconds",
    "Seconds until the rate-limit window resets, from the last answer's inin-ratelimit-reset header.",
    registry=REGISTRY,
    multiprocess_mode="mostrecent",  # with `serve --workers N`: the latest answer of any process
)
PROVISION_STEP_SECONDS = Histogram(
    "gcwm_provision_step_duration_seconds",
    "Duration of each provisioning step, by step and outcome.",
    ["step", "outcome"],
    buckets=_BUCKETS,
    registry=REGISTRY,
)
JOB_SECONDS = Histogram(
    "gcwm_job_duration_seconds",
    "End-to-end duration of each job, from its first claim to its end, by kind and final status.",
    ["kind", "status"],
    buckets=_JOB_BUCKETS,
    registry=REGISTRY,
)
API_REQUEST_SECONDS = Histogram(
    "gcwm_api_request_duration_seconds",
    "Latency of the gcwm HTTP API's answers, by method, route template and status.",
    ["method", "route", "status"],
    buckets=_API_BUCKETS,
    registry=REGISTRY,
)


def observe_genesys_call(operation: str, status: str, seconds: float) -> None:
    """One Genesys call attempt answered (or failed without an answer: status "none").

    Counted in the process-wide histogram and in every recorder open in this context (a run's, a job's)."""
    GENESYS_REQUEST_SECONDS.labels(operation=operation, status=status).observe(seconds)
    if status == "429":
        GENESYS_RATE_LIMITED.labels(operation=operation).inc()
    record_call(operation, status, seconds)


def observe_rate_limit(headers: Mapping[str, str]) -> None:
    """Where the org stands in Genesys's rate-limit window, from an answer's `inin-ratelimit-*` headers.

    `count` is the requests used in the window, `allowed` its budget and `reset` the seconds until
    it resets (shared/genesys/README.md, "Errors and rate limits"); answers without them change nothing."""
    allowed = _number(headers.get("inin-ratelimit-allowed"))
    count = _number(headers.get("inin-ratelimit-count"))
    reset = _number(headers.get("inin-ratelimit-reset"))
    if allowed is not None:
        GENESYS_RATE_LIMIT_ALLOWED.set(allowed)
        if count is not None:
            GENESYS_RATE_LIMIT_REMAINING.set(max(0.0, allowed - count))
    if reset is not None:
        GENESYS_RATE_LIMIT_RESET_SECONDS.set(reset)


def _number(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return None
