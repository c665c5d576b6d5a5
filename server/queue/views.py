"""Read models: one function per question a screen asks of the queue, each over one connection.

What a counter looks like to staff, the latest calls a display shows, the waiting counts, and
the whole snapshot a screen gets on (re)connecting; one ticket's views are in ticket_views.py.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from server.queue.center import Center
from server.queue.engine import GENERAL
from server.queue.errors import NotFound
from server.queue.feedback import SATISFIED
from server.queue.forecast import band
from server.queue.localized import names
from server.queue.ticket_views import QUEUED, hall_forecast, ticket_view

RECENT_CALLS = 10
# What a display learns of a call: no service, no category (the number reveals neither).
CALL_COLUMNS = (
    "SELECT e.id, e.at, e.action, t.label, c.id AS counter_id, c.name AS counter, c.zone, "
    "c.number AS counter_number "
    "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
    "JOIN counters c ON c.id = e.counter_id "
)


def call_event(row: sqlite3.Row) -> dict[str, Any]:
    """Shape one call event as displays receive it; its event id is the ``seq``."""
    return {
        "seq": row["id"],
        "at": row["at"],
        "label": row["label"],
        "counter_id": row["counter_id"],
        "counter": row["counter"],
        "zone": row["zone"],
        "recall": row["action"] == "recall",
    }


def call_view(conn: sqlite3.Connection, seq: int, ticket_id: int) -> dict[str, Any]:
    """Return a call just made: as displays see it, and the ticket as the clerk sees it."""
    row = conn.execute(CALL_COLUMNS + "WHERE e.id = ?", (seq,)).fetchone()
    return {"call": call_event(row), "ticket": ticket_view(conn, ticket_id)}


def recent_calls(
    conn: sqlite3.Connection, day: str, zone: str | None = None, limit: int = RECENT_CALLS
) -> list[dict[str, Any]]:
    """Return the latest calls and recalls of ``day``, newest first (what a display shows)."""
    rows = conn.execute(
        CALL_COLUMNS + "WHERE e.action IN ('call', 'recall') AND t.day = ? "
        "AND (? IS NULL OR c.zone = ?) ORDER BY e.id DESC LIMIT ?",
        (day, zone, zone, limit),
    ).fetchall()
    return [call_event(row) for row in rows]


def waiting_summary(conn: sqlite3.Connection, day: str, now: float) -> list[dict[str, Any]]:
    """Return, per service with anyone queued today, how many wait and the longest wait.

    ``categories`` counts the priority visitors by category, so a counter kept for some
    categories shows the people it can call (a priority-only counter listed 12 waiting while
    its "Call next" said nobody waits).
    """
    rows = conn.execute(
        "SELECT s.code, a.letter, t.category, count(*) AS waiting, min(t.arrived_at) AS oldest "
        "FROM tickets t JOIN services s ON s.id = t.service_id JOIN areas a ON a.id = s.area_id "
        "WHERE t.day = ? AND t.state IN (?, ?) GROUP BY s.id, t.category "
        "ORDER BY a.position, s.position",
        (day, *QUEUED),
    ).fetchall()
    lines: dict[str, dict[str, Any]] = {}
    for r in rows:
        line = lines.setdefault(r["code"], {
            "service": r["code"], "letter": r["letter"], "waiting": 0, "priority": 0,
            "categories": {}, "oldest": r["oldest"],
        })  # fmt: skip
        line["waiting"] += r["waiting"]
        line["oldest"] = min(line["oldest"], r["oldest"])
        if r["category"] != GENERAL:
            line["priority"] += r["waiting"]
            line["categories"][r["category"]] = r["waiting"]
    return [
        {**{k: v for k, v in line.items() if k != "oldest"},
         "longest_wait_s": round(now - line["oldest"], 1)}
        for line in lines.values()
    ]  # fmt: skip


def counter_row(conn: sqlite3.Connection, counter_id: int) -> sqlite3.Row:
    """Return a counter's row, or raise NotFound."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM counters WHERE id = ?", (counter_id,)
    ).fetchone()
    if row is None:
        raise NotFound("unknown_counter", f"No counter {counter_id}.", "counter")
    return row


