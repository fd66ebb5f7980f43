"""The org's state on disk: a JSON snapshot plus a journal of the writes made since.

Every committed write appends one line to the journal (`<state file>.journal`) before its answer
is sent, so a restarted emulator sees it. Rewriting the whole snapshot on each write would cost
O(objects) per write (50 ms at 1,000 objects); instead the snapshot is rewritten (temp file and
rename, so atomically) only when the journal has grown as long as the state itself, which keeps
writes O(1) on average. Durable against the emulator stopping at any point; no fsync, since
surviving a power cut is not the emulator's job."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gcwm.emulator.entities import Configuration, Deployment, Flow, Queue, SupportedContentProfile

FORMAT = 1
_MIN_COMPACT_ENTRIES = 256


@dataclass
class Snapshot:
    """Everything that survives a restart (tokens, rate windows, faults and stats do not)."""

    org_id: str
    next_seq: int = 1
    queues: list[Queue] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    configurations: list[Configuration] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)
    # Supported content profiles and the default's id; a state saved before they existed has
    # none, and OrgState then seeds the default profile.
    profiles: list[SupportedContentProfile] = field(default_factory=list)
    default_profile_id: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "orgId": self.org_id,
            "nextSeq": self.next_seq,
            "queues": [asdict(q) for q in self.queues],
            "flows": [asdict(f) for f in self.flows],
            "configurations": [c.to_dict() for c in self.configurations],
            "deployments": [d.to_dict() for d in self.deployments],
            "supportedContents": [p.to_dict() for p in self.profiles],
            "defaultSupportedContentId": self.default_profile_id,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Snapshot:
        if data.get("format") != FORMAT:
            msg = f"unsupported emulator state format {data.get('format')!r} (expected {FORMAT})"
            raise ValueError(msg)
        return cls(
            org_id=data["orgId"],
            next_seq=data["nextSeq"],
            queues=[Queue(**q) for q in data["queues"]],
            flows=[Flow(**f) for f in data["flows"]],
            configurations=[Configuration.from_dict(c) for c in data["configurations"]],
            deployments=[Deployment.from_dict(d) for d in data["deployments"]],
            profiles=[SupportedContentProfile.from_dict(p) for p in data.get("supportedContents", [])],
            default_profile_id=data.get("defaultSupportedContentId", ""),
        )

    def apply(self, entry: dict[str, Any]) -> None:
        """Replay one journal entry: an object's new whole state, a profile deleted, the default
        profile changed, or a reset (which carries the seeded default profile again)."""
        self.next_seq = max(self.next_seq, int(entry["nextSeq"]))
        if entry.get("reset"):
            self.configurations, self.deployments, self.profiles = [], [], []
        if "supportedContent" in entry:
            profile = SupportedContentProfile.from_dict(entry["supportedContent"])
            self.profiles = [p for p in self.profiles if p.id != profile.id] + [profile]
        if "supportedContentDeleted" in entry:
            self.profiles = [p for p in self.profiles if p.id != entry["supportedContentDeleted"]]
        if "defaultSupportedContentId" in entry:
            self.default_profile_id = entry["defaultSupportedContentId"]
        if "configuration" in entry:
            config = Configuration.from_dict(entry["configuration"])
            self.configurations = [c for c in self.configurations if c.id != config.id] + [config]
        if "deployment" in entry:
            deployment = Deployment.from_dict(entry["deployment"])
            self.deployments = [d for d in self.deployments if d.id != deployment.id] + [deployment]


class StateFile:
    """A snapshot file and its journal."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.journal = path.with_name(path.name + ".journal")
        self._entries = 0

    def load(self) -> Snapshot | None:
        """The saved state with the journal replayed, or None when nothing was saved yet."""
        try:
            snapshot = Snapshot.from_json(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        try:
            lines = self.journal.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                break  # a line cut short by a stop mid-append: that write never got its answer
            snapshot.apply(entry)
            self._entries += 1
        return snapshot

    def record(self, entry: dict[str, Any], live: int, snapshot: Callable[[], Snapshot]) -> None:
        """Append one write to the journal; rewrite the snapshot instead once the journal is as
        long as the state (`live` objects). `snapshot()` gives the whole state, this write included."""
        if self._entries + 1 >= max(_MIN_COMPACT_ENTRIES, live):
            self.write_snapshot(snapshot())
            return
        # The org's state is its owner's alone (as gcwm's own files in the same home are).
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._entries += 1

    def write_snapshot(self, snapshot: Snapshot) -> None:
        """Replace the snapshot atomically, then empty the journal it now contains.

        A stop between the two leaves a journal that replays onto the new snapshot to the same
        state, as every entry carries an object's whole state and they replay in order."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".tmp", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(snapshot.to_json(), handle, separators=(",", ":"))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.journal.unlink(missing_ok=True)
        self._entries = 0
