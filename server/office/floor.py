"""The manager's live floor: who waits where, which counters work, what needs a person now.

Also the two things on the floor that are not visits: kiosks' calls for help (asked, answered)
and the state of each printer, each written in one transaction and returned as facts.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection
from typing import Any

from server.queue.actors import Device, User
from server.queue.center import Center
from server.queue.errors import NotFound
from server.queue.facts import AssistanceRequested, AssistanceResolved, Fact, PrinterStatusChanged
from server.queue.storage import audit
from server.queue.views import center_snapshot

CALLS_WINDOW_S = 3600


def open_assistance(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the help requests from kiosks nobody has answered yet, oldest first."""
    rows = conn.execute(
        "SELECT r.id, r.at, d.name AS device, d.zone FROM assistance_requests r "
        "JOIN devices d ON d.id = r.device_id WHERE r.resolved_at IS NULL ORDER BY r.at, r.id"
    ).fetchall()
    return [dict(r) for r in rows]


def request_assistance(center: Center, device: Device) -> tuple[int, tuple[Fact, ...]]:
    """Record that a visitor at this kiosk asks for a person; return the request's id."""
    with center.transaction() as (conn, now):
        request_id = int(
            conn.execute(
                "INSERT INTO assistance_requests (device_id, at) VALUES (?, ?)", (device.id, now)
            ).lastrowid
            or 0
        )
        audit(conn, "assistance_requested", now, device_id=device.id)
    return request_id, (AssistanceRequested(request_id, device.name, device.zone, now),)


def resolve_assistance(center: Center, request_id: int, user: User) -> tuple[Fact, ...]:
    """Mark a call for help answered (once: a second answer is refused)."""
    with center.transaction() as (conn, now):
        done = conn.execute(
            "UPDATE assistance_requests SET resolved_at = ?, resolved_by = ? "
            "WHERE id = ? AND resolved_at IS NULL",
            (now, user.id, request_id),
        ).rowcount
        if not done:
            raise NotFound("unknown_request", "That call for help is answered already.", "id")
        audit(conn, "assistance_resolved", now, user_id=user.id, detail={"request": request_id})
    return (AssistanceResolved(request_id),)


def record_printer_status(
    center: Center, device: Device, state: str, message: str
) -> tuple[Fact, ...]:
    """Store a printer's latest state, shown in every snapshot's ``printers``."""
    with center.transaction() as (conn, now):
        conn.execute(
            "INSERT INTO printer_status (device_id, state, message, at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (device_id) DO UPDATE SET state = excluded.state,"
            " message = excluded.message, at = excluded.at",
            (device.id, state, message, now),
        )
    return (PrinterStatusChanged(device.name, state, message),)


def floor_view(
    center: Center,
    displays_online: Collection[str],
    hq_sync: dict[str, Any],
    sockets: dict[str, Any],
) -> dict[str, Any]:
    """Return the live floor: the screens' snapshot plus what only a manager needs.

    ``hq_sync`` (the HQ link's status) and ``sockets`` (who is connected) are handed in: the
    office does not reach up to the layers that know them.
    """
    snapshot = center_snapshot(center)
    now, day = snapshot["at"], snapshot["day"]
    with center.store.read() as conn:
        areas = {
            r["letter"]: {"letter": r["letter"], "name": r["name_az"], "waiting": 0,
                          "priority": 0, "longest_wait_s": None}
            for r in conn.execute(
                "SELECT letter, name_az FROM areas WHERE active = 1 ORDER BY position, id"
            )
        }  # fmt: skip
        today = conn.execute(
            "SELECT count(*) AS issued, coalesce(sum(state = 'done'), 0) AS served, "
            "coalesce(sum(state = 'no_show'), 0) AS no_show FROM tickets WHERE day = ?",
            (day,),
        ).fetchone()
        calls_last_hour = conn.execute(
            "SELECT count(*) FROM ticket_events WHERE action = 'call' AND at > ?",
            (now - CALLS_WINDOW_S,),
        ).fetchone()[0]
        displays = [
            {
                "name": r["name"],
                "zone": r["zone"],
                "online": r["name"] in displays_online,
                "last_seen_at": r["last_seen_at"],
            }
            for r in conn.execute(
                "SELECT name, zone, last_seen_at FROM devices "
                "WHERE kind = 'display' AND active = 1 ORDER BY name"
            )
        ]
        assistance = open_assistance(conn)
    for line in snapshot["waiting"]:
        area = areas.get(line["letter"])
        if area is None:
            continue
        area["waiting"] += line["waiting"]
        area["priority"] += line["priority"] or 0
        area["longest_wait_s"] = max(area["longest_wait_s"] or 0, line["longest_wait_s"])
    counters = snapshot["counters"]
    return {
        "at": now,
        "day": day,
        "areas": list(areas.values()),
        "waiting": sum(a["waiting"] for a in areas.values()),
        "longest_wait_s": max((a["longest_wait_s"] or 0 for a in areas.values()), default=0),
        "today": dict(today),
        "calls_last_hour": calls_last_hour,
        "counters": counters,
        "counters_open": sum(c["status"] == "open" for c in counters),
        "counters_serving": sum(c["ticket"] is not None for c in counters),
        "counters_on_break": sum(c["status"] == "break" for c in counters),
        "printers": snapshot["printers"],
        "displays": displays,
        "assistance": assistance,
        "unconfirmed": snapshot["unconfirmed"],
        "hq": hq_sync,
        "sockets": sockets,
    }