def active_ticket(conn: sqlite3.Connection, counter_id: int) -> sqlite3.Row | None:
    """Return the visit called or being served at a counter (there is at most one)."""
    row: sqlite3.Row | None = conn.execute(
        "SELECT * FROM tickets WHERE counter_id = ? AND state IN ('called', 'serving')",
        (counter_id,),
    ).fetchone()
    return row


def counter_view(conn: sqlite3.Connection, counter_id: int, day: str) -> dict[str, Any]:
    """Return a counter, its services, its current visit and its clerk's ``day`` so far."""
    counter = counter_row(conn, counter_id)
    services = [
        r[0]
        for r in conn.execute(
            "SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id "
            "WHERE cs.counter_id = ? ORDER BY s.position",
            (counter_id,),
        )
    ]
    active = active_ticket(conn, counter_id)
    return {
        "id": counter["id"],
        "name": counter["name"],
        "zone": counter["zone"],
        "status": counter["status"],
        "reason": counter["status_reason"],
        "break_until": counter["break_until"],
        "clerk_user_id": counter["clerk_user_id"],
        "services": services,
        "categories": json.loads(counter["categories"]) if counter["categories"] else None,
        "ticket": ticket_view(conn, active["id"]) if active else None,
        "on_hold": [
            r[0]
            for r in conn.execute(
                "SELECT label FROM tickets WHERE counter_id = ? AND state = 'on_hold' ORDER BY id",
                (counter_id,),
            )
        ],
        "today": (
            clerk_day(conn, counter["clerk_user_id"], day) if counter["clerk_user_id"] else None
        ),
    }


def clerk_day(conn: sqlite3.Connection, user_id: int, day: str) -> dict[str, Any]:
    """Return a clerk's own visits on ``day``: served, no-shows, average service time, ratings.

    Ratings are what visitors said of this clerk's visits: how many, the share of 4 and 5.
    """
    row = conn.execute(
        "SELECT sum(t.state = 'done') AS served, sum(t.state = 'no_show') AS no_show, "
        "avg(CASE WHEN t.state = 'done' THEN t.finished_at - t.started_at END) AS average, "
        "count(f.rating) AS rated, sum(f.rating >= ?) AS satisfied "
        "FROM tickets t LEFT JOIN feedback f ON f.ticket_id = t.id "
        "WHERE t.clerk_user_id = ? AND t.day = ?",
        (SATISFIED, user_id, day),
    ).fetchone()
    average = round(row["average"]) if row["average"] is not None else None
    rated = row["rated"] or 0
    return {
        "served": row["served"] or 0,
        "no_show": row["no_show"] or 0,
        "average_service_s": average,
        "rated": rated,
        "satisfied_percent": round(100 * row["satisfied"] / rated, 1) if rated else None,
    }


