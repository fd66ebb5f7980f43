"""The notification retry schedule: Svix's steps with bounded jitter, Retry-After, final statuses."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gcwm.notify import RetrySchedule, is_final, retry_after_seconds


def test_the_default_schedule_is_svix_eight_attempts_over_about_27_and_a_half_hours() -> None:
    """Immediately, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; then dead."""
    schedule = RetrySchedule()
    delays = [schedule.next_delay(n, uniform=lambda lo, hi: 1.0) for n in range(1, 9)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 36000, None]
    assert sum(d for d in delays if d) == 27 * 3600 + 35 * 60 + 5


@pytest.mark.parametrize("draw", [0.9, 1.1])
def test_jitter_stays_within_ten_percent(draw: float) -> None:
    """The extremes of the draw give 90 % and 110 % of each step."""
    schedule = RetrySchedule()
    assert schedule.next_delay(3, uniform=lambda lo, hi: draw) == pytest.approx(1800 * draw)
    assert schedule.next_delay(3) is not None and 1620 <= (schedule.next_delay(3) or 0) <= 1980


def test_retry_after_is_the_least_wait_and_is_capped_at_a_day() -> None:
    """A longer Retry-After wins over the step; a shorter one does not shorten it; a week becomes a day."""
    schedule = RetrySchedule(jitter=0.0)
    assert schedule.next_delay(1, retry_after_s=120) == 120
    assert schedule.next_delay(3, retry_after_s=1) == 1800
    assert schedule.next_delay(1, retry_after_s=7 * 86400) == 86400


@pytest.mark.parametrize(
    ("status", "final"),
    [
        (301, True),
        (302, True),
        (307, True),
        (400, True),
        (401, True),
        (404, True),
        (410, True),
        (422, True),
        (408, False),
        (409, False),
        (425, False),
        (429, False),
        (500, False),
        (502, False),
        (503, False),
    ],
)
def test_which_answers_end_the_tries(status: int, final: bool) -> None:
    """4xx but 408/409/425/429 and every redirect are final; the rest are retried."""
    assert is_final(status) is final


def test_retry_after_reads_seconds_and_http_dates() -> None:
    """Both forms of RFC 9110's Retry-After; nonsense is ignored."""
    now = datetime(2026, 7, 1, 10, 0, 0, tzinfo=UTC)
    assert retry_after_seconds({"retry-after": "30"}) == 30
    assert retry_after_seconds({"retry-after": "Wed, 01 Jul 2026 10:02:00 GMT"}, now) == 120
    assert retry_after_seconds({"retry-after": "Wed, 01 Jul 2026 09:00:00 GMT"}, now) == 0
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
