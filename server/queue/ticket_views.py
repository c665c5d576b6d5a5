"""Read models of one ticket: its place and wait, as staff and as its visitor see it.

How many are ahead of a visitor and when they will be called (the hall's replay,
server/queue/forecast.py), a ticket found by its number, and the public status a phone
follows (many at once for the phones' pass).
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo

from server.queue.center import Center
from server.queue.engine import State, label_key
from server.queue.errors import NotFound
from server.queue.feedback import feedback_of
from server.queue.forecast import Forecast, band, forecast
from server.queue.localized import names
from server.queue.storage import get_setting
from server.settings import TIMEZONE

# States of a visit still in the queue (an unconfirmed ticket still holds its place).
QUEUED = (State.ISSUED.value, State.WAITING.value)


def people_ahead(conn: sqlite3.Connection, ticket: sqlite3.Row) -> int:
    """Count visits for the same service queued before this one (no open desk serves it)."""
    row = conn.execute(
        "SELECT count(*) FROM tickets WHERE service_id = ? AND day = ? AND state IN (?, ?) "
        "AND (arrived_at < ? OR (arrived_at = ? AND id < ?))",
        (
            ticket["service_id"],
            ticket["day"],
            *QUEUED,
            ticket["arrived_at"],
            ticket["arrived_at"],
            ticket["id"],
        ),
    ).fetchone()
    return int(row[0])


def people_ahead_in_lines(conn: sqlite3.Connection, day: str) -> dict[int, int]:
    """Return ``people_ahead`` for every queued visit of ``day`` in one read of the queue."""
    ahead: dict[int, int] = {}
    in_line: Counter[int] = Counter()
    for ticket_id, service_id in conn.execute(
        "SELECT id, service_id FROM tickets WHERE day = ? AND state IN (?, ?) "
        "ORDER BY arrived_at, id",
        (day, *QUEUED),
    ):
        ahead[ticket_id] = in_line[service_id]
        in_line[service_id] += 1
    return ahead


def called_today(conn: sqlite3.Connection, day: str, label: str) -> bool:
    """Tell whether the ticket ``label`` of ``day`` has been called (a display may speak it)."""
    key = label_key(label)
    row = (
        key
        and conn.execute(
            "SELECT 1 FROM tickets WHERE day = ? AND letter = ? AND number = ? "
            "AND first_called_at IS NOT NULL",
            (day, *key),
        ).fetchone()
    )
    return bool(row)


TICKET_COLUMNS = (
    "SELECT t.*, s.code AS service_code, s.name_az, s.name_ru, s.name_en, "
    "s.documents_az, s.documents_ru, s.documents_en, "
    "c.name AS counter_name FROM tickets t JOIN services s ON s.id = t.service_id "
    "LEFT JOIN counters c ON c.id = t.counter_id "
)


def hall_forecast(
    conn: sqlite3.Connection, day: str, now: float | None = None, timezone: ZoneInfo | None = None
) -> Forecast:
    """Return the replay of ``day``'s hall (server/queue/forecast.py) from ``now``.

    ``now`` defaults to the wall clock, the center's own (a simulated day passes its clock's);
    ``timezone`` (the break waves' clock) to the center's default.
    """
    fairness = Center.fairness_from(get_setting(conn, "fairness", {}))
    zone = timezone or ZoneInfo(TIMEZONE)
    return forecast(conn, day, time.time() if now is None else now, fairness, zone)


def _ticket(
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    hall: Forecast | None,
    lines: Mapping[int, int] | None = None,
) -> dict[str, Any]:
    """Shape a ticket row; ``hall`` (the replay) matters only while it is queued.

    ``lines``: ``people_ahead_in_lines`` of its day, when many tickets are shaped at once.
    """
    place: dict[str, Any] = {"people_ahead": 0, "estimated_wait_min": None,
                             "estimated_wait_range_min": None}  # fmt: skip
    if row["state"] in QUEUED and hall is not None:
        if lines is None and row["id"] not in hall.ahead:  # one ticket: its line counted
            lines = {row["id"]: people_ahead(conn, row)}
        place = moved_place(hall, lines or {}, row["id"])
    return {
        "id": row["id"],
        "label": row["label"],
        "token": row["token"],
        "day": row["day"],
        "service": {"code": row["service_code"], "name": names(row)},
        "documents": names(row, "documents"),
        "category": row["category"],
        "language": row["language"],
        "state": row["state"],
        "print_status": row["print_status"],
        "arrived_at": row["arrived_at"],
        "called_at": row["called_at"],
        # A booking checked in: the clerk sees that the visitor booked, and for when.
        "slot_at": row["slot_at"],
        "counter": row["counter_name"],
        **place,
    }


def ticket_view(
    conn: sqlite3.Connection, ticket_id: int, now: float | None = None
) -> dict[str, Any]:
    """Return a ticket as the API shows it to staff and to the issuing device."""
    row = conn.execute(TICKET_COLUMNS + "WHERE t.id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
    if row["state"] not in QUEUED:
        return _ticket(conn, row, None)
    return _ticket(conn, row, hall_forecast(conn, row["day"], now))


def find_ticket(conn: sqlite3.Connection, day: str, label: str) -> dict[str, Any]:
    """Return the ticket ``label`` of ``day`` as staff see it (the label as printed)."""
    key = label_key(label)
    row = (
        key
        and conn.execute(
            "SELECT id FROM tickets WHERE day = ? AND letter = ? AND number = ?", (day, *key)
        ).fetchone()
    )
    if not row:
        raise NotFound("unknown_ticket", f"No ticket {label} today.", "label")
    return ticket_view(conn, row["id"])


# Tokens per query: SQLite's default limit on parameters is far above it.
TOKENS_PER_QUERY = 500


def public_statuses(
    conn: sqlite3.Connection,
    tokens: list[str],
    now: float | None = None,
    halls: dict[str, Forecast] | None = None,
    lines: dict[str, dict[int, int]] | None = None,
    places: dict[str, tuple[int, str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Return what each ticket's page shows (no personal data), by token; unknown ones left out.

    A query per 500 tickets and one replay of each day's hall (shared with every other reader
    until the queue changes: server/queue/forecast.py), however many tickets are asked: the
    phones' pass asks this for every followed ticket each second (bench/realtime.py).
    ``halls``: the replays already made, by day; the pass hands the same dict to each of its
    reads, so calls landing mid-pass do not replay the hall once a read; ``lines`` the same
    for the places in line of visits no open desk serves (one read of the queue, not one a
    ticket). ``places`` is filled with each queued ticket's id and day, by token, so a later
    pass may move its place in line without reading it again (``moved_place``).
    """
    rows: list[sqlite3.Row] = []
    for first in range(0, len(tokens), TOKENS_PER_QUERY):
        chunk = tokens[first : first + TOKENS_PER_QUERY]
        rows += conn.execute(
            TICKET_COLUMNS + f"WHERE t.token IN ({', '.join('?' * len(chunk))})",  # noqa: S608
            chunk,
        ).fetchall()
    halls = {} if halls is None else halls
    for day in {row["day"] for row in rows if row["state"] in QUEUED} - halls.keys():
        halls[day] = hall_forecast(conn, day, now)
    lines = {} if lines is None else lines
    for row in rows:
        day = row["day"]
        if row["state"] in QUEUED and row["id"] not in halls[day].ahead and day not in lines:
            lines[day] = people_ahead_in_lines(conn, day)
    statuses = {}
    for row in rows:
        if places is not None and row["state"] in QUEUED:
            places[row["token"]] = (row["id"], row["day"])
        view = _ticket(conn, row, halls.get(row["day"]), lines.get(row["day"]))
        statuses[row["token"]] = {
            # A done visit carries the rating given on it (None until the visitor gives one).
            "feedback": feedback_of(conn, row["id"]) if view["state"] == "done" else None,
            **{key: view[key] for key in PUBLIC_KEYS},
        }
    return statuses


# What a visitor's page shows of a ticket: nothing of the staff's (category, token, print).
PUBLIC_KEYS = (
    "label",
    "service",
    "language",
    "state",
    "people_ahead",
    "estimated_wait_min",
    "estimated_wait_range_min",
    "counter",
    "arrived_at",
    "called_at",
)


def moved_place(hall: Forecast, lines: Mapping[int, int], ticket_id: int) -> dict[str, Any]:
    """Return the fields of a queued ticket's status that move with the queue, from the hall.

    Everyone the hall will call first, whatever their service (the desks are shared); with no
    open desk serving it, those of its own service before it (``lines``:
    ``people_ahead_in_lines`` of its day). The rest of its status (label, service, state)
    changes only with an event of its own.
    """
    wait = hall.wait_minutes(ticket_id)
    ahead = hall.ahead[ticket_id] if ticket_id in hall.ahead else lines.get(ticket_id, 0)
    return {
        "people_ahead": ahead,
        "estimated_wait_min": wait,
        "estimated_wait_range_min": band(wait) if wait is not None else None,
    }


def touched_since(conn: sqlite3.Connection, event_id: int | None) -> tuple[int, set[int]]:
    """Return the newest event's id and the tickets with an event after ``event_id``.

    ``event_id`` None: only the newest id (the caller reads every ticket anyway).
    """
    if event_id is None:
        return int(
            conn.execute("SELECT coalesce(max(id), 0) FROM ticket_events").fetchone()[0]
        ), set()
    rows = conn.execute("SELECT id, ticket_id FROM ticket_events WHERE id > ?", (event_id,))
    touched: set[int] = set()
    newest = event_id
    for row_id, ticket_id in rows:
        newest = max(newest, row_id)
        touched.add(ticket_id)
    return newest, touched


def public_status(conn: sqlite3.Connection, token: str, now: float | None = None) -> dict[str, Any]:
    """Return what a visitor may see of their ticket (QR code page): no personal data."""
    found = public_statuses(conn, [token], now)
    if token not in found:
        raise NotFound("unknown_ticket", "No ticket with this code.", "token")
    return found[token]