def list_counters(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every counter with its status, who is signed in there and what it serves.

    ``areas`` lists its services by area ({letter, name, services: [code]}), so a clerk
    choosing a counter sees what each one serves before signing in.
    """
    rows = conn.execute(
        "SELECT c.id, c.name, c.zone, c.status, c.clerk_user_id, u.display_name AS clerk "
        "FROM counters c "
        "LEFT JOIN users u ON u.id = c.clerk_user_id ORDER BY c.id"
    ).fetchall()
    areas: dict[int, dict[str, dict[str, Any]]] = {r["id"]: {} for r in rows}
    for served in conn.execute(
        "SELECT cs.counter_id, a.letter, a.name_az, s.code FROM counter_services cs "
        "JOIN services s ON s.id = cs.service_id JOIN areas a ON a.id = s.area_id "
        "WHERE s.active = 1 ORDER BY a.position, a.id, s.position, s.id"
    ):
        letter = served["letter"]
        area = areas[served["counter_id"]].setdefault(
            letter, {"letter": letter, "name": served["name_az"], "services": []}
        )
        area["services"].append(served["code"])
    return [{**dict(r), "areas": list(areas[r["id"]].values())} for r in rows]


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
        # Printing failed (paper out, cover open): the visitor has only the number on the kiosk
        # screen. Listed until a reprint succeeds or the visit leaves the queue.
        not_printed = conn.execute(
            "SELECT id, label, arrived_at, state FROM tickets WHERE day = ? "
            "AND print_status = 'failed' AND state IN ('issued', 'waiting') ORDER BY arrived_at",
            (day,),
        ).fetchall()
        counters = conn.execute(
            "SELECT c.id, c.name, c.zone, c.status, c.status_reason, c.break_until, "
            "u.display_name AS clerk, "
            "t.id AS ticket_id, t.label, t.state FROM counters c "
            "LEFT JOIN users u ON u.id = c.clerk_user_id "
            "LEFT JOIN tickets t ON t.counter_id = c.id AND t.state IN ('called', 'serving') "
            "WHERE ? IS NULL OR c.zone = ? ORDER BY c.id",
            (zone, zone),
        ).fetchall()
        printers = conn.execute(
            "SELECT d.name AS device, d.print_mode, p.state, p.message, p.at FROM printer_status p "
            "JOIN devices d ON d.id = p.device_id ORDER BY d.name"
        ).fetchall()
        return {
            "day": day,
            "at": now,
            "printers": [dict(p) for p in printers],
            "last_seq": last or 0,
            "waiting": waiting_summary(conn, day, now),
            "unconfirmed": [dict(r) for r in unconfirmed],
            "not_printed": [dict(r) for r in not_printed],
            "recent_calls": recent_calls(conn, day, zone),
            "counters": [
                {
                    "id": c["id"],
                    "name": c["name"],
                    "zone": c["zone"],
                    "status": c["status"],
                    "reason": c["status_reason"],
                    "break_until": c["break_until"],
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


def hall_now(conn: sqlite3.Connection, day: str, now: float | None = None) -> dict[str, Any]:
    """Return what HQ's public page shows of this center now: no personal data, no names.

    Per active area: how many wait, and the wait a new ticket would have there (the longest
    of its services' estimates, from the hall's replay: the page says "up to"); and how many
    counters are open.
    """
    waiting = conn.execute(
        "SELECT s.id, s.area_id, count(*) AS waiting FROM tickets t "
        "JOIN services s ON s.id = t.service_id "
        "WHERE t.day = ? AND t.state IN (?, ?) GROUP BY s.id",
        (day, *QUEUED),
    ).fetchall()
    hall = hall_forecast(conn, day, now)
    areas = []
    for area in conn.execute(
        "SELECT id, code, name_az, name_ru, name_en FROM areas WHERE active = 1 ORDER BY position"
    ):
        queued = [row for row in waiting if row["area_id"] == area["id"]]
        estimates = [hall.new_visit_minutes(row["id"]) for row in queued]
        areas.append(
            {
                "code": area["code"],
                "name": names(area),
                "waiting": sum(row["waiting"] for row in queued),
                "wait_min": max((m for m in estimates if m is not None), default=0),
            }
        )
    open_counters = conn.execute("SELECT count(*) FROM counters WHERE status = 'open'").fetchone()
    return {"areas": areas, "open_counters": open_counters[0]}


def not_reached_today(center: Center, conn: sqlite3.Connection, now: float) -> set[str]:
    """Return the codes of services whose next visitor the day may not reach.

    Those the hall's replay may call after closing: the band told with the estimate reaches
    past it (a call predicted five minutes before closing is as likely missed as made).

    The kiosk says so before a ticket is taken ("we may not reach your number today"). With
    no hours set there is no closing time: none.
    """
    hours = center.opening_hours(conn)
    local = datetime.fromtimestamp(now, center.timezone)
    today = hours.on(local.date()) if hours else None
    if today is None:
        return set()
    closes = datetime.combine(local.date(), today.closing_time(), center.timezone).timestamp()
    hall = hall_forecast(conn, center.day(now), now, center.timezone)
    late = set()
    for service_id, code in conn.execute("SELECT id, code FROM services WHERE active = 1"):
        wait = hall.new_visit_minutes(service_id)
        # "May not": the band told (server/queue/forecast.py) reaches past closing.
        if wait is not None and now + band(wait)[1] * 60 > closes:
            late.add(code)
    return late
