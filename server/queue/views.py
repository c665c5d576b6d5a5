"""Read models: one function per question a screen asks of the queue, each over one connection.

How many are ahead of a visitor, what a ticket or counter looks like to staff, the latest calls
a display shows, the waiting counts, and the whole snapshot a screen gets on (re)connecting.
"""

from __future__ import annotations

import json
import sqlite3
import statistics
from typing import Any

from server.queue.center import Center
from server.queue.engine import State, estimate_wait_minutes
from server.queue.errors import NotFound
from server.queue.feedback import SATISFIED, feedback_of
from server.settings import LANGUAGES

RECENT_CALLS = 10
# States of a visit still in the queue (an unconfirmed ticket still holds its place).
QUEUED = (State.ISSUED.value, State.WAITING.value)
# What a display learns of a call: no service, no category (the number reveals neither).
CALL_COLUMNS = (
    "SELECT e.id, e.at, e.action, t.label, c.id AS counter_id, c.name AS counter, c.zone "
    "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
    "JOIN counters c ON c.id = e.counter_id "
)


def names(row: sqlite3.Row, prefix: str = "name") -> dict[str, str]:
    """Return a row's ``<prefix>_az/_ru/_en`` columns as {language: text}, leaving out blanks."""
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


def hall_now(conn: sqlite3.Connection, day: str) -> dict[str, Any]:
    """Return what HQ's public page shows of this center now: no personal data, no names.

    Per active area: how many wait, and the wait a new ticket would have there (the longest
    of its services' estimates: the page says "up to"); and how many counters are open.
    """
    waiting = conn.execute(
        "SELECT s.id, s.area_id, count(*) AS waiting FROM tickets t "
        "JOIN services s ON s.id = t.service_id "
        "WHERE t.day = ? AND t.state IN (?, ?) GROUP BY s.id",
        (day, *QUEUED),
    ).fetchall()
    areas = []
    for area in conn.execute(
        "SELECT id, code, name_az, name_ru, name_en FROM areas WHERE active = 1 ORDER BY position"
    ):
        queued = [row for row in waiting if row["area_id"] == area["id"]]
        estimates = [
            estimate_wait_minutes(row["waiting"], *service_pace(conn, row["id"], day))
            for row in queued
        ]
        areas.append(
            {
                "code": area["code"],
                "name": names(area),
                "waiting": sum(row["waiting"] for row in queued),
                "wait_min": max(estimates, default=0),
            }
        )
    open_counters = conn.execute("SELECT count(*) FROM counters WHERE status = 'open'").fetchone()
    return {"areas": areas, "open_counters": open_counters[0]}
