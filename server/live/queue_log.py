"""One log line per queue action: issued, called, recalled, served, finished, moved, cancelled.

The lines are read from ``ticket_events`` (the queue's own journal, written in the action's
transaction) after each publish, so an action is logged once, in order, whichever request,
keypad or command caused it, and the queue core does no logging of its own. A line carries
the ticket's label, the service, counter, clerk and device: never a token or a visitor's data.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from server.live.publisher import Publisher
from server.queue import facts as f
from server.queue.center import Center

log = logging.getLogger("dostq.queue")

EVENTS_SINCE = (
    "SELECT e.id, e.action, e.state, t.label, s.code AS service, c.name AS counter, "
    "u.username AS clerk, d.name AS device FROM ticket_events e "
    "JOIN tickets t ON t.id = e.ticket_id LEFT JOIN services s ON s.id = e.service_id "
    "LEFT JOIN counters c ON c.id = e.counter_id LEFT JOIN users u ON u.id = e.user_id "
    "LEFT JOIN devices d ON d.id = e.device_id WHERE e.id > ? ORDER BY e.id"
)


class QueueLog:
    """Logs each new ticket event after the publish that follows its commit."""

    def __init__(self, center: Center, publisher: Publisher) -> None:
        self.center = center
        with center.store.read() as conn:
            self.last = conn.execute("SELECT coalesce(max(id), 0) FROM ticket_events").fetchone()[0]
        self._lock = threading.Lock()
        # Every queue action publishes this after its commit (a call with its Called): one
        # read of the journal a publish (a call read it twice, the second finding nothing).
        publisher.subscribe(f.QueueChanged, self.catch_up)

    def catch_up(self, _fact: Any = None) -> None:
        """Log the events written since the last call."""
        with self._lock:
            with self.center.store.read() as conn:
                rows = conn.execute(EVENTS_SINCE, (self.last,)).fetchall()
            for row in rows:
                self.last = row["id"]
                fields = {key: row[key] for key in row.keys() if row[key] is not None}
                fields.pop("id")
                where = " ".join(
                    f"{key}={fields[key]}" for key in ("service", "counter", "clerk", "device")
                    if key in fields
                )  # fmt: skip
                log.info("%s %s %s", row["action"], row["label"], where, extra={"fields": fields})
