"""Shared listing reads: jobs waiting on the same kind of object share one read of the org."""

from __future__ import annotations

import asyncio
import time

import pytest

from gcwm.genesys.models import WebDeployment
from gcwm.provisioning.listings import _Feed


class _Org:
    """Stands in for Genesys's listing (a third party to the feed): counts reads, can be held or fail."""

    def __init__(self) -> None:
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.fail_next = False

    async def list(self) -> list[WebDeployment]:
        self.reads += 1
        await self.gate.wait()
        if self.fail_next:
            self.fail_next = False
            raise RuntimeError("listing failed")
        return [WebDeployment(id=f"d-{self.reads}", name="web", status="Active")]


async def test_concurrent_waiters_share_one_read() -> None:
    """Ten jobs asking at once cost one call, and all get its answer."""
    org = _Org()
    feed = _Feed(org.list, lambda _waiting: 0.0)
    org.gate.clear()
    now = time.monotonic()
    waiters = [asyncio.create_task(feed.read(now)) for _ in range(10)]
    await asyncio.sleep(0)
    org.gate.set()
    results = await asyncio.gather(*waiters)
    assert org.reads == 1
    assert all(r == results[0] for r in results)


async def test_a_waiter_needing_newer_news_than_the_last_read_gets_a_new_read() -> None:
    """A read that started before the moment a job needs says nothing about after it."""
    org = _Org()
    feed = _Feed(org.list, lambda _waiting: 0.0)
    first = await asyncio.wait_for(feed.read(time.monotonic()), 5)
    second = await asyncio.wait_for(feed.read(time.monotonic()), 5)
    assert org.reads == 2
    assert list(first) == ["d-1"] and list(second) == ["d-2"]


async def test_a_read_in_flight_that_started_too_early_is_waited_out_then_read_again() -> None:
    """Joining a read that began before the need would hand out a stale status."""
    org = _Org()
    feed = _Feed(org.list, lambda _waiting: 0.0)
    org.gate.clear()
    early = asyncio.create_task(feed.read(time.monotonic()))
    await asyncio.sleep(0)
    late = asyncio.create_task(feed.read(time.monotonic()))
    await asyncio.sleep(0)
    org.gate.set()
    assert list(await asyncio.wait_for(early, 5)) == ["d-1"]
    assert list(await asyncio.wait_for(late, 5)) == ["d-2"]


async def test_a_failed_read_reaches_its_waiters_and_the_next_read_is_fresh() -> None:
    """A failure is not cached: the next need reads again."""
    org = _Org()
    feed = _Feed(org.list, lambda _waiting: 0.0)
    org.fail_next = True
    with pytest.raises(RuntimeError, match="listing failed"):
        await feed.read(time.monotonic())
    assert list(await asyncio.wait_for(feed.read(time.monotonic()), 5)) == ["d-2"]
