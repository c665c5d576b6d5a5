"""A center's appointment hours, the slots it offers HQ, and what became of each booking.

The center's admin says, per service, on which weekdays and between which hours visits can
be booked, how long a slot is and how many visits a slot takes (``appointment_hours``
setting). The center turns that into concrete slots for the next ``DAYS_AHEAD`` days, on
the days and within the hours it is open (its calendar's holidays and short days count),
and sends them to HQ on its sync cycle. HQ books into them; the center hears the bookings
back (``server.queue.appointments.hear_bookings``) and tells HQ what became of each:
checked in (and when it was called) or a no-show.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.office.reports import nearest_rank
from server.queue.appointments import CheckInWindow
from server.queue.engine import OpeningHours
from server.queue.errors import Invalid
from server.queue.localized import names
from server.queue.storage import get_setting, put_setting

SETTING = "appointment_hours"
DAYS_AHEAD = 14  # how far ahead visitors can book
OUTCOME_DAYS = 14  # how far back the center tells HQ what became of bookings
MAX_RULES = 200
MAX_SEATS = 50  # a code numbers a slot's bookings up to 255, cancelled ones included


def rules(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the appointment hours: [{service, weekdays, from, until, slot_min, seats}]."""
    return list(get_setting(conn, SETTING, []))


def _minutes(value: str, field: str) -> int:
    try:
        moment = time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise Invalid("bad_time", f"{field}: a time like 09:30.", field) from exc
    return moment.hour * 60 + moment.minute


def check_rule(conn: sqlite3.Connection, rule: dict[str, Any]) -> dict[str, Any]:
    """Return a rule as stored, or refuse it naming the field that is wrong."""
    service = conn.execute(
        "SELECT code FROM services WHERE code = ? AND active = 1", (rule.get("service"),)
    ).fetchone()
    if service is None:
        raise Invalid("unknown_service", "service: an open service of this center.", "service")
    weekdays = sorted({int(day) for day in rule.get("weekdays", []) if str(day) in "0123456"})
    if not weekdays:
        raise Invalid("no_weekdays", "weekdays: at least one day of the week.", "weekdays")
    start = _minutes(str(rule.get("from", "")), "from")
    end = _minutes(str(rule.get("until", "")), "until")
    try:
        slot_min, seats = int(rule.get("slot_min", 0)), int(rule.get("seats", 0))
    except (TypeError, ValueError) as exc:
        raise Invalid("bad_number", "slot_min and seats: whole numbers.", "slot_min") from exc
    if not 5 <= slot_min <= 240:
        raise Invalid("bad_slot", "slot_min: from 5 to 240 minutes.", "slot_min")
    if not 1 <= seats <= MAX_SEATS:
        raise Invalid("bad_seats", f"seats: from 1 to {MAX_SEATS} visits a slot.", "seats")
    if end - start < slot_min:
        raise Invalid("bad_hours", "until: at least one slot after from.", "until")
    return {
        "service": service["code"],
        "weekdays": weekdays,
        "from": f"{start // 60:02d}:{start % 60:02d}",
        "until": f"{end // 60:02d}:{end % 60:02d}",
        "slot_min": slot_min,
        "seats": seats,
    }


def add_rule(conn: sqlite3.Connection, rule: dict[str, Any]) -> dict[str, Any]:
    """Add appointment hours for a service; return them as stored."""
    stored = rules(conn)
    if len(stored) >= MAX_RULES:
        raise Invalid("too_many_rules", f"At most {MAX_RULES} rows of appointment hours.")
    checked = check_rule(conn, rule)
    put_setting(conn, SETTING, [*stored, checked])
    return checked


def remove_rule(conn: sqlite3.Connection, index: int) -> None:
    """Remove the ``index``th row of appointment hours (bookings already made stay valid)."""
    stored = rules(conn)
    if not 0 <= index < len(stored):
        raise Invalid("unknown_rule", "No such row of appointment hours.", "rule")
    put_setting(conn, SETTING, stored[:index] + stored[index + 1 :])


def slots(
    conn: sqlite3.Connection,
    hours: OpeningHours | None,
    timezone: ZoneInfo,
    now: float,
    days: int = DAYS_AHEAD,
) -> list[dict[str, Any]]:
    """Return the slots visitors may book: [{service, service_id, slot_at, seats}].

    From now to ``days`` ahead, only on days the center is open and only within its hours
    (a slot must start before the last ticket); sorted by time, then service.
    """
    services = dict(conn.execute("SELECT code, id FROM services WHERE active = 1").fetchall())
    today = datetime.fromtimestamp(now, timezone).date()
    found: dict[tuple[int, str], dict[str, Any]] = {}
    for ahead in range(days + 1):
        day = today + timedelta(days=ahead)
        open_hours = hours.on(day) if hours is not None else None
        if hours is not None and open_hours is None:
            continue  # a holiday or a day off
        for rule in rules(conn):
            if day.weekday() not in rule["weekdays"] or rule["service"] not in services:
                continue
            for slot_at in _starts(day, rule, timezone):
                local = datetime.fromtimestamp(slot_at, timezone).time()
                if open_hours and not open_hours.opens <= local < open_hours.last_ticket:
                    continue
                if slot_at <= now:
                    continue
                found[(slot_at, rule["service"])] = {
                    "service": rule["service"],
                    "service_id": services[rule["service"]],
                    "slot_at": slot_at,
                    "seats": rule["seats"],
                }
    return [found[key] for key in sorted(found)]


