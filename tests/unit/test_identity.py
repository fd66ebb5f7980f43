"""Lease owners name host, boot, pid namespace and pid, so only a surely dead worker is reaped early."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

from gcwm.provisioning.identity import WorkerIdentity


def _last_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_an_identity_round_trips_through_its_lease_text() -> None:
    """What a worker writes as lease owner is read back whole."""
    me = WorkerIdentity.current()
    assert WorkerIdentity.parse(me.render()) == me


def test_a_worker_of_this_host_boot_and_namespace_whose_process_ended_is_dead() -> None:
    """Same machine, same boot, same pid namespace, pid gone: its lease can be freed at once."""
    gone = dataclasses.replace(WorkerIdentity.current(), pid=_last_pid())
    assert gone.is_dead_here()
    assert not WorkerIdentity.current().is_dead_here()


def test_a_worker_of_another_boot_or_pid_namespace_is_never_taken_for_dead() -> None:
    """A pid names a process only within one boot of one namespace (two containers share a hostname)."""
    gone = dataclasses.replace(WorkerIdentity.current(), pid=_last_pid())
    assert not dataclasses.replace(gone, boot="000000000000").is_dead_here()
    assert not dataclasses.replace(gone, namespace="1").is_dead_here()
    assert not dataclasses.replace(gone, host="elsewhere").is_dead_here()


def test_an_owner_written_by_an_older_gcwm_is_not_reaped() -> None:
    """`host:pid:nonce` says too little to be sure, so such a lease simply runs out."""
    assert WorkerIdentity.parse("vm:1234:abcdef") is None
