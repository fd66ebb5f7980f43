"""The latency charts' geometry: p50/p95 per time bucket by nearest rank, one time axis for all steps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gcwm.api.dashboard.charts import step_charts
from gcwm.store.dashboard_reads import StepTiming

T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _at(seconds: float, step: str, ms: float) -> StepTiming:
    return StepTiming(step, T0 + timedelta(seconds=seconds), ms)


def test_each_bucket_gives_its_own_nearest_rank_p50_and_p95() -> None:
    """Four early samples and one late one make two points per line; p95 of 10..40 is 40, p50 20."""
    early = [_at(0.1 * i, "publish", ms) for i, ms in enumerate([40.0, 10.0, 30.0, 20.0])]
    [chart] = step_charts([*early, _at(60, "publish", 100.0)])
    assert [p.label for p in chart.p50] == ["p50 20.0 ms (4 samples)", "p50 100.0 ms (1 sample)"]
    assert [p.label for p in chart.p95] == ["p95 40.0 ms (4 samples)", "p95 100.0 ms (1 sample)"]
    first50, late50 = chart.p50
    first95, _ = chart.p95
    assert late50.x > first50.x and first95.x == first50.x
    assert first95.y < first50.y  # higher on screen: SVG's y grows downwards
    assert chart.overall.count == 5 and chart.overall.max == 100.0


def test_the_y_axis_reaches_the_highest_point_and_starts_at_zero() -> None:
    """The top tick is at or above the largest p95; the bottom tick is 0 ms on the axis line."""
    [chart] = step_charts([_at(0, "active", 730.0), _at(5, "active", 1180.0)])
    (bottom_y, bottom), _, (top_y, top) = chart.y_ticks
    assert bottom == "0 ms" and bottom_y == chart.plot[3]
    assert float(top.removesuffix(" ms")) >= 1180.0 and top_y == chart.plot[1]
    assert all(chart.plot[1] <= p.y <= chart.plot[3] for p in chart.p95)


def test_steps_share_one_time_axis_in_the_order_they_first_finished() -> None:
    """A step seen only late is drawn at the late end of the same axis as the others."""
    timings = [
        _at(0, "planned", 5.0),
        _at(1, "created", 9.0),
        _at(120, "planned", 6.0),
        _at(120, "late", 3.0),
    ]
    charts = step_charts(timings)
    assert [c.name for c in charts] == ["planned", "created", "late"]
    assert len({tuple(c.x_ticks) for c in charts}) == 1
    late = charts[-1]
    assert late.p50[0].x == max(p.x for c in charts for p in c.p50)


def test_no_timings_draw_no_chart() -> None:
    """An empty window has nothing to plot."""
    assert step_charts([]) == []
