"""Who holds a lease: host, boot, pid namespace and pid, so a dead process is recognised for sure.

A pid alone names a process only within one boot of one pid namespace: two containers on one host
(same hostname) share pid numbers, and after a reboot pids start over. The reaper frees a lease at
once only when all of host, boot id and namespace match this process's and the pid is gone; any
other lease simply runs out.
"""

from __future__ import annotations

import os
import socket
import uuid
from dataclasses import dataclass
from pathlib import Path

_BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
_PID_NAMESPACE = "/proc/self/ns/pid"


def _boot_id() -> str:
    try:
        return _BOOT_ID.read_text().strip().replace("-", "")[:12]
    except OSError:
        return ""  # not Linux: unknown, so never reaped early


def _pid_namespace() -> str:
    try:
        link = os.readlink(_PID_NAMESPACE)  # "pid:[4026531836]"
    except OSError:
        return ""
    return "".join(ch for ch in link if ch.isdigit())


@dataclass(frozen=True)
class WorkerIdentity:
    """A worker process, as written in the leases it holds."""

    host: str
    pid: int
    boot: str
    namespace: str
    nonce: str

    @classmethod
    def process(cls) -> WorkerIdentity:
        """This process, with one nonce for its life: who queued a job, and works it while it lives."""
        global _PROCESS
        if _PROCESS is None or _PROCESS.pid != os.getpid():  # a forked child is another process
            _PROCESS = cls.current()
        return _PROCESS

    @classmethod
    def current(cls) -> WorkerIdentity:
        """This process, with a fresh nonce (one per worker)."""
        return cls(socket.gethostname(), os.getpid(), _boot_id(), _pid_namespace(), uuid.uuid4().hex[:6])

    def render(self) -> str:
        return f"{self.host}:{self.pid}:{self.nonce}:{self.boot}:{self.namespace}"

    @classmethod
    def parse(cls, text: str) -> WorkerIdentity | None:
        """A lease owner written by `render`, or None (another format says too little to reap)."""
        parts = text.split(":")
        if len(parts) != 5 or not parts[1].isdigit():
            return None
        host, pid, nonce, boot, namespace = parts
        return cls(host, int(pid), boot, namespace, nonce)

    def is_dead_here(self) -> bool:
        """True only when this process can see for certain that the worker's process has ended."""
        me = WorkerIdentity.current()
        if not (self.boot and self.namespace):
            return False
        if (self.host, self.boot, self.namespace) != (me.host, me.boot, me.namespace):
            return False
        return not _is_alive(self.pid)


_PROCESS: WorkerIdentity | None = None


def _is_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True
