"""Answers held back by commit-then-delay, and the admin call that sends them all now."""

from __future__ import annotations

import asyncio


class HeldReleases:
    """Lets the admin API send every held answer now (`POST /emulator/faults/held/release`), so a
    test holds an answer for as long as it needs and no longer, with no timing guesses."""

    def __init__(self) -> None:
        self._waiting: set[asyncio.Event] = set()

    def waiter(self) -> asyncio.Event:
        event = asyncio.Event()
        self._waiting.add(event)
        return event

    def forget(self, event: asyncio.Event) -> None:
        self._waiting.discard(event)

    def release_all(self) -> int:
        """Send every answer held right now; how many there were."""
        events, self._waiting = self._waiting, set()
        for event in events:
            event.set()
        return len(events)
