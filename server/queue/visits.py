"""Tickets from the visitor's side: issuing, print results, public status, the center snapshot."""

from __future__ import annotations

import secrets
import sqlite3
import statistics
from datetime import datetime
from typing import Any

from server.office.accounts import Device, User, device_from_row
from server.office.catalog import LANGUAGES
from server.queue.center import Center, log_event, remember_response, replayed_response
from server.queue.engine import (
    GENERAL,
    Action,
    Forbidden,
    Invalid,
    NotFound,
    OpeningHours,
    QueueError,
    State,
    estimate_wait_minutes,
    next_issuing_time,
    next_state,
    ticket_label,
)
from server.queue.storage import get_setting

RECENT_CALLS = 10
# States of a visit still in the queue (an unconfirmed ticket still holds its place).
QUEUED = (State.ISSUED.value, State.WAITING.value)


def _names(row: sqlite3.Row, prefix: str = "name") -> dict[str, str]:
    return {lang: row[f"{prefix}_{lang}"] for lang in LANGUAGES if row[f"{prefix}_{lang}"]}


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


def estimated_wait(conn: sqlite3.Connection, ticket: sqlite3.Row, ahead: int) -> int:
    """Estimate a queued ticket's wait from today's real service times for its service."""
    durations = [
        r[0]
        for r in conn.execute(
            "SELECT (finished_at - started_at) / 60.0 FROM tickets WHERE service_id = ? "
            "AND day = ? AND state = 'done' AND started_at IS NOT NULL "
            "ORDER BY finished_at DESC LIMIT 20",
            (ticket["service_id"], ticket["day"]),
        )
    ]
    if durations:
        minutes = statistics.median(durations)
    else:  # no one served yet today: the catalog's target time
        minutes = conn.execute(
            "SELECT target_minutes FROM services WHERE id = ?", (ticket["service_id"],)
        ).fetchone()[0]
    counters_open = conn.execute(
        "SELECT count(*) FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
        "WHERE cs.service_id = ? AND c.status = 'open'",
        (ticket["service_id"],),
    ).fetchone()[0]
    return estimate_wait_minutes(ahead, minutes, counters_open)


def ticket_view(conn: sqlite3.Connection, ticket_id: int) -> dict[str, Any]:
    """Return a ticket as the API shows it to staff and to the issuing device."""
    row = conn.execute(
        "SELECT t.*, s.code AS service_code, s.name_az, s.name_ru, s.name_en, "
        "c.name AS counter_name FROM tickets t JOIN services s ON s.id = t.service_id "
        "LEFT JOIN counters c ON c.id = t.counter_id WHERE t.id = ?",
        (ticket_id,),
    ).fetchone()
    if row is None:
        raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
    queued = row["state"] in QUEUED
    ahead = people_ahead(conn, row) if queued else 0
    return {
        "id": row["id"],
        "label": row["label"],
        "token": row["token"],
        "day": row["day"],
        "service": {"code": row["service_code"], "name": _names(row)},
        "category": row["category"],
        "state": row["state"],
        "print_status": row["print_status"],
        "arrived_at": row["arrived_at"],
        "called_at": row["called_at"],
        "counter": row["counter_name"],
        "people_ahead": ahead,
        "estimated_wait_min": estimated_wait(conn, row, ahead) if queued else None,
    }


def open_service(conn: sqlite3.Connection, code: str) -> sqlite3.Row:
    """Return an active service (id, letter) by code, or raise NotFound naming the field."""
    service = conn.execute(
        "SELECT s.id, a.letter FROM services s JOIN areas a ON a.id = s.area_id "
        "WHERE s.code = ? AND s.active = 1 AND a.active = 1",
        (code,),
    ).fetchone()
    if service is None:
        raise NotFound("unknown_service", f"No open service with code '{code}'.", "service")
    return service


def next_number(conn: sqlite3.Connection, day: str, letter: str) -> int:
    """Take the next number of ``letter`` today; call it inside the ticket's own transaction.

    One UPSERT ... RETURNING under BEGIN IMMEDIATE: two kiosks can never get the same number,
    and a rolled-back ticket gives its number back.
    """
    return int(
        conn.execute(
            "INSERT INTO day_sequences (day, letter, last) VALUES (?, ?, 1) "
            "ON CONFLICT (day, letter) DO UPDATE SET last = last + 1 RETURNING last",
            (day, letter),
        ).fetchone()[0]
    )


