"""The queue's running totals for ``/metrics``: tickets, calls, waits and service times.

Read from the database, not counted in the request path: a ticket issued by another process
(`dostq` commands, a restore) counts too, and nothing in the queue core knows metrics exist.
Each scrape reads only the rows added since the last one (ticket and event ids only grow), so
a scrape costs what happened in between, never a scan of the year. Totals start at the
server's start, as Prometheus counters do; a restart is a counter reset it understands.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections import Counter
from dataclasses import dataclass, field

# Upper bounds in seconds: waits run to hours; a service, minutes to an hour.
WAIT_BUCKETS_S = (60.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0, 5400.0, 7200.0)
SERVICE_BUCKETS_S = (60.0, 120.0, 300.0, 600.0, 900.0, 1200.0, 1800.0, 2700.0, 3600.0)


@dataclass
class Histogram:
    """Cumulative bucket counts and the sum of what was observed, per label."""

    bounds: tuple[float, ...]
    counts: dict[str, list[int]] = field(default_factory=dict)
    sums: dict[str, float] = field(default_factory=dict)

    def observe(self, label: str, value: float) -> None:
        """Count ``value`` under ``label``."""
        counts = self.counts.setdefault(label, [0] * (len(self.bounds) + 1))
        counts[bisect.bisect_left(self.bounds, value)] += 1
        self.sums[label] = self.sums.get(label, 0.0) + value

    def buckets(self, label: str) -> list[tuple[str, int]]:
        """Return Prometheus' cumulative buckets for ``label``, ``+Inf`` last."""
        running, result = 0, []
        for bound, count in zip((*self.bounds, float("inf")), self.counts[label], strict=True):
            running += count
            result.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return result


@dataclass
class QueueTally:
    """Tickets issued and calls by service, waits and service times, since ``start``."""

    last_ticket: int = 0
    last_event: int = 0
    issued: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)
    waits: Histogram = field(default_factory=lambda: Histogram(WAIT_BUCKETS_S))
    service_times: Histogram = field(default_factory=lambda: Histogram(SERVICE_BUCKETS_S))

    def start(self, conn: sqlite3.Connection) -> None:
        """Count from now on: remember the newest ticket and event."""
        self.last_ticket = conn.execute("SELECT coalesce(max(id), 0) FROM tickets").fetchone()[0]
        self.last_event = conn.execute("SELECT coalesce(max(id), 0) FROM ticket_events").fetchone()[
            0
        ]

    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Add what was written since the last call (one short read; ids only grow)."""
        for ticket_id, service in conn.execute(
            "SELECT t.id, s.code FROM tickets t JOIN services s ON s.id = t.service_id "
            "WHERE t.id > ? ORDER BY t.id",
            (self.last_ticket,),
        ):
            self.issued[service] += 1
            self.last_ticket = ticket_id
        for event_id, action, service, wait_s, service_s in conn.execute(
            "SELECT e.id, e.action, s.code, e.at - t.arrived_at, e.at - t.started_at "
            "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
            "JOIN services s ON s.id = t.service_id WHERE e.id > ? ORDER BY e.id",
            (self.last_event,),
        ):
            self.last_event = event_id
            if action == "call":  # a recall is the same call again, not another wait
                self.calls[service] += 1
                self.waits.observe(service, max(wait_s, 0.0))
            elif action == "finish" and service_s is not None:
                self.service_times.observe(service, max(service_s, 0.0))
