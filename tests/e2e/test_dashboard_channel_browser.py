"""The dashboard's channel page and its layout on a phone, in headless Chromium against a live `gcwm
serve`: the page shows what `gcwm channels show` prints, and no page is wider than a 390 px screen
(issue 24, items 3 and 10).

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`); skips,
saying why, without them. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx
import pytest
import yaml

from tests.api.flows import channel, submit, wait_for_job
from tests.conftest import EXAMPLES
from tests.support.browser import Browser, ConsoleMessage, Page, chromium, expect, screenshot
from tests.support.service import RunningService, start_service

WAIT_MS = 30_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1240, "height": 900}


@dataclass
class Session:
    """A logged-in browser page, with what its console said and the script errors it raised."""

    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_problems(self) -> list[str]:
        said = [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        return said + self.errors


@dataclass
class Provisioned:
    service: RunningService
    channel: dict[str, object]
    job_id: str


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def provisioned(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Provisioned]:
    """`gcwm serve` with its embedded emulator, and two channels an operator key submitted: the
    README's example (support-web) and another."""
    example = yaml.safe_load((EXAMPLES / "channel.yaml").read_text())["channels"]
    spec = {"channels": [*example, channel("sales-web")]}
    with start_service(None, tmp_path_factory.mktemp("dashboard-channel")) as service:
        with service.client("operator") as http:
            queued = submit(http, spec).json()["jobs"]
            for job in queued:
                assert wait_for_job(http, job["id"])["status"] == "succeeded"
            shown = http.get("/v1/channels/support-web").json()
        yield Provisioned(service, shown, next(j["id"] for j in queued if j["channel"] == "support-web"))


@contextmanager
def logged_in(
    browser: Browser, service: RunningService, role: str, viewport: dict[str, int]
) -> Iterator[Session]:
    """A fresh browser context of this size that logged in through the login form."""
    context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
    page = context.new_page()
    seen = Session(page)

    def on_console(message: ConsoleMessage) -> None:
        seen.console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(f"{service.url}/login")
        page.fill("#key", service.keys[role])
        page.click("button:has-text('Log in')")
        expect(page).to_have_url(f"{service.url}/")
        yield seen
    finally:
        context.close()


def test_the_channel_page_shows_ids_snippet_policy_last_job_and_audit(
    browser: Browser, provisioned: Provisioned
) -> None:
    """From the channels list to the channel's page: its ids, the snippet and policy as stored, its last
    job (by the key's name), its audit entries, and a link to its jobs only; no CSP violation."""
    shown = provisioned.channel
    with logged_in(browser, provisioned.service, "viewer", DESKTOP) as session:
        page = session.page
        page.click('tr[data-channel="support-web"] td.name a')
        expect(page).to_have_url(f"{provisioned.service.url}/channels/support-web")
        expect(page.locator("#deployment-id")).to_have_text(str(shown["deploymentId"]))
        expect(page.locator("#configuration-id")).to_have_text(str(shown["configurationId"]))
        assert page.locator("#snippet").inner_text() == shown["snippet"]
        assert page.locator("#proposed-csp").inner_text() == shown["proposedCsp"]
        last_job = page.locator("#last-job")
        expect(last_job.locator("a")).to_have_attribute("href", f"/jobs/{provisioned.job_id}")
        expect(last_job.locator(".actor")).to_contain_text("test-operator")
        expect(page.locator('#channel-audit tr[data-action="channel.created"]')).to_have_count(1)
        screenshot(page, "dashboard-channel.png")

        page.click("a:has-text('its jobs')")
        expect(page.locator("#jobs tbody tr")).to_have_count(1)
        expect(page.locator('#jobs tr[data-channel="support-web"]')).to_have_count(1)
        assert session.csp_problems() == []


def test_no_dashboard_page_is_wider_than_a_390_px_phone(browser: Browser, provisioned: Provisioned) -> None:
    """At 390 px every page fits the screen (wide tables scroll inside their own box)."""
    service = provisioned.service
    pages = [
        "/",
        "/channels/support-web",
        "/jobs",
        "/jobs?channel=support-web",
        f"/jobs/{provisioned.job_id}",
        "/audit",
        "/notifications",
        "/latency",
        "/submit",
    ]
    with httpx.Client(base_url=service.url) as anonymous:
        assert anonymous.get("/login").status_code == 200
    with logged_in(browser, service, "operator", PHONE) as session:
        page = session.page
        widths = {}
        for path in pages:
            page.goto(f"{service.url}{path}")
            widths[path] = page.evaluate("document.documentElement.scrollWidth")
            if path == "/channels/support-web":
                screenshot(page, "dashboard-channel-390px.png")
            if path == "/jobs":
                screenshot(page, "dashboard-jobs-390px.png")
        assert {p: w for p, w in widths.items() if w > PHONE["width"]} == {}
        assert session.csp_problems() == []