def issue_ticket(
    center: Center,
    service_code: str,
    *,
    device: Device | None,
    category: str = GENERAL,
    printed_by_device: bool = True,
    idempotency_key: str | None = None,
) -> dict[str, Any]:
    """Issue the next number of the service's area for today, in one BEGIN IMMEDIATE transaction.

    With ``printed_by_device`` the ticket waits as *issued* until the device reports the print
    result; otherwise (no printer on that device) it waits at once.
    """
    key = f"issue:{device.id if device else 0}:{idempotency_key}" if idempotency_key else None
    with center.transaction() as (conn, now):
        replay = replayed_response(conn, key)
        if replay:
            return {**replay, "replayed": True}  # the same ticket: nothing to print again
        opens = next_issuing_time(
            OpeningHours.from_setting(get_setting(conn, "hours", None)),
            datetime.fromtimestamp(now, center.timezone),
        )
        if opens is not None:
            raise QueueError("closed", f"Tickets are issued again from {opens:%d.%m %H:%M}.")
        service = open_service(conn, service_code)
        if (
            category != GENERAL
            and conn.execute(
                "SELECT 1 FROM priority_categories WHERE code = ? AND active = 1", (category,)
            ).fetchone()
            is None
        ):
            raise Invalid("unknown_category", f"No priority category '{category}'.", "category")
        day = center.day(now)
        number = next_number(conn, day, service["letter"])
        waits_for_print = printed_by_device and device is not None and device.prints
        state = State.ISSUED if waits_for_print else State.WAITING
        cursor = conn.execute(
            "INSERT INTO tickets (token, day, letter, number, label, service_id, category, "
            "device_id, state, print_status, arrived_at, queued_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                secrets.token_urlsafe(16),
                day,
                service["letter"],
                number,
                ticket_label(service["letter"], number),
                service["id"],
                category,
                device.id if device else None,
                state.value,
                "pending" if waits_for_print else "none",
                now,
                now,
            ),
        )
        ticket_id = int(cursor.lastrowid or 0)
        log_event(
            conn,
            ticket_id,
            "issue",
            state,
            now,
            service_id=service["id"],
            device_id=device.id if device else None,
        )
        response = ticket_view(conn, ticket_id)
        remember_response(conn, key, now, response)
        return response


def record_print_result(
    center: Center, ticket_id: int, printed: bool, device: Device, detail: str | None = None
) -> dict[str, Any]:
    """Record whether the issuing device printed the ticket; a repeated report changes nothing."""
    with center.transaction() as (conn, now):
        row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
        if row["device_id"] != device.id:
            raise Forbidden(
                "not_your_ticket", "Only the device that issued a ticket reports its print result."
            )
        result = "printed" if printed else "failed"
        if row["print_status"] == result or (row["print_status"] == "printed" and not printed):
            return ticket_view(conn, ticket_id)  # a retry, or a late failure after success
        if row["print_status"] == "none":
            raise QueueError("nothing_to_print", f"{row['label']} was not sent to a printer.")
        state = State(row["state"])
        if state is State.ISSUED:
            # Printed or not, the number is now on the kiosk screen: the visitor has it.
            state = next_state(state, Action.CONFIRM_PRINT)
        conn.execute(
            "UPDATE tickets SET print_status = ?, state = ? WHERE id = ?",
            (result, state.value, ticket_id),
        )
        log_event(
            conn,
            ticket_id,
            f"print_{result}",
            state,
            now,
            device_id=device.id,
            detail={"detail": detail} if detail else None,
        )
        return ticket_view(conn, ticket_id)


