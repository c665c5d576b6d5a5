"""What a center's ``/metrics`` holds beyond request latency (server.web.health serves it).

Queue totals (tickets and calls by service, waits and service times) come from
``server.office.metrics``; the rest is read at each scrape from the parts that know it: open
sockets by kind, each printer's and serial line's state, the HQ backlog and the clock, and
the newest backup's age.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable
from pathlib import Path

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from server.hq_link.sync import floor_status
from server.live.counter_devices import CounterDevices
from server.live.sockets import Sockets
from server.office import backups
from server.office.metrics import Histogram, QueueTally
from server.queue.center import Center
from server.web.health import common_gauges, gauge


class CenterMetrics(Collector):
    """The center's collector: reads its metrics at each scrape."""

    def __init__(
        self,
        center: Center,
        sockets: Sockets,
        devices: CounterDevices,
        backup_folder: Path,
        data_dir: Path,
    ) -> None:
        self.center = center
        self.sockets = sockets
        self.devices = devices
        self.backup_folder = backup_folder
        self.data_dir = data_dir
        self.tally = QueueTally()
        with center.store.read() as conn:
            self.tally.start(conn)  # counted from the server's start, as counters are
        self._lock = threading.Lock()  # two scrapes at once must not count a row twice

    def collect(self) -> Iterable[Metric]:
        """Return every metric of this moment."""
        with self._lock, self.center.store.read() as conn:
            self.tally.catch_up(conn)
            printers = conn.execute(
                "SELECT d.name, p.state FROM printer_status p JOIN devices d ON d.id = p.device_id"
            ).fetchall()
            hq = floor_status(conn)
        yield from common_gauges(self.data_dir)
        yield from self._queue(self.tally)
        yield from self._sockets()
        printer = gauge("dostq_printer_state", "1 for each printer's current state.",
                        ["device", "state"])  # fmt: skip
        for name, state in printers:
            printer.add_metric([name, state], 1)
        yield printer
        line = gauge("dostq_serial_line_connected", "1 while a serial line is open.", ["line"])
        for status in self.devices.lines_status():
            line.add_metric([status["url"]], int(bool(status.get("connected"))))
        yield line
        yield from self._hq(hq)
        newest = backups.newest_at(self.backup_folder)
        age = gauge("dostq_backup_age_seconds", "Age of the newest backup (+Inf: none).")
        age.add_metric([], time.time() - newest if newest else float("inf"))
        yield age

    @staticmethod
    def _queue(tally: QueueTally) -> Iterable[Metric]:
        for name, doc, counts in (
            ("dostq_tickets_issued", "Tickets issued since the server started.", tally.issued),
            (
                "dostq_calls",
                "Calls of visitors (recalls not counted) since the start.",
                tally.calls,
            ),
        ):
            family = CounterMetricFamily(name, doc, labels=["service"])
            for service, count in sorted(counts.items()):
                family.add_metric([service], count)
            yield family
        yield _histogram("dostq_wait_seconds", "From arrival to the call.", tally.waits)
        yield _histogram(
            "dostq_service_seconds", "From the start of service to its end.", tally.service_times
        )

    def _sockets(self) -> Iterable[Metric]:
        summary = self.sockets.summary()
        by_kind = gauge("dostq_sockets_open", "Signed-in sockets open now, by kind.", ["kind"])
        for kind, count in summary["by_kind"].items():
            by_kind.add_metric([kind], count)
        held = gauge("dostq_sockets_held", "Every open Socket.IO session, as the limit counts.")
        held.add_metric([], summary["open"])
        limit = gauge("dostq_sockets_limit", "Sockets past this are refused (MAX_SOCKETS).")
        limit.add_metric([], summary["limit"])
        return [by_kind, held, limit]

    @staticmethod
    def _hq(state: dict[str, object]) -> Iterable[Metric]:
        backlog = gauge("dostq_hq_unsent_day_records", "Days not yet acknowledged by HQ.")
        backlog.add_metric([], float(state["pending_days"]))  # type: ignore[arg-type]
        yield backlog
        if state.get("last_success_at") is not None:
            synced = gauge("dostq_hq_last_sync_timestamp_seconds", "When HQ last took a batch.")
            synced.add_metric([], float(state["last_success_at"]))  # type: ignore[arg-type]
            yield synced
        if state.get("clock_offset_s") is not None:
            clock = gauge("dostq_clock_offset_seconds", "HQ's clock minus this one's, at a sync.")
            clock.add_metric([], float(state["clock_offset_s"]))  # type: ignore[arg-type]
            yield clock


def _histogram(name: str, doc: str, histogram: Histogram) -> HistogramMetricFamily:
    family = HistogramMetricFamily(name, doc, labels=["service"])
    for service in sorted(histogram.counts):
        family.add_metric([service], histogram.buckets(service), histogram.sums[service])
    return family
