"""Messenger preview in headless Chromium: the page embeds the snippet under a CSP, the emulator's
stand-in Messenger loads or is blocked, and the browser's own CSP reports say which.

Needs Debian's /usr/bin/chromium and the playwright package (never `playwright install`); skips,
saying why, without them. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import os
import queue
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import pytest
import uvicorn

from gcwm.emulator import EmbeddedEmulator, EmulatorConfig
from gcwm.genesys.messenger import origin_needs
from gcwm.policy.csp import Policy, merge, strict_base
from gcwm.preview import NONCE_PLACEHOLDER, preview_app
from tests.conftest import FAST, ROOT, gcwm_command
from tests.e2e.conftest import run_gcwm
from tests.emulator.harness import Emulator
from tests.emulator.steps import DEPLOYMENTS, deployment, wait_until_active
from tests.support.browser import Browser, ConsoleMessage, Page, chromium, screenshot
from tests.support.polling import wait_until

LAUNCHER = "#gcwm-messenger-standin"
WAIT_MS = 15_000


@dataclass
class Visit:
    """A loaded preview page, with what its console said and the script errors it raised."""

    page: Page
    console: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def csp_console_messages(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m]

    def listed_violations(self) -> list[dict[str, str]]:
        items = self.page.locator("#csp-violations li")
        return [
            {
                "directive": items.nth(i).get_attribute("data-directive") or "",
                "blocked": items.nth(i).get_attribute("data-blocked-uri") or "",
            }
            for i in range(items.count())
        ]

    def screenshot(self, name: str) -> None:
        screenshot(self.page, name)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright."""
    with chromium() as launched:
        yield launched


@contextmanager
def visit(browser: Browser, url: str) -> Iterator[Visit]:
    """Open `url` in a fresh browser context, recording console messages and page errors."""
    context = browser.new_context()
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


@dataclass
class EmulatedDeployment:
    url: str
    snippet: str


@pytest.fixture(scope="module")
def emulated_deployment() -> Iterator[EmulatedDeployment]:
    """An emulator that serves Messenger itself, with one Active deployment."""
    config = EmulatorConfig(**FAST, self_hosted_messenger=True)  # type: ignore[arg-type]
    with EmbeddedEmulator(config) as server:
        with Emulator(server.url, config, server).client() as api:
            made = deployment(api)
            active = wait_until_active(api, f"{DEPLOYMENTS}/{made['id']}")
        yield EmulatedDeployment(server.url, str(active["snippet"]))


