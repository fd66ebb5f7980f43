"""The org's state survives restarts through the state file; two emulators share nothing."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from tests.emulator.harness import Emulator, wait_for
from tests.emulator.steps import CONFIGS, DEPLOYMENTS, PROFILES, deployment


def _org(emulator: Emulator) -> tuple[str, dict[str, str]]:
    with emulator.client() as api:
        org_id = api.get("/api/v2/tokens/me").json()["organization"]["id"]
        queues = {q["name"]: q["id"] for q in api.get("/api/v2/routing/queues").json()["entities"]}
    return org_id, queues


def test_restart_on_the_same_file_keeps_the_org(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """Same org id, queue ids and deployment after a restart; tokens do not survive it."""
    state = tmp_path / "org.json"
    first = start_emulator(state_file=state)
    org_id, queues = _org(first)
    with first.client() as api:
        made = deployment(api)
    old_token = first.token()
    first.server.stop()

    second = start_emulator(state_file=state)
    assert _org(second) == (org_id, queues)
    with second.client() as api:
        again = api.get(f"{DEPLOYMENTS}/{made['id']}").json()
        assert again["name"] == made["name"]
        assert again["snippet"] == made["snippet"]
        versions = api.get(f"{CONFIGS}/{made['configuration']['id']}/versions").json()["entities"]
        assert [v["version"] for v in versions] == ["DRAFT", "1"]
    with second.client(token=old_token) as stale:
        assert stale.get("/api/v2/tokens/me").json()["code"] == "bad.credentials"


def test_state_file_is_created_at_start_and_each_write_is_journaled(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """A new file holds the org and seed from the start; each write is on disk before its answer."""
    state = tmp_path / "nested" / "org.json"
    emu = start_emulator(state_file=state)
    saved = json.loads(state.read_text())
    assert saved["orgId"] == _org(emu)[0]
    assert len(saved["queues"]) == 6 and len(saved["flows"]) == 8
    with emu.client() as api:
        config_id = api.post(CONFIGS, json={"name": "kept"}).json()["id"]
        journal = state.with_name("org.json.journal").read_text().splitlines()
        assert [json.loads(line)["configuration"]["id"] for line in journal] == [config_id]
    assert sorted(p.name for p in state.parent.iterdir()) == ["org.json", "org.json.journal"]


def test_many_writes_survive_a_restart_through_snapshot_and_journal(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """Past the journal's length the snapshot is rewritten; all writes are there after a restart,
    and a last journal line cut short (a stop mid-append) is skipped."""
    state = tmp_path / "org.json"
    first = start_emulator(state_file=state, rate_limit_per_min=10_000)
    with first.client() as api:
        made = [api.post(CONFIGS, json={"name": f"c{i}"}).json()["id"] for i in range(300)]
        api.delete(f"{CONFIGS}/{made[0]}")
    first.server.stop()
    assert len(json.loads(state.read_text())["configurations"]) >= 256  # compacted at least once
    with state.with_name("org.json.journal").open("a") as journal:
        journal.write('{"nextSeq": 999, "configuration": {"id": "half')
    second = start_emulator(state_file=state, rate_limit_per_min=10_000, deletion_delay_s=30)
    with second.client() as api:
        listed: list[str] = []
        page = api.get(CONFIGS, params={"pageSize": 100}).json()
        while True:
            listed += [c["id"] for c in page["entities"] if c["status"] != "Deleting"]
            if "nextUri" not in page:
                break
            page = api.get(page["nextUri"]).json()
    assert listed == made[1:]


def test_deletion_in_progress_continues_after_a_restart(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """A configuration that was Deleting reads as Deleting, then 404, in the restarted emulator."""
    state = tmp_path / "org.json"
    first = start_emulator(state_file=state, deletion_delay_s=0.3)
    with first.client() as api:
        config_id = api.post(CONFIGS, json={"name": "going"}).json()["id"]
        assert api.delete(f"{CONFIGS}/{config_id}").status_code == 204
    first.server.stop()
    second = start_emulator(state_file=state, deletion_delay_s=0.3)
    with second.client() as api:
        path = f"{CONFIGS}/{config_id}/versions/draft"
        wait_for(lambda: api.get(path).status_code == 404, what="deleted configuration to be gone")


def test_two_emulators_in_one_process_are_independent(start_emulator: Callable[..., Emulator]) -> None:
    """Each app has its own org, tokens and objects."""
    one, two = start_emulator(), start_emulator()
    assert _org(one)[0] != _org(two)[0]
    with one.client() as api:
        api.post(CONFIGS, json={"name": "only in one"})
    with two.client(token=one.token()) as foreign:
        assert foreign.get(CONFIGS).status_code == 401
    with two.client() as api:
        assert api.get(CONFIGS).json()["entities"] == []


def test_profiles_and_the_default_survive_a_restart(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """Profiles made, patched and deleted, and the default switched, are journaled and replayed;
    the seeded default keeps its id; a reset is replayed as one too."""
    state = tmp_path / "org.json"
    first = start_emulator(state_file=state)
    with first.client() as api:
        seeded = api.get(f"{PROFILES}/default").json()
        kept = api.post(PROFILES, json={"name": "kept"}).json()["id"]
        api.patch(f"{PROFILES}/{kept}", json={"name": "kept and renamed"})
        dropped = api.post(PROFILES, json={"name": "dropped"}).json()["id"]
        api.delete(f"{PROFILES}/{dropped}")
        api.put(f"{PROFILES}/default", json={"id": kept})
    first.server.stop()
    second = start_emulator(state_file=state)
    with second.client() as api:
        listed = api.get(PROFILES).json()["entities"]
        assert [(p["id"], p["name"], p["version"]) for p in listed] == [
            (seeded["id"], "Default", 1),
            (kept, "kept and renamed", 2),
        ]
        assert api.get(f"{PROFILES}/default").json()["id"] == kept
    second.admin("POST", "reset")
    second.server.stop()
    third = start_emulator(state_file=state)
    with third.client() as api:
        assert [p["id"] for p in api.get(PROFILES).json()["entities"]] == [seeded["id"]]
        assert api.get(f"{PROFILES}/default").json()["id"] == seeded["id"]


def test_a_state_file_saved_before_profiles_gets_the_default_seeded(
    start_emulator: Callable[..., Emulator], tmp_path: Path
) -> None:
    """An older state file without profiles still loads: its org gets the default profile."""
    state = tmp_path / "org.json"
    start_emulator(state_file=state).server.stop()
    saved = json.loads(state.read_text())
    del saved["supportedContents"], saved["defaultSupportedContentId"]
    state.write_text(json.dumps(saved))
    again = start_emulator(state_file=state)
    with again.client() as api:
        default = api.get(f"{PROFILES}/default").json()
    assert default["name"] == "Default"
    assert [p["id"] for p in json.loads(state.read_text())["supportedContents"]] == [default["id"]]
