"""The dashboard over real HTTP against a live `gcwm serve`: a channel's page, the jobs page filtered
by channel, progress as "N of M steps", and actors shown by their key's name (issue 24, items 3, 10)."""

from __future__ import annotations

import re

from tests.api.flows import DEPLOYMENTS_POST, document, submit, wait_for_job
from tests.support.dashboard import logged_in
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until
from tests.support.service import RunningService


def test_a_channels_page_shows_its_ids_snippet_policy_last_job_and_audit(service: RunningService) -> None:
    """/channels/{name} (any case) holds what `gcwm channels show` prints; an unknown name is a 404 page."""
    with service.client("operator") as http:
        job = wait_for_job(http, submit(http, document("page-web")).json()["jobs"][0]["id"])
        shown = http.get("/v1/channels/page-web").json()
    assert job["status"] == "succeeded"

    with logged_in(service, "viewer") as browser:
        page = browser.get("/channels/PAGE-web")
        missing = browser.get("/channels/never-was")
        listing = browser.get("/").text

    assert page.status_code == 200
    html = page.text
    assert shown["deploymentId"] in html and shown["configurationId"] in html
    assert 'id="snippet"' in html and "&lt;script" in html  # the snippet, escaped, to copy
    assert shown["proposedCsp"].replace("'", "&#39;") in html
    assert f'href="/jobs/{job["id"]}"' in html
    assert 'data-action="channel.created"' in html and 'data-action="step.done"' not in html
    assert missing.status_code == 404 and "never-was" in missing.text
    assert 'href="/channels/page-web"' in listing and 'href="/jobs?channel=page-web"' in listing


def test_the_jobs_page_filters_by_channel_and_names_the_keys_that_acted(service: RunningService) -> None:
    """?channel= lists that channel's jobs only (names compared case-insensitively); the actor is the
    key's name, its id on hover."""
    with service.client("operator") as http:
        for queued in submit(http, document("one-web", "two-web")).json()["jobs"]:
            wait_for_job(http, queued["id"])
    operator = service.key_id("operator")

    with logged_in(service, "viewer") as browser:
        everything = browser.get("/jobs").text
        one = browser.get("/jobs", params={"channel": "ONE-web"}).text
        rows = browser.get("/jobs/rows", params={"channel": "one-web"}).text

    assert set(re.findall(r'data-channel="([^"]+)"', everything)) == {"one-web", "two-web"}
    assert set(re.findall(r'data-channel="([^"]+)"', one)) == {"one-web"}
    assert set(re.findall(r'data-channel="([^"]+)"', rows)) == {"one-web"}
    assert 'value="ONE-web"' in one  # the filter form keeps what was asked
    assert f'title="API key {operator}">test-operator' in everything
    assert f"<code>{operator}</code>" not in everything


def test_a_running_jobs_progress_says_how_many_of_its_steps_are_done(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """With the deployment's create held, a new channel's job has done 3 of its 5 steps (planned,
    configuration created and published; deployment created and active to come), on the jobs page
    and the job's page."""
    emulator.add_fault("POST", "/api/v2/webdeployments/deployments$", "latency", latency_ms=4000)
    with service.client("operator") as http:
        job_id = submit(http, document("slow-web")).json()["jobs"][0]["id"]
        wait_until(lambda: emulator.delayed_requests() == 1, what="the deployment create to be held")
        with logged_in(service, "viewer") as browser:
            listing = browser.get("/jobs").text
            detail = browser.get(f"/jobs/{job_id}").text
        emulator.release_held()
        assert wait_for_job(http, job_id)["status"] == "succeeded"
    assert emulator.calls(DEPLOYMENTS_POST) >= 1
    assert 'data-done="3" data-total="5">3 of 5 steps' in listing
    assert "3 of 5 steps" in detail