@contextmanager
def preview_server(snippet: str, csp: str) -> Iterator[str]:
    """preview_app served by uvicorn in a thread on a free loopback port; yields the page's URL."""
    sock = socket.create_server(("127.0.0.1", 0))
    config = uvicorn.Config(preview_app(snippet, csp), log_level="warning", access_log=False, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        wait_until(lambda: server.started or not thread.is_alive(), timeout_s=10, what="the preview server")
        assert server.started, "the preview server did not start"
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def narrow_policy(emulator_url: str) -> Policy:
    """gcwm's narrow policy with the emulator as the region's hosts (nonce placeholder kept)."""
    return merge(strict_base(NONCE_PLACEHOLDER), origin_needs(emulator_url))


def without_in_connect_src(policy: Policy, *removed: str) -> str:
    """The policy with the given sources taken out of connect-src ('self' left, so it is not empty)."""
    directives = dict(policy.directives)
    kept = tuple(s for s in directives["connect-src"] if s not in removed)
    directives["connect-src"] = kept or ("'self'",)
    return Policy(directives).serialize()


def test_stand_in_messenger_connects_under_the_narrow_policy(
    browser: Browser, emulated_deployment: EmulatedDeployment
) -> None:
    """gcwm's narrow policy for the emulator's origin lets the snippet load Messenger: no violation."""
    policy = narrow_policy(emulated_deployment.url).serialize()
    with preview_server(emulated_deployment.snippet, policy) as url, visit(browser, url) as seen:
        seen.page.wait_for_selector(f"{LAUNCHER}[data-state=connected]", timeout=WAIT_MS)
        seen.screenshot("preview-connected.png")
        assert seen.page.locator(LAUNCHER).inner_text() == "Chat with us"
        assert seen.page.evaluate("window.gcwmMessengerStandIn.origin") == emulated_deployment.url
        assert seen.csp_console_messages() == []
        assert seen.listed_violations() == []
        assert seen.errors == []


@pytest.mark.parametrize(
    ("case", "removed"),
    [("origin", ("http", "ws")), ("socket", ("ws",))],
    ids=["emulator-origin-removed", "only-its-websocket-removed"],
)
def test_stand_in_messenger_is_blocked_without_the_region_host_in_connect_src(
    browser: Browser, emulated_deployment: EmulatedDeployment, case: str, removed: tuple[str, ...]
) -> None:
    """Without the emulator (the region's host) in connect-src, the fetch or WebSocket is blocked and
    the violation is reported, by the browser and on the page."""
    host = emulated_deployment.url.split("://", 1)[1]
    narrow = narrow_policy(emulated_deployment.url)
    policy = without_in_connect_src(narrow, *(f"{scheme}://{host}" for scheme in removed))
    assert policy != narrow.serialize()
    with preview_server(emulated_deployment.snippet, policy) as url, visit(browser, url) as seen:
        seen.page.wait_for_selector(f"{LAUNCHER}[data-state=blocked]", timeout=WAIT_MS)
        seen.page.wait_for_selector("#csp-violations li[data-directive^=connect-src]", timeout=WAIT_MS)
        seen.screenshot(f"preview-blocked-{case}.png")
        violations = seen.listed_violations()
        assert violations and all(v["directive"].startswith("connect-src") for v in violations)
        assert any(host in v["blocked"] for v in violations), violations
        assert any("connect-src" in m for m in seen.csp_console_messages()), seen.console
        assert seen.errors == []


# --- the `gcwm preview` command -----------------------------------------------------------------


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


def wait_for_line(lines: queue.Queue[str | None], prefix: str, *, timeout_s: float = 60) -> str:
    """The rest of the first line starting with `prefix`; fails with what was said, after `timeout_s`
    or when the stream ends (None)."""
    said: list[str] = []
    deadline = time.monotonic() + timeout_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if line is None:
            break
        said.append(line)
        if line.startswith(prefix):
            return line[len(prefix) :].strip()
    pytest.fail(f"no {prefix!r} line on stderr; it said: {''.join(said)!r}")


@contextmanager
def gcwm_preview(args: list[str], env: dict[str, str]) -> Iterator[str]:
    """`gcwm preview ...` as a process; yields the URL it announces; stopped with Ctrl-C after."""
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

    def pump() -> None:  # read stderr as it comes, so the test can wait for a line with a deadline
        with stderr:
            for line in stderr:
                lines.put(line)
        lines.put(None)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        yield wait_for_line(lines, "gcwm preview: ")
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            pytest.fail("gcwm preview was still serving 15 s after Ctrl-C (SIGINT)")
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=15)
        reader.join(timeout=15)


@pytest.fixture(scope="module")
def provisioned_home(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """examples/channel.yaml provisioned against the embedded emulator (no credentials)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    env["GCWM_HOME"] = str(tmp_path_factory.mktemp("preview") / "home")
    result = run_gcwm(["provision", "examples/channel.yaml"], env, cwd=ROOT)
    assert result.code == 0, result.stderr
    return env


def test_gcwm_preview_serves_the_channel_under_its_proposed_policy(
    browser: Browser, provisioned_home: dict[str, str]
) -> None:
    """`gcwm preview support-web`: the page connects the stand-in Messenger with no CSP violation."""
    with (
        gcwm_preview(["support-web", "--port", str(free_port())], provisioned_home) as url,
        visit(browser, url) as seen,
    ):
        assert url.startswith("http://127.0.0.1:")
        seen.page.wait_for_selector(f"{LAUNCHER}[data-state=connected]", timeout=WAIT_MS)
        seen.screenshot("gcwm-preview-connected.png")
        assert seen.csp_console_messages() == []
        assert seen.listed_violations() == []
        assert seen.errors == []


def test_gcwm_preview_with_a_policy_lacking_the_emulator_reports_the_violation(
    browser: Browser, provisioned_home: dict[str, str]
) -> None:
    """`gcwm preview --csp POLICY` serves that policy; without the emulator in connect-src Messenger
    is blocked and the violation is reported."""
    policy = merge(strict_base(NONCE_PLACEHOLDER), {"connect-src": ["'self'"]}).serialize()
    args = ["support-web", "--port", str(free_port()), "--csp", policy]
    with gcwm_preview(args, provisioned_home) as url, visit(browser, url) as seen:
        seen.page.wait_for_selector(f"{LAUNCHER}[data-state=blocked]", timeout=WAIT_MS)
        seen.page.wait_for_selector("#csp-violations li[data-directive^=connect-src]", timeout=WAIT_MS)
        seen.screenshot("gcwm-preview-blocked.png")
        assert any("connect-src" in m for m in seen.csp_console_messages()), seen.console
        assert seen.errors == []
