"""`gcwm preview` in headless Chromium under policies that block the page's own script or the snippet:
the violations the browser itself reports reach the preview server, are printed by the command and
listed on the page, which says how it knows; and the stand-in launcher wears the channel's colour
and labels (issue 24, item 11).

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`); skips,
saying why, without them. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.conftest import ROOT, gcwm_command
from tests.e2e.conftest import run_gcwm
from tests.support.browser import Browser, ConsoleMessage, Page, chromium, expect, screenshot
from tests.support.polling import wait_until
from tests.support.service import free_port

LAUNCHER = "#gcwm-messenger-standin"
WAIT_MS = 15_000
CHANNEL = "acme-web"
SPEC = f"""
channels:
  - name: {CHANNEL}
    routingQueue: Support
    inboundMessageFlow: Support Messaging Flow
    allowedDomains: [www.example.com]
    messenger:
      primaryColor: "#0B6E4F"
      languages: [en-us, fr]
      defaultLanguage: en-us
      labels:
        en-us:
          MessengerLauncherButtonText: Talk to Acme
          MessengerHomeHeaderTitle: Acme support
          MessengerHomeHeaderSubTitle: We answer within minutes
        fr:
          MessengerLauncherButtonText: Parler à Acme
"""
# The issue's example: the snippet is an inline script, which `script-src 'self'` blocks.
SELF_ONLY = "default-src 'self'; script-src 'self'"


@dataclass
class Preview:
    """A running `gcwm preview`: its URL and what it has said on stderr so far."""

    url: str
    lines: queue.Queue[str | None]
    said: list[str] = field(default_factory=list)

    def wait_for(self, text: str, *, timeout_s: float = 30) -> str:
        """The first stderr line holding `text`; fails with all that was said after `timeout_s`."""
        for line in self.said:
            if text in line:
                return line
        deadline = time.monotonic() + timeout_s
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                break
            self.said.append(line)
            if text in line:
                return line
        pytest.fail(f"gcwm preview never said {text!r}; it said: {''.join(self.said)!r}")

    def reports(self) -> dict[str, Any]:
        answer: dict[str, Any] = httpx.get(f"{self.url}csp-reports", timeout=10).json()
        return answer


@contextmanager
def gcwm_preview(args: list[str], env: dict[str, str]) -> Iterator[Preview]:
    """`gcwm preview ...` as a process, read line by line; stopped with Ctrl-C after."""
    process = subprocess.Popen(
        [*gcwm_command(), "preview", *args],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = process.stderr
    assert stderr is not None
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        with stderr:
            for line in stderr:
                lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        preview = Preview("", lines)
        preview.url = (
            preview.wait_for("gcwm preview: http", timeout_s=60).split("gcwm preview: ", 1)[1].strip()
        )
        yield preview
        process.send_signal(signal.SIGINT)
        process.wait(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
        reader.join(timeout=15)


@dataclass
class Visit:
    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def visit(browser: Browser, url: str) -> Iterator[Visit]:
    """Open `url` in a fresh context, recording console messages and page errors."""
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = context.new_page()
    seen = Visit(page)

    def on_console(message: ConsoleMessage) -> None:
        seen.console.append(message.text)

    page.on("console", on_console)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))
    try:
        page.goto(url)
        yield seen
    finally:
        context.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A channel with its own colour and labels, provisioned against the embedded emulator."""
    where = tmp_path_factory.mktemp("preview-reports")
    spec = where / "acme.yaml"
    spec.write_text(SPEC)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    env["GCWM_HOME"] = str(where / "home")
    result = run_gcwm(["provision", str(spec)], env, cwd=ROOT)
    assert result.code == 0, result.stderr
    return env


def test_the_issues_self_only_policy_blocks_the_snippet_and_the_browsers_reports_say_so(
    browser: Browser, home: dict[str, str]
) -> None:
    """Under `default-src 'self'; script-src 'self'` the page's own script runs (it is same-origin)
    but the inline snippet does not: the browser's report-uri report reaches the preview server, the
    command prints it, and the page lists it live and says the launcher never appeared."""
    args = [CHANNEL, "--port", str(free_port()), "--csp", SELF_ONLY]
    with gcwm_preview(args, home) as preview, visit(browser, preview.url) as seen:
        page = seen.page
        item = page.locator('#csp-violations li[data-directive^="script-src"][data-via~="report-uri"]')
        expect(item.first).to_be_visible(timeout=WAIT_MS)
        expect(page.locator("#page-script")).to_have_attribute("data-state", "polling")
        expect(page.locator("#messenger-state")).to_have_attribute("data-state", "absent", timeout=WAIT_MS)
        expect(page.locator(LAUNCHER)).to_have_count(0)
        expect(page.locator("#csp-violations-none")).to_be_hidden()
        screenshot(page, "preview-blocked.png")
        line = preview.wait_for("CSP violation")
        reported = preview.reports()["violations"]
    assert "(report-uri): script-src-elem blocked inline" in line, line
    assert [v["directive"] for v in reported] == ["script-src-elem"]
    assert reported[0]["blocked"] == "inline" and "report-uri" in reported[0]["via"]
    assert seen.errors == []


def test_a_policy_that_blocks_the_pages_own_script_still_gets_every_report_to_the_terminal(
    browser: Browser, home: dict[str, str]
) -> None:
    """Under `default-src 'none'` nothing on the page runs: the page says its script is blocked, the
    browser still reports both blocked scripts to the server and the command prints them, and a
    reload lists them as served."""
    args = [CHANNEL, "--port", str(free_port()), "--csp", "default-src 'none'"]
    with gcwm_preview(args, home) as preview, visit(browser, preview.url) as seen:
        page = seen.page
        wait_until(
            lambda: (
                {v["blocked"] for v in preview.reports()["violations"]}
                >= {"inline", preview.url + "preview.js"}
            ),
            timeout_s=15,
            what="the browser's reports of both blocked scripts",
        )
        expect(page.locator("#page-script")).to_have_attribute("data-state", "blocked")
        preview.wait_for(f"script-src-elem blocked {preview.url}preview.js")
        preview.wait_for("script-src-elem blocked inline")
        page.reload()
        listed = page.locator('#csp-violations li[data-directive="script-src-elem"]')
        expect(listed).to_have_count(2)
        screenshot(page, "preview-script-blocked.png")


def test_the_stand_in_launcher_wears_the_channels_colour_and_labels(
    browser: Browser, home: dict[str, str]
) -> None:
    """Under gcwm's own policy the stand-in connects, in the channel's primaryColor with its
    MessengerLauncherButtonText; a click opens a panel headed by its home header title; no violation."""
    with (
        gcwm_preview([CHANNEL, "--port", str(free_port())], home) as preview,
        visit(browser, preview.url) as seen,
    ):
        page = seen.page
        launcher = page.locator(f"{LAUNCHER}[data-state=connected]")
        expect(launcher).to_have_text("Talk to Acme", timeout=WAIT_MS)
        expect(launcher).to_have_css("background-color", "rgb(11, 110, 79)")
        expect(page.locator("#messenger-state")).to_have_attribute("data-state", "connected")
        launcher.click()
        expect(page.locator("#gcwm-messenger-standin-title")).to_have_text("Acme support")
        expect(page.locator("#gcwm-messenger-standin-subtitle")).to_have_text("We answer within minutes")
        expect(page.locator("#page-script")).to_have_attribute("data-state", "events")
        screenshot(page, "preview-connected-labels.png")
        assert page.locator("#csp-violations li").count() == 0
        assert preview.reports()["violations"] == []
        assert [m for m in seen.console if "Content Security Policy" in m] == []
        assert seen.errors == []
