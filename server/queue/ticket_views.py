"""Read models of one ticket: its place in line and pace, as staff and as its visitor see it.

How many are ahead of a visitor, how fast their service moves today, a ticket found by its
number, and the public status a phone follows (many at once for the phones' pass).
"""

from __future__ import annotations

import sqlite3
import statistics
from typing import Any

from server.queue.engine import State, estimate_wait_minutes
from server.queue.errors import NotFound
from server.queue.feedback import feedback_of
from server.queue.localized import names

# States of a visit still in the queue (an unconfirmed ticket still holds its place).
QUEUED = (State.ISSUED.value, State.WAITING.value)


def people_ahead(conn: sqlite3.Connection, ticket: sqlite3.Row) -> int:
    """Count visits for the same service queued before this one (the number a visitor sees)."""
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


def called_today(conn: sqlite3.Connection, day: str, label: str) -> bool:
    """Tell whether the ticket ``label`` of ``day`` has been called (a display may speak it)."""
    row = conn.execute(
        "SELECT 1 FROM tickets WHERE day = ? AND label = ? AND first_called_at IS NOT NULL",
        (day, label),
    ).fetchone()
    return row is not None


def service_pace(conn: sqlite3.Connection, service_id: int, day: str) -> tuple[float, int]:
    """Return a service's minutes per visit today and its open counters (a wait's estimate).

    The minutes are the median of today's last 20 services, else the catalog's target.
    """
    durations = [
        r[0]
        for r in conn.execute(
            "SELECT (finished_at - started_at) / 60.0 FROM tickets WHERE service_id = ? "
            "AND day = ? AND state = 'done' AND started_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT 20",
            (service_id, day),
        )
    ]
    if durations:
        minutes = statistics.median(durations)
    else:  # no one served yet today: the catalog's target time
        minutes = conn.execute(
            "SELECT target_minutes FROM services WHERE id = ?", (service_id,)
        ).fetchone()[0]
    counters_open = conn.execute(
        "SELECT count(*) FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
        "WHERE cs.service_id = ? AND c.status = 'open'",
        (service_id,),
    ).fetchone()[0]
    return minutes, counters_open


TICKET_COLUMNS = (
    "SELECT t.*, s.code AS service_code, s.name_az, s.name_ru, s.name_en, "
    "s.documents_az, s.documents_ru, s.documents_en, "
    "c.name AS counter_name FROM tickets t JOIN services s ON s.id = t.service_id "
    "LEFT JOIN counters c ON c.id = t.counter_id "
)


def _ticket(row: sqlite3.Row, ahead: int, pace: tuple[float, int] | None) -> dict[str, Any]:
    """Shape a ticket row; ``ahead`` and ``pace`` matter only while it is queued."""
    queued = row["state"] in QUEUED and pace is not None
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
        "people_ahead": ahead if queued else 0,
        "estimated_wait_min": estimate_wait_minutes(ahead, *pace) if queued and pace else None,
    }


def ticket_view(conn: sqlite3.Connection, ticket_id: int) -> dict[str, Any]:
    """Return a ticket as the API shows it to staff and to the issuing device."""
    row = conn.execute(TICKET_COLUMNS + "WHERE t.id = ?", (ticket_id,)).fetchone()
    if row is None:
        raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
    if row["state"] not in QUEUED:
        return _ticket(row, 0, None)
    return _ticket(row, people_ahead(conn, row), service_pace(conn, row["service_id"], row["day"]))


def find_ticket(conn: sqlite3.Connection, day: str, label: str) -> dict[str, Any]:
    """Return the ticket ``label`` of ``day`` as staff see it (the label as printed)."""
    row = conn.execute(
        "SELECT id FROM tickets WHERE day = ? AND label = ?", (day, label)
    ).fetchone()
    if row is None:
        raise NotFound("unknown_ticket", f"No ticket {label} today.", "label")
    return ticket_view(conn, row["id"])


# Tokens per query: SQLite's default limit on parameters is far above it.
TOKENS_PER_QUERY = 500
# Up to this many tickets asked in one queue line, each is counted; past it the line is read
# once (a line of hundreds read for one phone's connect cost more than its count).
FEW_IN_LINE = 4


def public_statuses(conn: sqlite3.Connection, tokens: list[str]) -> dict[str, dict[str, Any]]:
    """Return what each ticket's page shows (no personal data), by token; unknown ones left out.

    A few queries whatever the number of tickets: the tickets, then each queue line they wait
    in read once, in order, for everyone's place in it (a line asked for a few tickets only:
    each counted), and each service's pace once. The
    phones' pass asks this for every followed ticket each second: a thousand phones cost
    about twenty queries, not five thousand (bench/realtime.py).
    """
    rows: list[sqlite3.Row] = []
    for first in range(0, len(tokens), TOKENS_PER_QUERY):
        chunk = tokens[first : first + TOKENS_PER_QUERY]
        rows += conn.execute(
            TICKET_COLUMNS + f"WHERE t.token IN ({', '.join('?' * len(chunk))})",  # noqa: S608
            chunk,
        ).fetchall()
    places: dict[int, int] = {}
    paces: dict[tuple[str, int], tuple[float, int]] = {}
    asked: dict[tuple[str, int], list[sqlite3.Row]] = {}
    for row in rows:
        if row["state"] in QUEUED:
            asked.setdefault((row["day"], row["service_id"]), []).append(row)
    for (day, service_id), queued in asked.items():
        if len(queued) <= FEW_IN_LINE:  # a phone connecting: count, do not read the line
            places.update({row["id"]: people_ahead(conn, row) for row in queued})
        else:  # the same order people_ahead counts in: arrival, then number
            line = conn.execute(
                "SELECT id FROM tickets WHERE service_id = ? AND day = ? AND state IN (?, ?) "
                "ORDER BY arrived_at, id",
                (service_id, day, *QUEUED),
            ).fetchall()
            places.update({ticket_id: place for place, (ticket_id,) in enumerate(line)})
        paces[(day, service_id)] = service_pace(conn, service_id, day)
    statuses = {}
    for row in rows:
        view = _ticket(row, places.get(row["id"], 0), paces.get((row["day"], row["service_id"])))
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
    "counter",
    "arrived_at",
    "called_at",
)


def public_status(conn: sqlite3.Connection, token: str) -> dict[str, Any]:
    """Return what a visitor may see of their ticket (QR code page): no personal data."""
    found = public_statuses(conn, [token])
    if token not in found:
        raise NotFound("unknown_ticket", "No ticket with this code.", "token")
    return found[token]
