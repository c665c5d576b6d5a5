"""The manager's live floor: who waits where, which counters work, what needs a person now.

Also the two things on the floor that are not visits: kiosks' calls for help (asked, answered)
and the state of each printer, each written in one transaction and returned as facts.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection
from datetime import date
from typing import Any

from server.queue.actors import Device, User
from server.queue.breaks import break_waves, windows_by_counter
from server.queue.center import Center
from server.queue.errors import NotFound
from server.queue.facts import AssistanceRequested, AssistanceResolved, Fact, PrinterStatusChanged
from server.queue.storage import audit
from server.queue.views import center_snapshot
from server.settings import LANGUAGES

CALLS_WINDOW_S = 3600
# An open counter with nobody at it, while visitors wait for what it serves, is an alert once
# this long has passed since it last called or finished anyone (the usual gap is shorter).
IDLE_ALERT_S = 120


def wait_alerts(conn: sqlite3.Connection, waiting: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Services whose longest wait now passes their catalog target.

    Each alert carries its figures and names, and the page words it in the reader's language.
    """
    targets = {
        r["code"]: ({lang: r[f"name_{lang}"] for lang in LANGUAGES}, r["target_minutes"] * 60)
        for r in conn.execute("SELECT * FROM services")
    }
    alerts = []
    for line in waiting:
        names, target_s = targets.get(line["service"], ({}, None))
        if target_s is None or line["longest_wait_s"] <= target_s:
            continue
        alerts.append({
            "kind": "wait_over_target", "service": line["service"], "letter": line["letter"],
            "service_name": names, "longest_wait_s": line["longest_wait_s"], "target_s": target_s,
            "minutes": int(line["longest_wait_s"] // 60), "target_minutes": int(target_s // 60),
        })  # fmt: skip
    return alerts


def idle_counter_alerts(conn: sqlite3.Connection, day: str, now: float) -> list[dict[str, Any]]:
    """Open counters with nobody at them for IDLE_ALERT_S while visitors wait for them.

    Idle since the later of its last call or finish today and its opening (or a break's end).
    """
    waiting: dict[int, int] = {}
    opened: dict[int, float] = {}
    for row in conn.execute(
        "SELECT c.id, c.categories, c.status_since, t.category, count(*) AS n FROM counters c "
        "JOIN counter_services cs ON cs.counter_id = c.id "
        "JOIN tickets t ON t.service_id = cs.service_id AND t.day = ? "
        "AND t.state IN ('issued', 'waiting') "
        "AND (t.target_counter_id IS NULL OR t.target_counter_id = c.id) "
        "WHERE c.status = 'open' AND NOT EXISTS (SELECT 1 FROM tickets a "
        "WHERE a.counter_id = c.id AND a.state IN ('called', 'serving')) "
        "GROUP BY c.id, t.category",
        (day,),
    ):
        serves = json.loads(row["categories"]) if row["categories"] else None
        if serves is None or row["category"] in serves:
            waiting[row["id"]] = waiting.get(row["id"], 0) + row["n"]
            opened[row["id"]] = row["status_since"] or 0
    if not waiting:
        return []
    last_active = dict(
        conn.execute(
            "SELECT counter_id, max(max(coalesce(called_at, 0), coalesce(finished_at, 0))) "
            "FROM tickets WHERE day = ? AND counter_id IS NOT NULL GROUP BY counter_id",
            (day,),
        ).fetchall()
    )
    names = dict(conn.execute("SELECT id, name FROM counters").fetchall())
    alerts = []
    for counter_id, count in waiting.items():
        idle_s = now - max(last_active.get(counter_id) or 0, opened[counter_id])
        if idle_s < IDLE_ALERT_S:
            continue
        alerts.append(
            {"kind": "counter_idle", "counter_id": counter_id, "counter": names[counter_id],
             "waiting": count, "idle_s": idle_s}
        )  # fmt: skip
    return alerts


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


def screen_seen(center: Center, name: str) -> None:
    """Note that a display or kiosk connected or went away now (its last sign of life)."""
    with center.transaction() as (conn, now):
        conn.execute("UPDATE devices SET last_seen_at = ? WHERE name = ?", (now, name))


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
    screens_online: Collection[str],
    hq_sync: dict[str, Any],
    sockets: dict[str, Any],
    serial_lines: list[dict[str, Any]],
) -> dict[str, Any]:
    """Return the live floor: the screens' snapshot plus what only a manager needs.

    ``screens_online`` (displays and kiosks with a socket), ``hq_sync`` (the HQ link's
    status), ``sockets`` (who is connected) and ``serial_lines`` (their state) are handed in:
    the office does not reach up to the layers that know them.
    """
    snapshot = center_snapshot(center)
    now, day = snapshot["at"], snapshot["day"]
    with center.store.read() as conn:
        areas = {
            r["letter"]: {"letter": r["letter"], "name": r["name_az"],
                          "names": {"az": r["name_az"], "ru": r["name_ru"], "en": r["name_en"]},
                          "waiting": 0, "priority": 0, "longest_wait_s": None}
            for r in conn.execute(
                "SELECT letter, name_az, name_ru, name_en FROM areas WHERE active = 1 "
                "ORDER BY position, id"
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
        screens = [
            {
                "name": r["name"],
                "kind": r["kind"],
                "zone": r["zone"],
                "online": r["name"] in screens_online,
                "last_seen_at": r["last_seen_at"],
                "printer": r["printer"],
            }
            for r in conn.execute(
                "SELECT name, kind, zone, last_seen_at, printer FROM devices "
                "WHERE kind IN ('display', 'kiosk') AND active = 1 ORDER BY kind, name"
            )
        ]
        assistance = open_assistance(conn)
        planned = windows_by_counter(break_waves(conn), date.fromisoformat(day), center.timezone)
        alerts = wait_alerts(conn, snapshot["waiting"]) + idle_counter_alerts(conn, day, now)
    for line in snapshot["waiting"]:
        area = areas.get(line["letter"])
        if area is None:
            continue
        area["waiting"] += line["waiting"]
        area["priority"] += line["priority"] or 0
        area["longest_wait_s"] = max(area["longest_wait_s"] or 0, line["longest_wait_s"])
    counters = [
        {**c, "break_planned": _next_break(planned.get(c["id"], ()), c["status"], now)}
        for c in snapshot["counters"]
    ]
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
        "displays": [s for s in screens if s["kind"] == "display"],
        "kiosks": [s for s in screens if s["kind"] == "kiosk"],
        "serial_lines": serial_lines,
        "assistance": assistance,
        "alerts": alerts,
        "unconfirmed": snapshot["unconfirmed"],
        "not_printed": snapshot["not_printed"],
        "hq": hq_sync,
        "sockets": sockets,
    }


def _next_break(
    windows: tuple[tuple[float, float], ...], status: str, now: float
) -> list[float] | None:
    """Return a counter's next planned break as [start, end], or None.

    One begun already counts until its end, unless the counter is on a break now (that one).
    """
    for start, length in windows:
        if start > now or (start + length > now and status != "break"):
            return [start, start + length]
    return None
