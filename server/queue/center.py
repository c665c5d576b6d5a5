"""What every operation on a center needs: its store, clock, time zone and rules."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.queue.engine import Fairness, OpeningHours, State
from server.queue.storage import Store, get_setting
from server.settings import TIMEZONE


@dataclass
class Center:
    """One center server's state handle; passed to every operation."""

    store: Store
    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo(TIMEZONE))
    # A ticket still unconfirmed after this long is flagged to staff as possibly not printed.
    unconfirmed_after_s: float = 120.0
    clock: Callable[[], float] = time.time

    def now(self) -> float:
        """Return the current time in epoch seconds."""
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[tuple[sqlite3.Connection, float]]:
        """Open a write transaction and read the clock only once it is ours.

        Reading the clock before the lock would let a later-stamped visit commit first,
        and arrival order would no longer be the order of the queue.
        """
        with self.store.write() as conn:
            yield conn, self.now()

    def day(self, at: float) -> str:
        """Return the center's local calendar day (ISO date) at epoch time ``at``."""
        return datetime.fromtimestamp(at, self.timezone).date().isoformat()

    def start_of_day(self, at: float) -> float:
        """Return the epoch time of local midnight that began the day of ``at``."""
        local = datetime.fromtimestamp(at, self.timezone)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()

    def opening_hours(self, conn: sqlite3.Connection) -> OpeningHours | None:
        """Return the opening hours and calendar as configured now (None: open at any time)."""
        return OpeningHours.from_setting(
            get_setting(conn, "hours", None), get_setting(conn, "calendar", [])
        )

    def fairness(self, conn: sqlite3.Connection) -> Fairness:
        """Return the fairness rule as configured now (editable without a restart)."""
        return self.fairness_from(get_setting(conn, "fairness", {}))

    @staticmethod
    def fairness_from(stored: dict[str, Any]) -> Fairness:
        """Build the fairness rule from its stored setting, defaults filling the gaps."""
        defaults = Fairness()
        return Fairness(
            priority_streak_limit=int(
                stored.get("priority_streak_limit", defaults.priority_streak_limit)
            ),
            overdue_after_s=float(stored.get("overdue_after_s", defaults.overdue_after_s)),
        )


def log_event(
    conn: sqlite3.Connection,
    ticket_id: int,
    action: str,
    state: State,
    at: float,
    *,
    service_id: int | None = None,
    counter_id: int | None = None,
    user_id: int | None = None,
    device_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one timed step of a visit; its id orders all events (displays use it as seq)."""
    cursor = conn.execute(
        "INSERT INTO ticket_events (ticket_id, at, action, state, service_id, counter_id, "
        "user_id, device_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ticket_id,
            at,
            action,
            state.value,
            service_id,
            counter_id,
            user_id,
            device_id,
            json.dumps(detail, ensure_ascii=False) if detail else None,
        ),
    )
    return int(cursor.lastrowid or 0)


def replayed_response(conn: sqlite3.Connection, key: str | None) -> dict[str, Any] | None:
    """Return the stored response of a request already done under this idempotency key."""
    if not key:
        return None
    row = conn.execute("SELECT response FROM idempotent_requests WHERE key = ?", (key,)).fetchone()
    return dict(json.loads(row[0])) if row else None


def remember_response(
    conn: sqlite3.Connection, key: str | None, at: float, response: dict[str, Any]
) -> None:
    """Store a response under its idempotency key, in the same transaction as its effect."""
    if key:
        conn.execute(
            "INSERT INTO idempotent_requests (key, at, response) VALUES (?, ?, ?)",
            (key, at, json.dumps(response, ensure_ascii=False)),
        )
