"""What HQ's ``/metrics`` holds beyond request latency (server.web.health serves it).

Per center: the days it still has to send (its backlog, as it said at its last batch) and
when it last synced, so an alert can name the center that went quiet; and the day records held.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from server.queue.storage import Database
from server.web.health import common_gauges, gauge


class HqMetrics(Collector):
    """HQ's collector: reads its metrics at each scrape."""

    def __init__(self, store: Database, data_dir: Path) -> None:
        self.store = store
        self.data_dir = data_dir

    def collect(self) -> Iterable[Metric]:
        """Return every metric of this moment."""
        with self.store.read() as conn:
            centers = conn.execute(
                "SELECT code, last_sync_at, pending FROM centers WHERE active = 1 ORDER BY code"
            ).fetchall()
            records = conn.execute("SELECT count(*) FROM day_records").fetchone()[0]
        yield from common_gauges(self.data_dir)
        backlog = gauge(
            "dostq_hq_center_unsent_day_records",
            "Days a center said it still had to send, at its last batch.",
            ["center"],
        )
        synced = gauge(
            "dostq_hq_center_last_sync_timestamp_seconds",
            "When a center's last batch arrived (absent: never).",
            ["center"],
        )
        for code, last_sync_at, pending in centers:
            backlog.add_metric([code], pending or 0)
            if last_sync_at is not None:
                synced.add_metric([code], last_sync_at)
        count = gauge("dostq_hq_centers", "Active centers registered at HQ.")
        count.add_metric([], len(centers))
        held = gauge("dostq_hq_day_records", "Day records held, every center and day.")
        held.add_metric([], records)
        yield from (backlog, synced, count, held)
