"""The dashboard's security over real HTTP against a live `gcwm serve`: the session cookie, the
per-response CSP, CSRF and origin checks, roles checked on every POST, and escaping."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from gcwm.spec import channel_key
from gcwm.store import Store, connect
from tests.api.flows import CONFIGURATIONS_POST
from tests.conftest import EXAMPLES
from tests.support.dashboard import form_token, logged_in, origin
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until
from tests.support.service import RunningService, start_service

PAGES = ("/", "/jobs", "/audit", "/notifications", "/latency")
BOTH_DATABASES = pytest.mark.parametrize("service", ["sqlite", "postgresql"], indirect=True)
MARKUP = '<img src=x onerror="alert(1)">'


def _session_cookie(response: httpx.Response) -> str:
    [cookie] = [c for c in response.headers.get_list("set-cookie") if c.startswith("gcwm_session=")]
    return cookie


def _submit(client: httpx.Client, service: RunningService, spec: str) -> httpx.Response:
    token = form_token(client.get("/submit").text)
    return client.post("/submit", data={"spec": spec, "csrf": token}, headers={"Origin": origin(service)})


def _job_rows(client: httpx.Client) -> list[tuple[str, str]]:
    """(job id, status) of each row of the jobs page."""
    return re.findall(
        r'data-job="([^"]+)" data-channel="[^"]*" data-status="([^"]+)"', client.get("/jobs").text
    )


def test_login_sets_a_strict_httponly_cookie_and_the_database_keeps_only_its_hash(
    service: RunningService,
) -> None:
    """The session token is in an HttpOnly, SameSite=Strict cookie (not Secure on loopback); the
    session row holds its SHA-256, and the token itself is nowhere in the database files."""
    with httpx.Client(base_url=service.url) as client:
        login = client.get("/login")
        answer = client.post(
            "/login",
            data={"key": service.keys["operator"], "csrf": form_token(login.text)},
            headers={"Origin": service.url},
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        cookie = _session_cookie(answer)
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=strict", "path=/"} <= flags
        assert "secure" not in flags
        token = client.cookies["gcwm_session"]
        assert client.get("/").status_code == 200

    with sqlite3.connect(service.home / "gcwm.db") as db:
        stored = [row[0] for row in db.execute("SELECT token_hash FROM dashboard_sessions")]
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    for path in service.home.glob("gcwm.db*"):
        assert token.encode() not in path.read_bytes()
        assert service.keys["operator"].encode() not in path.read_bytes()


def test_the_session_cookie_is_secure_when_the_dashboard_is_not_on_loopback(service: RunningService) -> None:
    """Served under a real host name (behind a proxy), the cookie is only ever sent over HTTPS."""
    host = "gcwm.example.test"
    with httpx.Client(base_url=service.url, headers={"Host": host}) as client:
        login = client.get("/login")
        assert "secure" in login.headers["set-cookie"].lower()
        # A client keeps a Secure cookie for HTTPS: here it is sent by hand, as the proxy would.
        token = form_token(login.text)
        answer = client.post(
            "/login",
            data={"key": service.keys["viewer"], "csrf": token},
            headers={"Origin": f"https://{host}", "Cookie": f"gcwm_login={token}"},
        )
    assert answer.status_code == 303
    assert "secure" in {part.strip().lower() for part in _session_cookie(answer).split(";")}


def test_pages_need_a_live_session(service: RunningService) -> None:
    """No cookie, a made-up one, or one logged out: pages redirect to the login form and an htmx
    poll is told to go there; a wrong key is refused on the form."""
    with httpx.Client(base_url=service.url) as anonymous:
        for path in PAGES:
            answer = anonymous.get(path)
            assert answer.status_code == 303 and answer.headers["location"] == "/login", path
        poll = anonymous.get("/jobs/rows", headers={"HX-Request": "true"})
        assert poll.status_code == 401 and poll.headers["hx-redirect"] == "/login"
        anonymous.cookies.set("gcwm_session", "made-up")
        assert anonymous.get("/").status_code == 303
        login = anonymous.get("/login")
        wrong = anonymous.post(
            "/login",
            data={"key": "gcwm_not-a-key", "csrf": form_token(login.text)},
            headers={"Origin": service.url},
        )
        assert wrong.status_code == 401 and "gcwm_session=" not in wrong.headers.get("set-cookie", "")

    with logged_in(service, "viewer") as client:
        token = client.cookies["gcwm_session"]
        out = client.post(
            "/logout", data={"csrf": form_token(client.get("/").text)}, headers={"Origin": service.url}
        )
        assert out.status_code == 303 and out.headers["location"] == "/login"
    with httpx.Client(base_url=service.url, cookies={"gcwm_session": token}) as replay:
        assert replay.get("/").status_code == 303


def test_every_page_has_a_fresh_script_nonce_and_no_inline_code(service: RunningService) -> None:
    """Each response's CSP names one nonce that every script tag of the page carries, differs from
    response to response, and allows neither inline code nor eval; the pages use no inline style."""
    with logged_in(service, "operator") as client:
        nonces = set()
        for path in (*PAGES, "/submit", "/login"):
            answer = client.get(path, follow_redirects=True)
            assert answer.status_code == 200, path
            policy = answer.headers["content-security-policy"]
            assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
            [nonce] = re.findall(r"'nonce-([A-Za-z0-9_-]{16,})'", policy)
            nonces.add(nonce)
            scripts = re.findall(r"<script\b[^>]*>", answer.text)
            assert scripts and all(f'nonce="{nonce}"' in s and "src=" in s for s in scripts), path
            assert "<style" not in answer.text and " style=" not in answer.text
            assert answer.headers["x-frame-options"] == "DENY"
            assert answer.headers["cache-control"] == "no-store"
        assert len(nonces) == len(PAGES) + 2
        htmx = client.get("/static/htmx.min.js")
        assert htmx.status_code == 200 and htmx.headers["content-type"].startswith("text/javascript")
        assert htmx.headers["x-content-type-options"] == "nosniff"
        assert client.get("/static/../app.py").status_code == 404


def test_a_post_without_the_csrf_token_or_from_another_site_is_refused(service: RunningService) -> None:
    """A logged-in operator's forms need this session's token and this origin; refused ones queue
    nothing. The login form needs its own token too."""
    with logged_in(service, "operator") as client:
        spec = (EXAMPLES / "channel.yaml").read_text()
        token = form_token(client.get("/submit").text)
        same = {"Origin": origin(service)}
        assert client.post("/submit", data={"spec": spec}, headers=same).status_code == 403
        assert (
            client.post("/submit", data={"spec": spec, "csrf": token[::-1]}, headers=same).status_code == 403
        )
        with logged_in(service, "operator") as other:
            other_token = form_token(other.get("/submit").text)
        assert (
            client.post("/submit", data={"spec": spec, "csrf": other_token}, headers=same).status_code == 403
        )
        forged = client.post(
            "/submit", data={"spec": spec, "csrf": token}, headers={"Origin": "https://evil.test"}
        )
        assert forged.status_code == 403
        assert _job_rows(client) == []

        with httpx.Client(base_url=service.url) as anonymous:
            anonymous.get("/login")
            no_token = anonymous.post("/login", data={"key": service.keys["operator"]}, headers=same)
        assert no_token.status_code == 403 and "gcwm_session=" not in no_token.headers.get("set-cookie", "")


@BOTH_DATABASES
def test_a_viewer_sees_no_operator_buttons_and_its_posts_are_refused(service: RunningService) -> None:
    """Operators submit and get cancel/resume/submit controls; a viewer's pages render none of them,
    and the viewer's own well-formed POSTs are refused with 403 all the same."""
    with logged_in(service, "operator") as operator:
        submitted = _submit(operator, service, (EXAMPLES / "channel.yaml").read_text())
        assert submitted.status_code == 303 and submitted.headers["location"].startswith("/jobs?batch=")
        wait_until(
            lambda: [s for _, s in _job_rows(operator)] == ["succeeded"], what="the submitted job to succeed"
        )
        [(job_id, _)] = _job_rows(operator)
        assert 'href="/submit"' in operator.get("/").text

    with logged_in(service, "viewer") as viewer:
        for path in (*PAGES, f"/jobs/{job_id}"):
            html = viewer.get(path).text
            assert 'href="/submit"' not in html and 'id="submit' not in html, path
            assert not re.search(r'action="/(jobs|notifications)/', html), path
        assert viewer.get("/submit").status_code == 403
        token = form_token(viewer.get("/").text)
        same = {"Origin": origin(service)}
        spec = (EXAMPLES / "channel.yaml").read_text().replace("support-web", "viewer-web")
        assert viewer.post("/submit", data={"spec": spec, "csrf": token}, headers=same).status_code == 403
        assert viewer.post(f"/jobs/{job_id}/resume", data={"csrf": token}, headers=same).status_code == 403
        assert viewer.post(f"/jobs/{job_id}/cancel", data={"csrf": token}, headers=same).status_code == 403
        assert [j for j, _ in _job_rows(viewer)] == [job_id]


