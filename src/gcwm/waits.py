"""Waiting for an event with a time limit, without losing a cancellation."""

import asyncio


async def event_set_within(event: asyncio.Event, timeout_s: float) -> bool:
    """Whether `event` is set within `timeout_s` seconds.

    Not `asyncio.wait_for`: on Python 3.11 it returns normally when it is cancelled in the same turn
    of the loop as the event is set (CPython gh-86296, fixed in 3.12 by building it on
    `asyncio.timeout`). A worker loop waiting so absorbed Ctrl-C when a job ended at that moment,
    and went on working."""
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
