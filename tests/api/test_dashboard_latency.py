"""The dashboard's latency page over real HTTP against a live `gcwm serve`: after a job ran, a chart per
Genesys operation its calls went to, next to the step charts."""

from __future__ import annotations

import html
import re

import httpx

from tests.conftest import EXAMPLES
from tests.support.dashboard import form_token, logged_in, origin
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until
from tests.support.service import RunningService

DEPLOY = "POST /api/v2/webdeployments/deployments"


def _operation_charts(client: httpx.Client) -> dict[str, int]:
    """Operation -> sample count, of each operation chart on the latency page."""
    page = client.get("/latency?window=1h")
    assert page.status_code == 200
    found = re.findall(
        r'data-operation="([^"]+)">\s*<figcaption><code>[^<]*</code> · (\d+) sample', page.text
    )
    return {html.unescape(op): int(n) for op, n in found}


def _job_statuses(client: httpx.Client) -> list[str]:
    return re.findall(
        r'data-job="[^"]+" data-channel="[^"]*" data-status="([^"]+)"', client.get("/jobs").text
    )


def test_the_latency_page_charts_each_genesys_operation_a_job_called(
    service: RunningService, emulator: RunningEmulator
) -> None:
    """No operation chart before any job; once a submitted channel's job succeeded, a chart per operation,
    the deployment create's holding exactly the one create the emulator answered."""
    with logged_in(service, "operator") as client:
        assert _operation_charts(client) == {}
        token = form_token(client.get("/submit").text)
        spec = (EXAMPLES / "channel.yaml").read_text()
        answer = client.post(
            "/submit", data={"spec": spec, "csrf": token}, headers={"Origin": origin(service)}
        )
        assert answer.status_code == 303
        wait_until(lambda: _job_statuses(client) == ["succeeded"], what="the job to succeed")
        charts = _operation_charts(client)
        page = client.get("/latency?window=1h").text
    assert charts[DEPLOY] == emulator.calls(DEPLOY) == 1
    assert 'data-step="deployment_active"' in page  # the steps are still charted alongside