def test_markup_in_names_and_input_is_shown_as_text(service: RunningService) -> None:
    """A channel name holding markup (written to the database by another tool), a spec echoed back
    with its error, and a filter value are all escaped, never interpreted."""
    with logged_in(service, "operator") as client:
        org = re.search(r'data-org="([^"]*)"', client.get("/").text)
        assert org is not None
        store = Store(connect(f"sqlite:///{service.home}/gcwm.db"))
        try:
            with store.unit_of_work() as tx:
                spec = {"name": MARKUP, "allowedDomains": ["<b>bold</b>.example.com"]}
                tx.channels.upsert_desired(org.group(1), MARKUP, channel_key(MARKUP), spec, "hash")
        finally:
            store.engine.dispose()
        escaped = "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"
        channels = client.get("/").text
        assert MARKUP not in channels and "<b>" not in channels
        assert escaped in channels and "&lt;b&gt;bold&lt;/b&gt;" in channels

        bad = (EXAMPLES / "channel.yaml").read_text().replace("support-web", MARKUP)
        echoed = _submit(client, service, bad)
        assert echoed.status_code == 422
        assert MARKUP not in echoed.text and escaped in echoed.text

        filtered = client.get("/audit", params={"channel": "</small><script>alert(1)</script>"})
        assert "<script>alert(1)" not in filtered.text and "&lt;script&gt;alert(1)" in filtered.text


