"""The retry schedule and final answers at their edges (gcwm.notify.schedule): the first and zero
delays, jitter on both sides, the status boundaries, and HTTP dates without a zone."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from gcwm.notify import RetrySchedule, is_final, retry_after_seconds


def _highest(low: float, high: float) -> float:
    return high


def _lowest(low: float, high: float) -> float:
    return low


def test_jitter_reaches_ten_percent_each_way_and_an_attempt_before_the_first_waits_the_first_delay() -> None:
    """uniform() is asked for [0.9, 1.1] of the delay; attempt 0 is treated as attempt 1."""
    schedule = RetrySchedule(delays_s=(100.0, 200.0))
    assert schedule.next_delay(1, uniform=_highest) == pytest.approx(110.0)
    assert schedule.next_delay(1, uniform=_lowest) == pytest.approx(90.0)
    assert schedule.next_delay(0, uniform=_highest) == pytest.approx(110.0)
    assert schedule.next_delay(2, uniform=_highest) == pytest.approx(220.0)


def test_a_zero_delay_stays_zero_and_a_short_one_is_jittered() -> None:
    """Tests run the schedule with zero delays: they must not wait; half a second is still jittered."""
    assert RetrySchedule(delays_s=(0.0,)).next_delay(1, uniform=_highest) == 0.0
    assert RetrySchedule(delays_s=(0.5,)).next_delay(1, uniform=_highest) == pytest.approx(0.55)


def test_a_schedule_is_a_frozen_value() -> None:
    """The dispatcher is handed one; nothing changes it under a running delivery."""
    with pytest.raises(dataclasses.FrozenInstanceError):
        RetrySchedule().jitter = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("status", "final"),
    [
        (200, False),
        (299, False),
        (300, True),
        (399, True),
        (400, True),
        (499, True),
        (500, False),
        (599, False),
    ],
)
def test_redirects_and_client_errors_are_final_at_their_exact_edges(status: int, final: bool) -> None:
    """3xx and 4xx (but 408, 409, 425, 429) end the tries; 2xx and 5xx do not."""
    assert is_final(status) is final


def test_an_http_date_without_a_zone_is_utc() -> None:
    """`-0000` (RFC 5322: no zone information) reads as a naive time: taken as UTC, not refused."""
    now = datetime(2015, 10, 21, 7, 27, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 -0000"}, now) == 60.0
    assert retry_after_seconds({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, now) == 60.0
