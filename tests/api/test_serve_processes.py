"""`gcwm serve --workers 2`: two processes on one port share the jobs, and /metrics sums both."""

from __future__ import annotations

from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.api.flows import document, submit, wait_for_job
from tests.support.service import start_service


def _count(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def test_two_processes_work_jobs_and_one_scrape_counts_every_processs_requests(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    with start_service(gcwm_env, tmp_path, extra_args=("--workers", "2")) as service:
        with service.client("operator") as http:
            jobs = [submit(http, document(f"multi-{n}")).json()["jobs"][0] for n in range(4)]
            assert all(wait_for_job(http, j["id"])["status"] == "succeeded" for j in jobs)
        headers = service.headers("viewer")
        # A fresh connection each time, so the kernel hands the requests to both processes.
        for _ in range(40):
            assert (
                httpx.get(f"{service.url}/v1/jobs", headers=headers, params={"limit": 1}).status_code == 200
            )
        scraped = httpx.get(f"{service.url}/metrics", headers=headers).text
    listed = {"method": "GET", "route": "/v1/jobs", "status": "200"}
    assert _count(scraped, "gcwm_api_request_duration_seconds_count", **listed) == 40
    assert _count(scraped, "gcwm_jobs", status="succeeded") == 4
