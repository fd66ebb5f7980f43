"""The CSP gcwm proposes matches what the snippet loads, and findings are about the user's site, never
about the emulator standing in for Genesys (issue 24, item 4). Real `gcwm` processes, no credentials."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

from tests.conftest import EXAMPLES
from tests.e2e.conftest import run_gcwm


def _no_credentials(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GCWM_", "GENESYSCLOUD_"))}
    return {**env, "GCWM_HOME": str(tmp_path / "home"), **extra}


def test_csp_for_a_spec_with_a_region_needs_no_credentials_and_names_that_regions_hosts(
    tmp_path: Path,
) -> None:
    result = run_gcwm(
        ["csp", str(EXAMPLES / "channel.yaml"), "--region", "eu-west-1", "--output", "json"],
        _no_credentials(tmp_path),
    )
    assert result.code == 0, result.stderr
    (channel,) = json.loads(result.stdout)["channels"]
    assert "https://apps.mypurecloud.ie" in channel["csp"] and "127.0.0.1" not in channel["csp"]
    assert "embedded emulator" not in result.stderr  # nothing was started to answer


def test_without_credentials_the_plan_the_snippet_and_the_stored_csp_agree_on_the_region(
    tmp_path: Path,
) -> None:
    """The embedded emulator stands in for a region (GENESYSCLOUD_REGION, else us-east-1): its snippet
    loads Messenger from there, and the CSP proposed and stored allows exactly there; no finding is
    about the emulator's loopback address."""
    env = _no_credentials(tmp_path, GENESYSCLOUD_REGION="ap-southeast-2")
    planned = json.loads(run_gcwm(["plan", str(EXAMPLES / "channel.yaml"), "--output", "json"], env).stdout)
    assert planned["org"]["region"] == "mypurecloud.com.au"  # its target is the emulator's address
    assert "127.0.0.1" not in json.dumps(planned.get("findings", [])), planned
    provisioned = run_gcwm(["provision", str(EXAMPLES / "channel.yaml"), "--output", "json"], env)
    assert provisioned.code == 0, provisioned.stderr
    (channel,) = json.loads(provisioned.stdout)["channels"]
    assert "apps.mypurecloud.com.au" in channel["snippet"]
    assert "https://apps.mypurecloud.com.au" in channel["csp"] and "127.0.0.1" not in channel["csp"]
    assert not [f for f in channel["findings"] if "127.0.0.1" in json.dumps(f)], channel["findings"]
    db = tmp_path / "home" / "gcwm.db"
    (stored,) = sqlite3.connect(db).execute("select proposed_csp from channels").fetchone()
    assert stored == channel["csp"]