def offered_services(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the services with appointment hours, named in each language (blanks left out)."""
    codes = {rule["service"] for rule in rules(conn)}
    rows = conn.execute(
        "SELECT s.code, s.name_az, s.name_ru, s.name_en, a.name_az AS area_az, "
        "a.name_ru AS area_ru, a.name_en AS area_en FROM services s "
        "JOIN areas a ON a.id = s.area_id WHERE s.active = 1 AND a.active = 1 "
        "ORDER BY a.position, s.position"
    ).fetchall()
    return [
        {"code": row["code"], "name": names(row), "area": names(row, "area")}
        for row in rows
        if row["code"] in codes
    ]


def _starts(day: date, rule: dict[str, Any], timezone: ZoneInfo) -> list[int]:
    start = datetime.combine(day, time.fromisoformat(rule["from"]), timezone)
    end = datetime.combine(day, time.fromisoformat(rule["until"]), timezone)
    step = timedelta(minutes=rule["slot_min"])
    starts = []
    while start + step <= end:
        starts.append(int(start.timestamp()))
        start += step
    return starts


def outcomes(
    conn: sqlite3.Connection, now: float, window: CheckInWindow, days: int = OUTCOME_DAYS
) -> list[dict[str, Any]]:
    """Return what became of the recent bookings, for HQ.

    Checked in (and called how long after the slot's start), or a no-show: not checked in by
    the slot's start + ``late_s``.
    """
    since = now - days * 86400
    checked = [
        {
            "code": row["booking_code"],
            "state": "checked_in",
            "called_after_s": (
                None
                if row["first_called_at"] is None
                else round(row["first_called_at"] - row["slot"])
            ),
        }
        for row in conn.execute(
            "SELECT t.booking_code, t.first_called_at, "
            " coalesce(b.slot_at, t.slot_at, t.arrived_at) AS slot "
            "FROM tickets t LEFT JOIN bookings b ON b.code = t.booking_code "
            "WHERE t.booking_code IS NOT NULL AND t.arrived_at >= ?",
            (since,),
        )
    ]
    missed = [
        {"code": row[0], "state": "no_show", "called_after_s": None}
        for row in conn.execute(
            "SELECT code FROM bookings b WHERE state = 'booked' AND slot_at >= ? "
            "AND slot_at + ? < ? AND NOT EXISTS "
            "(SELECT 1 FROM tickets t WHERE t.booking_code = b.code)",
            (since, window.late_s, now),
        )
    ]
    return checked + missed


def report(
    conn: sqlite3.Connection,
    first_day: str,
    last_day: str,
    timezone: ZoneInfo,
    now: float,
    window: CheckInWindow,
) -> dict[str, Any]:
    """Return the appointments of a day range: totals, by service and by day.

    Booked counts the bookings HQ listed (not the cancelled) and codes checked in that HQ had
    not listed yet; punctuality is the first call's time minus the slot's start (p50, p90).
    """
    start = datetime.combine(date.fromisoformat(first_day), time(), timezone).timestamp()
    end = datetime.combine(
        date.fromisoformat(last_day) + timedelta(days=1), time(), timezone
    ).timestamp()
    rows = conn.execute(
        "SELECT coalesce(t.slot_at, b.slot_at) AS slot_at, s.code AS service, "
        " t.id AS ticket, t.first_called_at, b.state "
        "FROM bookings b LEFT JOIN tickets t ON t.booking_code = b.code "
        "LEFT JOIN services s ON s.id = coalesce(t.service_id, b.service_id) "
        "WHERE b.slot_at >= :start AND b.slot_at < :end "
        "UNION ALL SELECT t.slot_at, s.code, t.id, t.first_called_at, 'booked' "
        "FROM tickets t JOIN services s ON s.id = t.service_id "
        "WHERE t.booking_code IS NOT NULL AND t.slot_at >= :start AND t.slot_at < :end "
        "AND NOT EXISTS (SELECT 1 FROM bookings b WHERE b.code = t.booking_code)",
        {"start": start, "end": end},
    ).fetchall()
    visits = dict(
        conn.execute(
            "SELECT day, count(*) FROM tickets WHERE day BETWEEN ? AND ? GROUP BY day",
            (first_day, last_day),
        ).fetchall()
    )
    groups: dict[str, dict[str, list[Any]]] = {
        "services": defaultdict(list),
        "days": defaultdict(list),
    }
    everything: list[Any] = []
    for row in rows:
        if row["state"] == "cancelled" and row["ticket"] is None:
            continue
        day = datetime.fromtimestamp(row["slot_at"], timezone).date().isoformat()
        groups["services"][row["service"] or "?"].append(row)
        groups["days"][day].append(row)
        everything.append(row)

    def figures(group: list[Any], all_visits: int | None) -> dict[str, Any]:
        checked = [r for r in group if r["ticket"] is not None]
        lateness = sorted(
            (r["first_called_at"] - r["slot_at"]) / 60
            for r in checked
            if r["first_called_at"] is not None
        )
        no_show = sum(
            1 for r in group if r["ticket"] is None and r["slot_at"] + window.late_s < now
        )
        return {
            "booked": len(group),
            "checked_in": len(checked),
            "no_show": no_show,
            "called_after_p50_min": _rank(lateness, 50),
            "called_after_p90_min": _rank(lateness, 90),
            "share_of_visits_percent": (
                round(100 * len(checked) / all_visits, 1) if all_visits else None
            ),
        }

    return {
        "totals": figures(everything, sum(visits.values())),
        "services": [
            {"service": key, **figures(group, None)}
            for key, group in sorted(groups["services"].items())
        ],
        "days": [
            {"day": key, **figures(group, visits.get(key, 0))}
            for key, group in sorted(groups["days"].items())
        ],
    }


def _rank(values: list[float], percent: float) -> float | None:
    value = nearest_rank(values, percent)
    return None if value is None else round(value, 1)
