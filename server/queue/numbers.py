"""How a ticket is numbered: per day and per area letter (A-001...), inside the ticket's own write.

The number is taken by one ``UPSERT ... RETURNING`` on ``day_sequences`` in the same
``BEGIN IMMEDIATE`` transaction that inserts the ticket, so two kiosks can never get the same
number and a rolled-back ticket gives its number back; the unique index on
``tickets (day, letter, number)`` is the backstop. Every visit row, from a kiosk, a walk-in or
the history generator, is written by ``insert_tickets``.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Mapping, Sequence
from typing import Any

from server.queue.engine import ticket_label
from server.queue.errors import NotFound

# The columns a visit row may be written with; the others keep their schema defaults.
TICKET_COLUMNS = frozenset(
    (
        "token", "day", "letter", "number", "label", "service_id", "category", "device_id",
        "state", "print_status", "arrived_at", "queued_at", "called_at", "first_called_at",
        "started_at", "finished_at", "counter_id", "clerk_user_id", "outcome", "walk_in",
        "transfers", "language", "slot_at", "booking_code", "told_wait_min",
    )
)  # fmt: skip


def open_service(conn: sqlite3.Connection, code: str) -> sqlite3.Row:
    """Return an active service (id, letter) by code, or raise NotFound naming the field."""
    service: sqlite3.Row | None = conn.execute(
        "SELECT s.id, a.letter FROM services s JOIN areas a ON a.id = s.area_id "
        "WHERE s.code = ? AND s.active = 1 AND a.active = 1",
        (code,),
    ).fetchone()
    if service is None:
        raise NotFound("unknown_service", f"No open service with code '{code}'.", "service")
    return service


def next_number(conn: sqlite3.Connection, day: str, letter: str) -> int:
    """Take the next number of ``letter`` today; call it inside the ticket's own transaction."""
    return int(
        conn.execute(
            "INSERT INTO day_sequences (day, letter, last) VALUES (?, ?, 1) "
            "ON CONFLICT (day, letter) DO UPDATE SET last = last + 1 RETURNING last",
            (day, letter),
        ).fetchone()[0]
    )


def numbered(conn: sqlite3.Connection, day: str, service: sqlite3.Row) -> dict[str, Any]:
    """Take the next number of the service's area and return the identity columns of a visit."""
    number = next_number(conn, day, service["letter"])
    return {
        "token": secrets.token_urlsafe(16),  # the ticket's QR: its only key for the public
        "day": day,
        "letter": service["letter"],
        "number": number,
        "label": ticket_label(service["letter"], number),
        "service_id": service["id"],
    }


def insert_tickets(conn: sqlite3.Connection, rows: Sequence[Mapping[str, Any]]) -> int:
    """Write visit rows that all name the same columns; return the id of the last one."""
    if not rows:
        return 0
    columns = sorted(rows[0])
    unknown = set(columns) - TICKET_COLUMNS
    if unknown or any(sorted(row) != columns for row in rows):
        raise ValueError(f"visit rows must name the same known columns, not {sorted(unknown)}")
    sql = (
        f"INSERT INTO tickets ({', '.join(columns)}) "  # noqa: S608 (columns checked above)
        f"VALUES ({', '.join(':' + c for c in columns)})"
    )
    if len(rows) == 1:
        return int(conn.execute(sql, rows[0]).lastrowid or 0)
    conn.executemany(sql, rows)
    return int(conn.execute("SELECT max(id) FROM tickets").fetchone()[0])
