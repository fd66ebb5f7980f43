"""Latency charts drawn on the server as SVG geometry: p50 and p95 of each step over time.

The time span of the samples is cut into equal buckets, shared by every chart so they line up; each
bucket with samples gives one point per percentile (nearest rank, as every gcwm latency report). The
templates only place the numbers computed here into `<svg>` elements: no script draws anything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gcwm.observability.latency import Distribution
from gcwm.store.dashboard_reads import StepTiming

__all__ = ["WIDTH", "Chart", "Point", "step_charts"]

WIDTH, HEIGHT = 520, 170
_LEFT, _RIGHT, _TOP, _BOTTOM = 56, 12, 10, 24
_MIN_BUCKET = timedelta(seconds=1)


@dataclass(frozen=True)
class Point:
    """One plotted percentile: where it goes and what its tooltip says."""

    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    """One step's chart: the p50 and p95 lines, the axes' ticks, and the step's whole distribution."""

    name: str
    overall: Distribution
    p50: list[Point]
    p95: list[Point]
    y_ticks: list[tuple[float, str]]
    x_ticks: list[tuple[float, str, str]]
    width: int = WIDTH
    height: int = HEIGHT

    @property
    def plot(self) -> tuple[int, int, int, int]:
        """The plot area: left, top, right, bottom."""
        return _LEFT, _TOP, self.width - _RIGHT, self.height - _BOTTOM

    @staticmethod
    def polyline(points: Sequence[Point]) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


def step_charts(timings: Sequence[StepTiming], *, buckets: int = 24) -> list[Chart]:
    """A chart per step, in the order steps first finished. Steps that only mark an intent (every
    sample 0 ms) get a chart too; the page lists them apart."""
    if not timings:
        return []
    start = min(t.finished_at for t in timings)
    end = max(t.finished_at for t in timings)
    width = max((end - start) / buckets, _MIN_BUCKET)
    count = max(1, math.ceil((end - start) / width + 1e-9))
    by_step: dict[str, list[list[float]]] = {}
    for t in timings:
        slots = by_step.setdefault(t.step, [[] for _ in range(count + 1)])
        slots[min(count, int((t.finished_at - start) / width))].append(t.duration_ms)
    x_ticks = _x_ticks(start, width, count)
    return [_chart(name, slots, count, x_ticks) for name, slots in by_step.items()]


def _chart(name: str, slots: list[list[float]], count: int, x_ticks: list[tuple[float, str, str]]) -> Chart:
    per_bucket = [(i, Distribution.of(s)) for i, s in enumerate(slots) if s]
    top = _nice_ceiling(max(d.p95 for _, d in per_bucket))
    overall = Distribution.of(v for s in slots for v in s)

    def point(i: int, value: float, n: int, which: str) -> Point:
        samples = "1 sample" if n == 1 else f"{n} samples"
        return Point(_x(i, count), _y(value, top), f"{which} {value:.1f} ms ({samples})")

    return Chart(
        name=name,
        overall=overall,
        p50=[point(i, d.p50, d.count, "p50") for i, d in per_bucket],
        p95=[point(i, d.p95, d.count, "p95") for i, d in per_bucket],
        y_ticks=[(_y(top * f, top), f"{top * f:g} ms") for f in (0, 0.5, 1)],
        x_ticks=x_ticks,
    )


def _x(bucket: int, count: int) -> float:
    span = WIDTH - _LEFT - _RIGHT
    return _LEFT + (span * bucket / count if count else span / 2)


def _y(value: float, top: float) -> float:
    span = HEIGHT - _TOP - _BOTTOM
    return HEIGHT - _BOTTOM - span * (value / top if top else 0)


def _x_ticks(start: datetime, width: timedelta, count: int) -> list[tuple[float, str, str]]:
    """Three time labels (x, text, SVG text-anchor): the first bucket, the middle one, the last."""
    fmt = "%H:%M:%S" if width * count < timedelta(days=1) else "%m-%d %H:%M"
    marks = sorted({0, count // 2, count})
    anchors = {0: "start", count: "end"}
    return [
        (_x(i, count), (start + width * i).astimezone(UTC).strftime(fmt), anchors.get(i, "middle"))
        for i in marks
    ]


def _nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten at or above `value` (an axis top that reads well)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if value <= step * power:
            return float(step * power)
    return float(10 * power)