def _job_status(client: httpx.Client, job_id: str) -> str:
    found = re.search(r'id="job-detail"[^>]*data-status="([^"]+)"', client.get(f"/jobs/{job_id}/live").text)
    assert found is not None
    return found.group(1)


@BOTH_DATABASES
def test_an_operator_cancels_a_running_job_and_resumes_it_from_its_page(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """The job's page offers Cancel while it runs and Resume once it is cancelled; both forms work."""
    emulator.add_fault("POST", "/api/v2/webdeployments/configurations$", "latency", latency_ms=1500)
    with logged_in(service, "operator") as client:
        assert _submit(client, service, (EXAMPLES / "channel.yaml").read_text()).status_code == 303
        wait_until(lambda: emulator.delayed_requests() == 1, what="the configuration create to be in flight")
        [(job_id, _)] = _job_rows(client)
        page = client.get(f"/jobs/{job_id}").text
        assert f'action="/jobs/{job_id}/cancel"' in page and "/resume" not in page
        same = {"Origin": origin(service)}
        cancel = client.post(f"/jobs/{job_id}/cancel", data={"csrf": form_token(page)}, headers=same)
        assert cancel.status_code == 303 and cancel.headers["location"] == f"/jobs/{job_id}"
        wait_until(lambda: _job_status(client, job_id) == "cancelled", what="the job to stop cancelled")

        page = client.get(f"/jobs/{job_id}").text
        assert f'action="/jobs/{job_id}/resume"' in page and "/cancel" not in page
        resume = client.post(f"/jobs/{job_id}/resume", data={"csrf": form_token(page)}, headers=same)
        assert resume.status_code == 303
        wait_until(lambda: _job_status(client, job_id) == "succeeded", what="the resumed job to succeed")
        again = client.post(f"/jobs/{job_id}/resume", data={"csrf": form_token(page)}, headers=same)
    assert again.status_code == 409 and 'class="problem"' in again.text  # succeeded: nothing to resume
    # Resumed, not started over: the create that was in flight when it was cancelled is the only one.
    assert emulator.calls(CONFIGURATIONS_POST) == 1
    assert len(emulator.configurations()) == 1 and len(emulator.deployments()) == 1


def test_pending_notifications_are_listed_with_a_retry_button_for_operators_only(
    gcwm_env: dict[str, str], tmp_path: Path
) -> None:
    """A channel reporting to an ITSM that cannot be reached leaves its notification pending (or
    dead-lettered); an operator can make it due now from the page, a viewer sees it without the
    button. (A secret the service cannot read is refused at submission: issue 24.)"""
    # The example's target is the local sink on loopback, which the service's (default) policy
    # refuses: the same channel reporting to a name that does not resolve.
    spec = (EXAMPLES / "channel-itsm.yaml").read_text()
    spec = spec.replace("url: http://127.0.0.1:8090/webhook", "url: https://itsm.invalid/webhook")
    env = {**gcwm_env, "GCWM_ITSM_WEBHOOK_SECRET": "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    with start_service(env, tmp_path) as service, logged_in(service, "operator") as operator:
        assert _submit(operator, service, spec).status_code == 303
        wait_until(lambda: [s for _, s in _job_rows(operator)] == ["succeeded"], what="the job to succeed")
        page = operator.get("/notifications").text
        pending = re.findall(r'data-notification="([^"]+)"', page)  # pending, or dead-lettered by now
        assert len(pending) == 1
        retry = operator.post(
            f"/notifications/{pending[0]}/retry",
            data={"csrf": form_token(page)},
            headers={"Origin": origin(service)},
        )
        assert retry.status_code == 303 and retry.headers["location"] == "/notifications"
        assert f'action="/notifications/{pending[0]}/retry"' in operator.get("/notifications").text
        with logged_in(service, "viewer") as viewer:
            page = viewer.get("/notifications").text
    assert f'data-notification="{pending[0]}"' in page and "/retry" not in page


def test_the_audit_page_shows_where_an_edited_log_breaks(service: RunningService) -> None:
    """The page runs the same check as `gcwm audit verify`: intact at first, then, after an entry is
    edited in the database, not intact at that entry's seq."""
    with logged_in(service, "viewer") as client:
        before = client.get("/audit").text
        assert 'data-ok="true"' in before
        seqs = sorted(int(s) for s in re.findall(r"<tr data-action=\"[^\"]+\">\s*<td>(\d+)</td>", before))
        assert len(seqs) >= 3  # one entry per key made for the test
        with sqlite3.connect(service.home / "gcwm.db") as db:
            db.execute(
                "UPDATE audit_entries SET body = replace(body, '\"viewer\"', '\"admin\"') WHERE seq = ?",
                (seqs[0],),
            )
        after = client.get("/audit").text
    assert 'data-ok="false"' in after
    assert f'<span id="first-bad">{seqs[0]}</span>' in after
    cli = service.gcwm("audit", "verify", "--output", "json")
    assert cli.returncode == 1 and f'"firstBad": {seqs[0]}' in cli.stdout
