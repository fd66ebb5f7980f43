"""The pacer keeps any 60 s window within the budget, learns the budget, and stops on a 429."""

from __future__ import annotations

import asyncio

from gcwm.genesys.pacer import Pacer


class VirtualTime:
    """A clock that only moves when the pacer sleeps, so the test runs instantly and exactly."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(0.0, seconds)


def _send_times(pacer: Pacer, vt: VirtualTime, n: int) -> list[float]:
    async def go() -> list[float]:
        times = []
        for _ in range(n):
            await pacer.wait_turn()
            times.append(vt.now)
        return times

    return asyncio.run(go())


def _busiest_minute(times: list[float]) -> int:
    j, best = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 60:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_no_sixty_second_window_exceeds_the_budget() -> None:
    """Over 2,000 requests at 600/min, every 60 s window holds at most 600."""
    vt = VirtualTime()
    times = _send_times(Pacer(600, clock=vt.clock, sleep=vt.sleep), vt, 2000)
    assert _busiest_minute(times) <= 600
    rate = (len(times) - 1) / (times[-1] - times[0]) * 60
    assert 0.95 * 600 <= rate <= 600


def test_a_small_burst_goes_out_without_waiting() -> None:
    """One channel's few calls are not spread out: the first 2 % of the budget is immediate."""
    vt = VirtualTime()
    times = _send_times(Pacer(1200, clock=vt.clock, sleep=vt.sleep), vt, 24)
    assert times[-1] == 0.0


def test_a_429_stops_all_sending_until_retry_after() -> None:
    """After block_for(5), the next request leaves no earlier than 5 s later."""
    vt = VirtualTime()
    pacer = Pacer(600, clock=vt.clock, sleep=vt.sleep)
    pacer.block_for(5)
    assert _send_times(pacer, vt, 1) == [5.0]


def _headers(allowed: int, count: int, reset: int) -> dict[str, str]:
    return {
        "inin-ratelimit-allowed": str(allowed),
        "inin-ratelimit-count": str(count),
        "inin-ratelimit-reset": str(reset),
    }


def test_budget_is_learnt_from_genesys_headers() -> None:
    """`inin-ratelimit-allowed` sets the budget the pacer holds to."""
    pacer = Pacer(300)
    pacer.answered(_headers(1200, 3, 40))
    assert pacer.requests_per_minute == 1200


def test_a_spent_window_blocks_until_it_resets() -> None:
    """count >= allowed means nothing can pass until `reset` seconds have gone."""
    vt = VirtualTime()
    pacer = Pacer(600, clock=vt.clock, sleep=vt.sleep)
    pacer.answered(_headers(600, 600, 12))
    assert _send_times(pacer, vt, 1) == [12.0]


def test_requests_still_in_flight_count_against_the_window() -> None:
    """Two left in the window and two on their way: the next request waits for the reset."""
    vt = VirtualTime()
    pacer = Pacer(600, clock=vt.clock, sleep=vt.sleep)

    async def send_three() -> None:
        for _ in range(3):
            await pacer.wait_turn()

    asyncio.run(send_three())
    pacer.answered(_headers(600, 598, 7))  # one answered; two still in flight
    assert _send_times(pacer, vt, 1) == [7.0]


def test_with_the_window_in_view_the_full_budget_is_used() -> None:
    """Once Genesys's counters are seen, the refill runs at the whole budget, not 98 %."""
    vt = VirtualTime()
    pacer = Pacer(600, clock=vt.clock, sleep=vt.sleep)
    pacer.answered(_headers(600, 1, 59))
    times = _send_times(pacer, vt, 1200)
    rate = (len(times) - 1) / (times[-1] - times[0]) * 60
    assert rate > 0.995 * 600


def test_with_the_window_in_view_a_single_channels_calls_do_not_queue() -> None:
    """Genesys's own count guards the window, so the bucket lets 5 % of the budget out at once."""
    vt = VirtualTime()
    pacer = Pacer(600, clock=vt.clock, sleep=vt.sleep)
    pacer.answered(_headers(600, 1, 59))
    times = _send_times(pacer, vt, 30)
    assert times[-1] == 0.0
    assert _send_times(pacer, vt, 1)[0] > 0.0  # and no more than that
