"""Attachments as Genesys governs them (issue 21): a file type that is not a media type, or a size
over the 25 MB cap, is refused before any request; attachments left on the org's allow-everything
default profile (or `*/*`) are a finding. The real `gcwm` against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator


def _spec(tmp_path: Path, upload: str) -> Path:
    path = tmp_path / "channel.yaml"
    path.write_text(
        "channels:\n  - name: files-web\n    routingQueue: Support\n"
        "    inboundMessageFlow: Support Messaging Flow\n    allowedDomains: [example.com]\n"
        f"    messenger:\n      fileUpload: {upload}\n"
    )
    return path


@pytest.mark.parametrize(
    ("upload", "field"),
    [
        ("{enabled: true, fileTypes: [pdf]}", "messenger.fileUpload.fileTypes[0]"),
        (
            "{enabled: true, fileTypes: [image/png], maxFileSizeKB: 30000}",
            "messenger.fileUpload.maxFileSizeKB",
        ),
    ],
)
def test_a_bad_file_type_or_size_is_exit_2_naming_the_field_before_any_request(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path, upload: str, field: str
) -> None:
    before = emulator.stats()["requests"]
    result = run_gcwm(["provision", str(_spec(tmp_path, upload)), "--output", "json"], gcwm_env)
    assert result.code == 2, result.stderr
    assert field in result.stdout and "channel.yaml" in result.stdout
    assert emulator.stats()["requests"] == before  # not even a login


@pytest.mark.parametrize(
    ("upload", "location"),
    [
        ("{enabled: true, orgDefaultProfile: true}", "messenger.fileUpload.orgDefaultProfile"),
        ("{enabled: true, fileTypes: ['*/*']}", "messenger.fileUpload.fileTypes[0]"),
    ],
)
def test_attachments_that_admit_any_file_are_a_finding(
    gcwm_env: dict[str, str], emulator: RunningEmulator, tmp_path: Path, upload: str, location: str
) -> None:
    result = run_gcwm(["csp", str(_spec(tmp_path, upload)), "--output", "json"], gcwm_env)
    (channel,) = json.loads(result.stdout)["channels"]
    (finding,) = [f for f in channel["findings"] if f["check"] == "attachments_any_type"]
    assert (finding["severity"], finding["location"]) == ("medium", location)
    assert result.code == 0  # medium does not block unless the policy file says so
