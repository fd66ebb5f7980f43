"""`gcwm channels list|show`: every provisioned channel's ids, status, snippet, proposed CSP, last job
and newest audit entries, from gcwm's database alone (issue 24, item 3)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import EXAMPLES, gcwm_command
from tests.e2e.conftest import run_gcwm
from tests.support.emulator import RunningEmulator
from tests.support.polling import wait_until

BULK = str(EXAMPLES / "bulk.yaml")
CHANNEL = str(EXAMPLES / "channel.yaml")
HINT = "snippets: gcwm channels show NAME, or gcwm channels list --output json"


@pytest.fixture
def bulk_env(gcwm_env: dict[str, str]) -> dict[str, str]:
    """examples/bulk.yaml (20 channels) provisioned, as text; the environment it ran in."""
    provisioned = run_gcwm(["provision", BULK], gcwm_env, timeout=240)
    assert provisioned.code == 0, provisioned.stderr
    assert provisioned.stdout.rstrip().splitlines()[-1] == HINT
    return gcwm_env


def _listed(env: dict[str, str]) -> list[dict[str, Any]]:
    listed = run_gcwm(["channels", "list", "--output", "json"], env)
    assert listed.code == 0, listed.stderr
    channels: list[dict[str, Any]] = listed.json()["channels"]
    return channels


def test_channels_list_gives_every_channels_snippet_and_ids_without_touching_genesys(
    bulk_env: dict[str, str], emulator: RunningEmulator
) -> None:
    """After a 20-channel provision (whose text ends by saying how to get the snippets), `channels
    list --output json` holds each channel's snippet, ids, last job and audit entries, and answers with
    Genesys unreachable."""
    offline = {**bulk_env, "GCWM_GENESYS_BASE_URL": "http://127.0.0.1:9"}  # nothing listens there
    channels = _listed(offline)

    assert len(channels) == 20
    deployments = {d["id"]: d for d in emulator.deployments()}
    for c in channels:
        assert c["status"] == "active", c
        assert c["deploymentId"] in deployments
        assert c["deploymentId"] in c["snippet"] and c["snippet"].startswith("<script")
        assert c["deploymentStatus"] == "Active"
        assert c["configurationId"] and c["configurationVersion"] == "1"
        assert c["proposedCsp"] and "object-src 'none'" in c["proposedCsp"]
        assert c["lastJob"]["kind"] == "provision" and c["lastJob"]["status"] == "succeeded"
        assert c["lastJob"]["finishedAt"]
        actions = [e["action"] for e in c["audit"]]
        assert actions[0] == "channel.created" and "step.done" not in actions, actions
        assert len(actions) <= 3
        assert [e["seq"] for e in c["audit"]] == sorted((e["seq"] for e in c["audit"]), reverse=True)
    assert [c["name"] for c in channels] == sorted(c["name"] for c in channels)


def test_channels_list_as_text_is_a_table_and_says_where_the_snippets_are(bulk_env: dict[str, str]) -> None:
    """Text: one row per channel with its deployment id whole (piped, no COLUMNS: nothing cut); stderr
    names the commands with snippets."""
    piped = {k: v for k, v in bulk_env.items() if k != "COLUMNS"}  # pytest-xdist's workers set 80
    listed = run_gcwm(["channels", "list"], piped)
    documents = _listed(bulk_env)

    assert listed.code == 0, listed.stderr
    for d in documents:
        assert d["name"] in listed.stdout and d["deploymentId"] in listed.stdout
    assert HINT in listed.stderr
    assert "<script" not in listed.stdout


def test_channels_show_prints_the_snippet_exactly_and_the_policy_and_history(
    gcwm_env: dict[str, str],
) -> None:
    """`channels show NAME` (any case) prints the stored snippet byte for byte, the proposed CSP, the
    last job and audit entries; its JSON adds the spec and up to 10 entries."""
    provisioned = run_gcwm(["provision", CHANNEL, "--output", "json"], gcwm_env)
    assert provisioned.code == 0, provisioned.stderr
    (made,) = provisioned.json()["channels"]

    shown = run_gcwm(["channels", "show", "SUPPORT-Web"], gcwm_env)
    as_json = run_gcwm(["channels", "show", "support-web", "--output", "json"], gcwm_env)

    assert shown.code == 0, shown.stderr
    assert made["snippet"] in shown.stdout
    assert made["deployment"]["id"] in shown.stdout and made["configuration"]["id"] in shown.stdout
    assert made["jobId"] in shown.stdout
    assert "channel.created" in shown.stdout
    document = as_json.json()
    assert document["snippet"] == made["snippet"]
    assert document["supportedContentId"] == made["supportedContent"]["id"]
    assert document["proposedCsp"] in shown.stdout
    assert document["spec"]["name"] == "support-web"
    assert document["lastJob"]["id"] == made["jobId"]
    assert 1 <= len(document["audit"]) <= 10


def test_channels_show_of_an_unknown_or_destroyed_channel_fails_saying_which(
    gcwm_env: dict[str, str],
) -> None:
    """Exit 1 with a message naming the channel; a destroyed one is said to be removed and is no
    longer listed."""
    assert run_gcwm(["provision", CHANNEL], gcwm_env).code == 0
    destroyed = run_gcwm(["destroy", "support-web", "--auto-approve"], gcwm_env)
    assert destroyed.code == 0, destroyed.stderr

    unknown = run_gcwm(["channels", "show", "never-was", "--output", "json"], gcwm_env)
    removed = run_gcwm(["channels", "show", "support-web"], gcwm_env)

    assert unknown.code == 1
    assert unknown.json() == {
        "error": "ChannelNotFound",
        "message": (
            "no channel named 'never-was' in gcwm's database; `gcwm channels list` shows those gcwm knows"
        ),
        "channel": "never-was",
    }
    assert removed.code == 1
    assert "'support-web'" in removed.stderr and "was removed" in removed.stderr
    assert _listed(gcwm_env) == []


def _blocked_on_its_full_pipe(pid: int) -> bool:
    wchan = Path(f"/proc/{pid}/wchan")
    return wchan.exists() and wchan.read_text().endswith("pipe_write")


@pytest.mark.skipif(not Path("/proc/self/wchan").exists(), reason="needs Linux's /proc/PID/wchan")
def test_a_json_list_stopped_and_continued_while_its_pipe_is_full_is_whole(bulk_env: dict[str, str]) -> None:
    """Ctrl-Z then fg on `gcwm channels list -o json | jq`, with PYTHONUNBUFFERED=1 as many container
    images set it: stopped while the pipe was full, the process wrote the first 128 KiB of the document
    and dropped the rest (a text write cut short by the signal was not finished)."""
    env = {**bulk_env, "PYTHONUNBUFFERED": "1"}
    command = [*gcwm_command(), "channels", "list", "--output", "json"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as listing:
        # Nothing is read until it waits on the full pipe, as a reader that has not caught up.
        wait_until(lambda: _blocked_on_its_full_pipe(listing.pid), what="gcwm waiting on its full stdout")
        os.kill(listing.pid, signal.SIGSTOP)
        os.kill(listing.pid, signal.SIGCONT)
        out, err = listing.communicate(timeout=60)

    assert listing.returncode == 0, err
    assert len(json.loads(out)["channels"]) == 20, f"{len(out)} bytes: {out[-200:]!r}"
    assert len(out) > 65536  # more than a pipe holds: it did wait on the pipe
