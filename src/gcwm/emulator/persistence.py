"""The org's state as one JSON file, replaced atomically on every committed write."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from gcwm.emulator.entities import Configuration, Deployment, Flow, Queue

FORMAT = 1


@dataclass
class Snapshot:
    """Everything that survives a restart (tokens, rate windows, faults and stats do not)."""

    org_id: str
    next_seq: int = 1
    queues: list[Queue] = field(default_factory=list)
    flows: list[Flow] = field(default_factory=list)
    configurations: list[Configuration] = field(default_factory=list)
    deployments: list[Deployment] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "orgId": self.org_id,
            "nextSeq": self.next_seq,
            "queues": [asdict(q) for q in self.queues],
            "flows": [asdict(f) for f in self.flows],
            "configurations": [c.to_dict() for c in self.configurations],
            "deployments": [d.to_dict() for d in self.deployments],
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
        )


def load(path: Path) -> Snapshot | None:
    """The snapshot in `path`, or None when the file does not exist yet."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    return Snapshot.from_json(json.loads(text))


def save(path: Path, snapshot: Snapshot) -> None:
    """Write a temporary file beside `path`, then rename it over `path`.

    The rename makes the write durable against the emulator stopping at any point (no fsync:
    surviving a power cut is not the emulator's job, and hundreds of fsyncs would slow benchmarks)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(snapshot.to_json(), handle, separators=(",", ":"))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
