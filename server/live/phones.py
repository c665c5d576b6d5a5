"""Visitors' phones following their own ticket (the QR code's page), live.

A phone's socket authenticates with the ticket's secret token and joins that ticket's room
only: it hears ``ticket_status`` (what ``/t/<token>`` shows) and nothing of any other ticket.
A call is pushed to its ticket at once; other changes of the queue (people ahead, the wait)
are pushed at most once per ``push_every_s`` to every followed ticket whose status changed, so
a busy hall costs one pass a second, not one per change per phone, and a phone whose place did
not move is sent nothing.

A pass reads again only the tickets that had an event since the last pass (called, printed,
moved...): a waiting ticket that had none keeps its status but its place in line, which is
taken from the hall's replay (``moved_place``) without a read. Every FULL_PASS_EVERY_S every
followed ticket is read (a service renamed meanwhile). Reads go a hundred tickets at a time,
yielding between reads and sends: with the bench's 1,000 phones, reading them one by one held
the loop long enough to put a call's p99 to the displays at 858 ms; all in one read, 302.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Iterable
from typing import Any

from server.live.once import Once
from server.live.publisher import Publisher
from server.queue.errors import NotFound
from server.queue.facts import Called, CounterFreed, QueueChanged, VisitRated
from server.queue.forecast import Forecast
from server.queue.ticket_views import (
    hall_forecast,
    moved_place,
    people_ahead_in_lines,
    public_status,
    public_statuses,
    touched_since,
)

log = logging.getLogger(__name__)
TICKET_STATUS = "ticket_status"
PUSH_EVERY_S = 1.0
# Sends between two yields of the pass (each send is a few hundred bytes to one room).
YIELD_EVERY = 50
# Tickets read at a time, the loop let in between: a thousand read at once held it 45-130 ms
# (a ticket issued then waited that long), a hundred at a time about 8 ms each.
STATUSES_PER_READ = 100
# Between two passes that read every followed ticket; the others read only those with events.
FULL_PASS_EVERY_S = 30.0


def room(token: str) -> str:
    """Return the Socket.IO room of one ticket's phones."""
    return f"ticket:{token}"


