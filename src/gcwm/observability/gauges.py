"""Gauges read at scrape time: a Prometheus collector over callables that count what is stored.

Queue depth, outbox backlog and the audit chain's length live in the database, shared by every gcwm
process on it; counting them when Prometheus asks keeps the figure true whichever replica answers.
The callables come from the caller (the API wires them to the store), so this room needs no store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class StoredCounts:
    """How to count each stored figure: jobs and outbox messages by status, audit entries."""

    jobs_by_status: Callable[[], Mapping[str, int]]
    outbox_by_status: Callable[[], Mapping[str, int]]
    audit_entries: Callable[[], int]


class StoredGauges(Collector):
    """Yields `gcwm_jobs`, `gcwm_outbox_messages` and `gcwm_audit_chain_length` on every collect."""

    def __init__(self, counts: StoredCounts) -> None:
        self._counts = counts

    def collect(self) -> Iterable[Metric]:
        jobs = GaugeMetricFamily("gcwm_jobs", "Jobs in the store, by status.", labels=["status"])
        for status, n in sorted(self._counts.jobs_by_status().items()):
            jobs.add_metric([status], n)
        yield jobs
        outbox = GaugeMetricFamily(
            "gcwm_outbox_messages", "ITSM notifications in the outbox, by status.", labels=["status"]
        )
        for status, n in sorted(self._counts.outbox_by_status().items()):
            outbox.add_metric([status], n)
        yield outbox
        yield GaugeMetricFamily(
            "gcwm_audit_chain_length",
            "Entries in the audit log's hash chain.",
            value=self._counts.audit_entries(),
        )

    def describe(self) -> Iterable[Metric]:
        # Described without reading the database: registering must not need it to be up.
        return [
            GaugeMetricFamily("gcwm_jobs", "", labels=["status"]),
            GaugeMetricFamily("gcwm_outbox_messages", "", labels=["status"]),
            GaugeMetricFamily("gcwm_audit_chain_length", ""),
        ]
