"""`/metrics`, `/healthz` and `/readyz` of a live `gcwm serve`, over real HTTP."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import EXAMPLES
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until
from tests.support.service import RunningService, start_service


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, by name and labels (parsed as Prometheus would)."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_need_a_viewer_key(service: RunningService) -> None:
    """No key is a 401 problem; a viewer's key reads the exposition."""
    with service.client(None) as anonymous:
        refused = anonymous.get("/metrics")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    with service.client("viewer") as http:
        answer = http.get("/metrics")
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    assert "gcwm_genesys_request_duration_seconds" in answer.text


def test_metrics_count_stored_jobs_audit_entries_and_the_apis_own_requests(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """A channel provisioned by the CLI on the same database shows up at the next scrape: a
    succeeded job and the audit chain as long as `gcwm audit show` lists; the API's own requests and
    the service's login check are timed."""
    with service.client("viewer") as http:
        before = _samples(http.get("/metrics").text)
        done = service.gcwm("provision", str(EXAMPLES / "channel.yaml"), "--output", "json", timeout=120)
        assert done.returncode == 0, done.stderr
        entries = service.gcwm("audit", "show", "--output", "json")
        assert entries.returncode == 0, entries.stderr
        http.get("/healthz")
        after = _samples(http.get("/metrics").text)
    assert _value(before, "gcwm_jobs", status="succeeded") == 0
    assert _value(after, "gcwm_jobs", status="succeeded") == 1
    assert _value(after, "gcwm_jobs", status="queued") == 0
    assert _value(after, "gcwm_audit_chain_length") == len(json.loads(entries.stdout)["entries"])
    assert ("gcwm_outbox_messages", frozenset({("status", "pending")})) in after
    healthz = {"method": "GET", "route": "/healthz", "status": "200"}
    assert _value(after, "gcwm_api_request_duration_seconds_count", **healthz) >= 1
    # The service checked its token once at start-up: the emulator answered it, the histogram saw it.
    login_check = {"operation": "GET /api/v2/tokens/me", "status": "200"}
    assert _value(after, "gcwm_genesys_request_duration_seconds_count", **login_check) >= 1


def test_metrics_are_public_when_the_settings_say_so(gcwm_env: dict[str, str], tmp_path: Path) -> None:
    """GCWM_METRICS_PUBLIC=1: a scraper without a key reads the metrics."""
    with start_service({**gcwm_env, "GCWM_METRICS_PUBLIC": "1"}, tmp_path, roles=()) as running:
        answer = httpx.get(f"{running.url}/metrics", timeout=10)
    assert answer.status_code == 200
    assert "gcwm_jobs" in answer.text


def test_health_and_readiness_need_no_key(service: RunningService) -> None:
    """`/healthz` is ok; `/readyz` becomes ready once the worker ticks, every check named and ok."""
    with service.client(None) as anonymous:
        assert anonymous.get("/healthz").json() == {"status": "ok"}
        wait_until(lambda: anonymous.get("/readyz").status_code == 200, timeout_s=20, what="/readyz ready")
        ready = anonymous.get("/readyz").json()
    assert ready["status"] == "ready"
    assert {c["name"]: c["ok"] for c in ready["checks"]} == {
        "database": True,
        "migrations": True,
        "worker": True,
    }


def test_readiness_fails_when_the_database_is_behind_this_gcwm(service: RunningService) -> None:
    """A database whose recorded migration is older than this gcwm's head: 503, naming both."""
    database = service.home / "gcwm.db"
    with sqlite3.connect(database) as db:
        (head,) = db.execute("select version_num from alembic_version").fetchone()
        db.execute("update alembic_version set version_num = '0001'")
    with service.client(None) as anonymous:
        answer = anonymous.get("/readyz")
    assert answer.status_code == 503
    checks = {c["name"]: c for c in answer.json()["checks"]}
    assert checks["database"]["ok"] and not checks["migrations"]["ok"]
    assert "0001" in checks["migrations"]["detail"] and head in checks["migrations"]["detail"]


def test_the_apis_latency_is_labelled_by_route_template_not_by_raw_path(service: RunningService) -> None:
    """Two jobs' GETs fall into one series named like the route; an unknown path is "unmatched"."""
    with service.client("viewer") as http:
        for job_id in ("00000000-0000-0000-0000-000000000001", "00000000-0000-0000-0000-000000000002"):
            assert http.get(f"/v1/jobs/{job_id}").status_code == 404
        assert http.get("/no/such/path/x1").status_code == 404
        samples = _samples(http.get("/metrics").text)
    by_route = {"method": "GET", "route": "/v1/jobs/{job_id}", "status": "404"}
    assert _value(samples, "gcwm_api_request_duration_seconds_count", **by_route) == 2
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _value(samples, "gcwm_api_request_duration_seconds_count", **unmatched) == 1
    routes = {dict(labels).get("route") for name, labels in samples if name.startswith("gcwm_api_request")}
    assert not any("0000" in (r or "") for r in routes)
