"""`gcwm` as a user runs it when Genesys (or a gateway in front of it) answers 2xx with a page
that is not JSON: a one-line error, no traceback, no echo of the page."""

from __future__ import annotations

import json

from tests.conftest import EXAMPLES
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator


def test_unreadable_login_answer_is_a_one_line_error(
    gcwm_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """A login answered with a page: non-zero exit, one `error:` line, no traceback, one JSON document."""
    emulator.add_fault("POST", "/oauth/token", "malformed_answer")
    result = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], gcwm_env)
    assert result.code != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert "POST /oauth/token answered 200" in errors[0]
    assert "with a body gcwm cannot read" in errors[0]
    assert "Traceback" not in result.stderr + result.stdout
    assert "upstream sent a page" not in result.stderr + result.stdout
    document = json.loads(result.stdout)  # exactly one document: json.loads refuses trailing text
    assert document["error"] == "GenesysBadAnswer", document
    assert emulator.configurations() == []