class Phones:
    """Which tickets phones follow, and the pushes that keep them current."""

    def __init__(self, publisher: Publisher, push_every_s: float = PUSH_EVERY_S) -> None:
        self.publisher = publisher
        self.center = publisher.center
        self.push_every_s = push_every_s
        self._followed: Counter[str] = Counter()  # ticket token -> phones following it
        self._sent: dict[str, dict[str, Any]] = {}  # ticket token -> the status last pushed
        # Followed tickets last read waiting: token -> (ticket id, day), for their places.
        self._waiting: dict[str, tuple[int, str]] = {}
        self._seen_event: int | None = None  # the newest event the last pass knew of
        self._full_pass_at = 0.0
        self._lock = threading.Lock()
        self._changed = threading.Event()
        self._stop = threading.Event()
        publisher.subscribe(Called, self._on_called)
        publisher.subscribe(QueueChanged, lambda _fact: self._changed.set())
        publisher.subscribe(CounterFreed, lambda _fact: self._changed.set())
        publisher.subscribe(VisitRated, lambda _fact: self._changed.set())
        self.start = Once(
            lambda: threading.Thread(target=self._run, name="phones", daemon=True).start()
        )

    def status(self, token: str) -> dict[str, Any] | None:
        """Return what the ticket's page shows, or None for no such ticket."""
        try:
            with self.center.store.read() as conn:
                return public_status(conn, token)
        except NotFound:
            return None

    def follow(self, token: str, told: dict[str, Any]) -> None:
        """Count one more phone on this ticket, which was just ``told`` its status."""
        with self._lock:
            if not self._followed[token]:  # the first: the next pass sends it only a change
                self._sent[token] = told
            self._followed[token] += 1

    def leave(self, token: str) -> None:
        """Count one phone less on this ticket."""
        with self._lock:
            self._followed[token] -= 1
            if self._followed[token] <= 0:
                del self._followed[token]
                self._sent.pop(token, None)
                self._waiting.pop(token, None)

    def followed(self) -> list[str]:
        """Return the tokens of the tickets phones follow now."""
        with self._lock:
            return list(self._followed)

    def push(self, token: str) -> None:
        """Send a ticket's phones its status now."""
        status = self.status(token)
        if status is not None:
            self._send(token, status)

    def push_changed(self) -> int:
        """Send every followed ticket whose status changed its new status; return how many.

        Waiting tickets without an event since the last pass are moved in line from the hall's
        replay; the others are read STATUSES_PER_READ at a time (``public_statuses``), and
        between reads and sends the loop lets other work in, so a call reaches the displays
        and a ticket is issued while a thousand phones are being told.
        """
        tokens = self.followed()
        if not tokens:
            return 0  # nobody follows a ticket: nothing to read
        halls: dict[str, Forecast] = {}  # one replay of the hall for the whole pass
        lines: dict[str, dict[int, int]] = {}  # and one read of the lines no desk serves
        full = time.monotonic() - self._full_pass_at >= FULL_PASS_EVERY_S
        with self.center.store.read() as conn:
            self._seen_event, touched = touched_since(conn, None if full else self._seen_event)
            to_read, moved = self._moved_in_line(conn, tokens, touched, full, halls, lines)
        if full:
            self._full_pass_at = time.monotonic()
        sent = self._send_all(moved.items())
        for first in range(0, len(to_read), STATUSES_PER_READ):
            chunk = to_read[first : first + STATUSES_PER_READ]
            places: dict[str, tuple[int, str]] = {}
            with self.center.store.read() as conn:
                statuses = public_statuses(conn, chunk, halls=halls, lines=lines, places=places)
            with self._lock:
                for token in chunk:
                    self._waiting.pop(token, None)
                self._waiting.update(
                    (t, place) for t, place in places.items() if t in self._followed
                )
            sent += self._send_all(statuses.items())
        return sent

    def _moved_in_line(
        self,
        conn: sqlite3.Connection,
        tokens: list[str],
        touched: set[int],
        full: bool,
        halls: dict[str, Forecast],
        lines: dict[str, dict[int, int]],
    ) -> tuple[list[str], dict[str, dict[str, Any]]]:
        """Split the followed tickets: those to read, and the new status of the others."""
        to_read, moved = [], {}
        with self._lock:
            known = {t: (self._waiting.get(t), self._sent.get(t)) for t in tokens}
        for token, (place, last) in known.items():
            if full or place is None or last is None or place[0] in touched:
                to_read.append(token)
                continue
            ticket_id, day = place
            if day not in halls:
                halls[day] = hall_forecast(conn, day)
            if ticket_id not in halls[day].ahead and day not in lines:
                lines[day] = people_ahead_in_lines(conn, day)
            moved[token] = {**last, **moved_place(halls[day], lines.get(day, {}), ticket_id)}
        return to_read, moved

    def _send_all(self, statuses: Iterable[tuple[str, dict[str, Any]]]) -> int:
        """Send each status that changed, yielding to other work every YIELD_EVERY sends."""
        sent = 0
        for token, status in statuses:
            if self._send(token, status):
                sent += 1
                if sent % YIELD_EVERY == 0:
                    time.sleep(0)  # under gevent: a yield to the other greenlets
        time.sleep(0)
        return sent

    def _send(self, token: str, status: dict[str, Any]) -> bool:
        """Send a followed ticket's phones ``status`` unless it is what they heard last.

        Compared and recorded under the lock: a call's own push and a pass that read the
        same new status both reach here, and the phone must hear it once, not twice.
        """
        with self._lock:
            if token not in self._followed or self._sent.get(token) == status:
                return False
            self._sent[token] = status
        self.publisher.socketio.emit(TICKET_STATUS, status, to=room(token))
        return True

    def _on_called(self, fact: Called) -> None:
        # The called visitor hears it at once; everyone else's place moves with the next pass.
        with self._lock:  # asked of the followed set, not of a copy of it (a call each)
            followed = fact.token in self._followed
        if followed:
            self.push(fact.token)
        self._changed.set()

    def stop(self) -> None:
        """Ask the pushing thread to finish."""
        self._stop.set()
        self._changed.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._changed.wait()
            if self._stop.is_set():
                return
            self._changed.clear()
            try:
                self.push_changed()
            except Exception:  # a locked database: the next change pushes again
                log.exception("pushing ticket statuses to phones failed")
            self._stop.wait(self.push_every_s)
