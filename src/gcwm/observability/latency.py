"""Latency distributions: percentiles by the nearest-rank method, and the summary documents built on them.

Nearest rank: the p-th percentile of n samples is the sample at rank ceil(p/100 * n) (1-based) of the
sorted samples, i.e. the smallest sample that at least p % of the samples do not exceed. It is always a
latency that really happened, p100 is the maximum, and it needs no interpolation on the few samples a
small run gives (with 20 samples, p95 is the 19th: the second slowest).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: The percentiles every summary reports, in its keys' order (`p50`, `p95`, `p99`, then `max`).
PERCENTILES = (50, 95, 99)
#: What `"percentiles"` says in a document: how the values were chosen.
METHOD = "nearest-rank"


def percentile(ordered: Sequence[float], p: float) -> float:
    """The p-th percentile (0 < p <= 100) of samples sorted ascending, by the nearest-rank method."""
    if not ordered:
        msg = "the percentile of no samples is undefined"
        raise ValueError(msg)
    if not 0 < p <= 100:
        msg = f"a percentile is above 0 and at most 100, not {p}"
        raise ValueError(msg)
    # Multiply before dividing: 0.95 * 20 is 19.000000000000004 in floats, whose ceiling is rank 20.
    rank = math.ceil(p * len(ordered) / 100)
    return ordered[max(1, rank) - 1]


@dataclass(frozen=True)
class Distribution:
    """How many samples, their p50, p95 and p99 (nearest rank), and the largest."""

    count: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, samples: Iterable[float]) -> Distribution:
        """The distribution of some samples (at least one)."""
        ordered = sorted(samples)
        p50, p95, p99 = (percentile(ordered, p) for p in PERCENTILES)
        return cls(len(ordered), p50, p95, p99, ordered[-1])

    def document(self, *, digits: int = 1) -> dict[str, Any]:
        """`{"count", "p50", "p95", "p99", "max"}`, values rounded to `digits` decimals."""
        return {
            "count": self.count,
            "p50": round(self.p50, digits),
            "p95": round(self.p95, digits),
            "p99": round(self.p99, digits),
            "max": round(self.max, digits),
        }


def distributions(samples: Iterable[tuple[str, float]]) -> dict[str, Distribution]:
    """Samples (name, value) grouped by name, each group's distribution; names in first-seen order."""
    groups: dict[str, list[float]] = {}
    for name, value in samples:
        groups.setdefault(name, []).append(value)
    return {name: Distribution.of(values) for name, values in groups.items()}


def summary_document(
    *,
    steps: Iterable[tuple[str, float]],
    jobs: Iterable[tuple[str, float]],
    operations: Mapping[str, tuple[Distribution, Mapping[str, int]]] | None = None,
) -> dict[str, Any]:
    """The `"latency"` document of a run or a report, in milliseconds.

    `steps` are (step, ms) samples; `jobs` (kind, ms) end-to-end samples; `operations`, when given,
    each Genesys operation's distribution and its answers counted by status."""
    document: dict[str, Any] = {
        "unit": "ms",
        "percentiles": METHOD,
        "steps": {name: d.document() for name, d in distributions(steps).items()},
        "jobs": {kind: d.document() for kind, d in distributions(jobs).items()},
    }
    if operations is not None:
        document["operations"] = {
            name: {**d.document(), "statuses": dict(sorted(statuses.items()))}
            for name, (d, statuses) in sorted(operations.items())
        }
    return document
