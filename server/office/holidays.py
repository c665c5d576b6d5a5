"""The center's calendar: public holidays and special days (closed, or hours of their own).

Kept as the "calendar" setting, a list of {"day", "name", "closed": true} or {"day", "name",
"opens", "last_ticket", "closes"}; ``Center.opening_hours`` reads it with the weekly hours, so
kiosks stop issuing on a holiday and a shortened day closes early. Azerbaijan's fixed public
holidays ship in ``data/az-public-holidays.json`` with their sources; the movable ones
(Novruz, Ramazan, Gurban) are entered each year.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import date, timedelta
from importlib import resources
from typing import Any

from server.queue.engine import DayHours
from server.queue.errors import Invalid, NotFound
from server.queue.storage import get_setting, put_setting

WORK_WEEK = range(5)  # the Labour Code's five-day week: a holiday on Saturday or Sunday moves


def read_day_hours(value: Mapping[str, object]) -> DayHours:
    """Read a day's hours as given (the week's and a special day's alike), or refuse them."""
    try:
        day = DayHours.from_setting(value)
    except (ValueError, KeyError) as exc:
        raise Invalid(
            "bad_hours", "Times are written HH:MM, e.g. 09:00 and 17:30.", "opens"
        ) from exc
    if day.last_ticket <= day.opens:
        raise Invalid("bad_hours", "The last ticket comes after opening.", "last_ticket")
    if day.closes is not None and day.closes < day.last_ticket:
        raise Invalid("bad_hours", "The center closes after the last ticket.", "closes")
    return day


def fixed_holidays() -> list[dict[str, Any]]:
    """Return the shipped fixed public holidays (month, day, names)."""
    text = (resources.files("server.office") / "data" / "az-public-holidays.json").read_text(
        encoding="utf-8"
    )
    return list(json.loads(text)["fixed"])


def public_holidays(year: int) -> list[dict[str, Any]]:
    """Return ``year``'s fixed public holidays as closed days.

    One that falls on a weekend also closes the next working day that is not a holiday itself
    (Labour Code, article 105.5).
    """
    days = {date(year, h["month"], h["day"]): f"{h['name_az']} / {h['name_en']}" for h in
            fixed_holidays()}  # fmt: skip
    closed = dict(days)
    for day, name in sorted(days.items()):
        if day.weekday() in WORK_WEEK:
            continue
        moved = day + timedelta(days=1)
        while moved.weekday() not in WORK_WEEK or moved in closed:
            moved += timedelta(days=1)
        closed[moved] = f"{name} ({day:%d.%m} əvəzinə / instead of {day:%d.%m})"
    return [{"day": d.isoformat(), "name": n, "closed": True} for d, n in sorted(closed.items())]


def calendar(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the special days, in order."""
    return sorted(get_setting(conn, "calendar", []), key=lambda entry: entry["day"])


def closed_for(conn: sqlite3.Connection, day: str) -> str | None:
    """Return the name of the holiday that closes the center on ``day``, if one does.

    A special day with hours of its own (a shortened day) is not a closure: None.
    """
    entry = next((e for e in calendar(conn) if e["day"] == day), None)
    return str(entry.get("name") or "") or None if entry and entry.get("closed") else None


def set_special_day(
    conn: sqlite3.Connection,
    day: str,
    name: str,
    *,
    closed: bool,
    opens: str = "",
    last_ticket: str = "",
    closes: str = "",
) -> dict[str, Any]:
    """Mark ``day`` closed, or give it hours of its own (replacing what it had)."""
    try:
        date.fromisoformat(day)
    except ValueError as exc:
        raise Invalid("bad_day", "Write the day as YYYY-MM-DD.", "day") from exc
    entry: dict[str, Any] = {"day": day, "name": name.strip()[:80]}
    if closed:
        entry["closed"] = True
    else:
        entry.update(opens=opens, last_ticket=last_ticket, **({"closes": closes} if closes else {}))
        read_day_hours(entry)
    kept = [e for e in get_setting(conn, "calendar", []) if e["day"] != day]
    put_setting(conn, "calendar", sorted([*kept, entry], key=lambda e: e["day"]))
    return entry


def remove_special_day(conn: sqlite3.Connection, day: str) -> None:
    """Make ``day`` an ordinary day again."""
    entries = get_setting(conn, "calendar", [])
    kept = [e for e in entries if e["day"] != day]
    if len(kept) == len(entries):
        raise NotFound("unknown_day", f"{day} is not a special day.", "day")
    put_setting(conn, "calendar", kept)


def add_public_holidays(conn: sqlite3.Connection, year: int) -> int:
    """Add ``year``'s fixed public holidays, leaving days already set alone; return how many."""
    entries = get_setting(conn, "calendar", [])
    known = {e["day"] for e in entries}
    added = [h for h in public_holidays(year) if h["day"] not in known]
    put_setting(conn, "calendar", sorted([*entries, *added], key=lambda e: e["day"]))
    return len(added)