def cancel_ticket(center: Center, ticket_id: int, user: User, reason: str) -> dict[str, Any]:
    """Cancel a visit that is not being served (e.g. a flagged, never-printed ticket)."""
    with center.transaction() as (conn, now):
        row = conn.execute("SELECT state FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
        state = next_state(State(row["state"]), Action.CANCEL)
        conn.execute(
            "UPDATE tickets SET state = ?, finished_at = ? WHERE id = ?",
            (state.value, now, ticket_id),
        )
        log_event(conn, ticket_id, "cancel", state, now, user_id=user.id, detail={"reason": reason})
        return ticket_view(conn, ticket_id)


def prepare_reprint(center: Center, ticket_id: int, user: User) -> tuple[dict[str, Any], Device]:
    """Log a staff reprint of a ticket still in the queue; return it and its kiosk."""
    with center.transaction() as (conn, now):
        row = conn.execute(
            "SELECT t.state, d.* FROM tickets t LEFT JOIN devices d ON d.id = t.device_id "
            "WHERE t.id = ?",
            (ticket_id,),
        ).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
        if row["state"] not in QUEUED:
            raise QueueError("not_queued", "Only a ticket still waiting can be reprinted.")
        if row["printer"] is None:
            raise QueueError("no_printer", "This ticket's kiosk has no printer the server drives.")
        conn.execute("UPDATE tickets SET print_status = 'pending' WHERE id = ?", (ticket_id,))
        log_event(conn, ticket_id, "reprint", State(row["state"]), now, user_id=user.id)
        return ticket_view(conn, ticket_id), device_from_row(row)


def public_status(center: Center, token: str) -> dict[str, Any]:
    """Return what a visitor may see of their ticket (QR code page): no personal data."""
    with center.store.read() as conn:
        row = conn.execute("SELECT id FROM tickets WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", "No ticket with this code.", "token")
        view = ticket_view(conn, row["id"])
    return {
        key: view[key]
        for key in (
            "label",
            "service",
            "state",
            "people_ahead",
            "estimated_wait_min",
            "counter",
            "arrived_at",
            "called_at",
        )
    }


def recent_calls(
    conn: sqlite3.Connection, day: str, zone: str | None = None, limit: int = RECENT_CALLS
) -> list[dict[str, Any]]:
    """Return the latest calls and recalls of ``day``, newest first (what a display shows)."""
    rows = conn.execute(
        "SELECT e.id, e.at, e.action, t.label, c.id AS counter_id, c.name AS counter, c.zone "
        "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "JOIN counters c ON c.id = e.counter_id "
        "WHERE e.action IN ('call', 'recall') AND t.day = ? AND (? IS NULL OR c.zone = ?) "
        "ORDER BY e.id DESC LIMIT ?",
        (day, zone, zone, limit),
    ).fetchall()
    return [call_event(row) for row in rows]


def call_event(row: sqlite3.Row) -> dict[str, Any]:
    """Shape one call event as displays receive it: no service, no category."""
    return {
        "seq": row["id"],
        "at": row["at"],
        "label": row["label"],
        "counter_id": row["counter_id"],
        "counter": row["counter"],
        "zone": row["zone"],
        "recall": row["action"] == "recall",
    }


def waiting_summary(conn: sqlite3.Connection, day: str, now: float) -> list[dict[str, Any]]:
    """Return, per service with anyone queued today, how many wait and the longest wait."""
    rows = conn.execute(
        "SELECT s.code, a.letter, count(*) AS waiting, "
        "sum(t.category != 'general') AS priority, min(t.arrived_at) AS oldest "
        "FROM tickets t JOIN services s ON s.id = t.service_id JOIN areas a ON a.id = s.area_id "
        "WHERE t.day = ? AND t.state IN (?, ?) GROUP BY s.id ORDER BY a.position, s.position",
        (day, *QUEUED),
    ).fetchall()
    return [
        {
            "service": r["code"],
            "letter": r["letter"],
            "waiting": r["waiting"],
            "priority": r["priority"],
            "longest_wait_s": round(now - r["oldest"], 1),
        }
        for r in rows
    ]


def center_snapshot(center: Center, zone: str | None = None) -> dict[str, Any]:
    """Return the whole live state a screen needs after (re)connecting."""
    now = center.now()
    day = center.day(now)
    with center.store.read() as conn:
        last = conn.execute(
            "SELECT max(id) FROM ticket_events WHERE action IN ('call', 'recall')"
        ).fetchone()[0]
        unconfirmed = conn.execute(
            "SELECT id, label, arrived_at FROM tickets WHERE day = ? AND state = 'issued' "
            "AND arrived_at <= ? ORDER BY arrived_at",
            (day, now - center.unconfirmed_after_s),
        ).fetchall()
        counters = conn.execute(
            "SELECT c.id, c.name, c.zone, c.status, c.status_reason, u.display_name AS clerk, "
            "t.id AS ticket_id, t.label, t.state FROM counters c "
            "LEFT JOIN users u ON u.id = c.clerk_user_id "
            "LEFT JOIN tickets t ON t.counter_id = c.id AND t.state IN ('called', 'serving') "
            "WHERE ? IS NULL OR c.zone = ? ORDER BY c.id",
            (zone, zone),
        ).fetchall()
        printers = conn.execute(
            "SELECT d.name AS device, p.state, p.message, p.at FROM printer_status p "
            "JOIN devices d ON d.id = p.device_id ORDER BY d.name"
        ).fetchall()
        return {
            "day": day,
            "at": now,
            "printers": [dict(p) for p in printers],
            "last_seq": last or 0,
            "waiting": waiting_summary(conn, day, now),
            "unconfirmed": [dict(r) for r in unconfirmed],
            "recent_calls": recent_calls(conn, day, zone),
            "counters": [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "zone": c["zone"],
                    "status": c["status"],
                    "reason": c["status_reason"],
                    "clerk": c["clerk"],
                    "ticket": (
                        {"id": c["ticket_id"], "label": c["label"], "state": c["state"]}
                        if c["ticket_id"]
                        else None
                    ),
                }
                for c in counters
            ],
        }
