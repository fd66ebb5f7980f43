"""The dashboard in headless Chromium against a live `gcwm serve`: an operator logs in, submits a
channel, watches it become Active, opens its audit entries and the latency charts, and the browser
reports no CSP violation on the way; a viewer gets no submit button.

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`); skips,
saying why, without them. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest

from tests.conftest import EXAMPLES
from tests.support.browser import Browser, ConsoleMessage, Page, chromium, expect, screenshot
from tests.support.polling import wait_until
from tests.support.service import RunningService, start_service

WAIT_MS = 30_000

# Reports each CSP violation to the test through a binding (Playwright injects this outside the page's
# CSP, so the listener itself needs no nonce).
_LISTEN = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.gcwmViolation(`${e.violatedDirective} blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}`);
});
"""


@dataclass
class Session:
    """A browser session on the dashboard, with what its console said and the CSP violations seen."""

    page: Page
    console: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_problems(self) -> list[str]:
        said = [m for m in self.console if "Content Security Policy" in m or "Content-Security-Policy" in m]
        return said + self.violations + self.errors

    def screenshot(self, name: str) -> None:
        screenshot(self.page, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """`gcwm serve` with its embedded emulator, as a first-time user starts it."""
    with start_service(None, tmp_path_factory.mktemp("dashboard")) as running:
        yield running


@contextmanager
def logged_in(browser: Browser, service: RunningService, role: str) -> Iterator[Session]:
    """A fresh browser context that logged in through the login form with the key of `role`."""
    context = browser.new_context(viewport={"width": 1240, "height": 820})
    page = context.new_page()
    seen = Session(page)

    def on_console(message: ConsoleMessage) -> None:
        seen.console.append(message.text)

    def on_violation(description: str) -> None:
        seen.violations.append(description)

    page.expose_function("gcwmViolation", on_violation)
    page.add_init_script(_LISTEN)
    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    page.set_default_timeout(WAIT_MS)
    try:
        page.goto(f"{service.url}/")
        expect(page).to_have_url(f"{service.url}/login")
        page.fill("#key", service.keys[role])
        page.click("button:has-text('Log in')")
        expect(page).to_have_url(f"{service.url}/")
        yield seen
    finally:
        context.close()


def test_an_operator_submits_a_channel_and_watches_it_become_active(
    browser: Browser, service: RunningService
) -> None:
    """Submit from the form; the jobs table updates itself (htmx) until the job succeeded; the
    channel's deployment is Active; its audit entries verify; the latency page draws its steps; and
    not one CSP violation is reported."""
    with logged_in(browser, service, "operator") as session:
        page = session.page
        polls: list[str] = []
        page.on("request", lambda request: polls.append(request.url) if "/jobs/rows" in request.url else None)
        page.click("#nav-submit")
        page.fill("#spec", (EXAMPLES / "channel.yaml").read_text())
        page.click("#submit")
        expect(page).to_have_url(re.compile(r"/jobs\?batch=[0-9a-f]+$"))
        row = page.locator('tr[data-channel="support-web"]')
        # No reload: only the htmx poll of the rows can bring the final status into this page.
        expect(row).to_have_attribute("data-status", "succeeded")
        assert polls, "the jobs table never polled for progress"
        session.screenshot("dashboard-jobs.png")

        row.locator("a").first.click()
        expect(page.locator("#job-detail")).to_have_attribute("data-status", "succeeded")
        expect(page.locator('#steps tr[data-step="deployment_active"]')).to_have_count(1)
        session.screenshot("dashboard-job.png")

        page.click("nav >> text=Channels")
        channel = page.locator('tr[data-channel="support-web"]')
        expect(channel.locator(".deployment")).to_have_text("Active")
        session.screenshot("dashboard-channels.png")

        channel.locator("a:has-text('audit')").click()
        # The service signs the chain's head every 2 s: the job's newest entries may wait for it.
        wait_until(
            lambda: page.reload() is not None and page.locator("#verify").get_attribute("data-ok") == "true",
            timeout_s=15,
            what="the audit chain to verify under a signed head",
        )
        expect(page.locator('#audit tr[data-action="channel.created"]')).to_have_count(1)
        session.screenshot("dashboard-audit.png")

        page.click("nav >> text=Latency")
        chart = page.locator('figure.chart[data-step="deployment_active"]')
        expect(chart.locator("svg circle.p95")).not_to_have_count(0)
        session.screenshot("dashboard-latency.png")

        assert session.csp_problems() == []


def test_a_viewer_gets_no_submit_button(browser: Browser, service: RunningService) -> None:
    """A viewer reads the same pages without any operator control, and without CSP violations."""
    with logged_in(browser, service, "viewer") as session:
        page = session.page
        expect(page.locator("#channels, .empty").first).to_be_visible()
        expect(page.locator("#nav-submit")).to_have_count(0)
        expect(page.locator("#submit-channels")).to_have_count(0)
        page.click("nav >> text=Jobs")
        expect(page.locator("#jobs")).to_be_visible()
        expect(page.locator("button:has-text('Cancel'), button:has-text('Resume')")).to_have_count(0)
        session.screenshot("dashboard-viewer.png")
        assert session.csp_problems() == []
