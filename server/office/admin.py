"""The back office: changes an administrator makes while the center runs, and the admin pages.

Each change takes effect at the next request.

Every change works inside the caller's transaction, checks its input and raises Invalid or
NotFound naming the field at fault; the caller writes the audit row in the same transaction.
"""

from __future__ import annotations

import json
import sqlite3
import string
from typing import Any

from server.office import accounts
from server.office.catalog import keep_closed_here
from server.office.holidays import calendar, read_day_hours
from server.office.reports import service_level
from server.queue.actors import User
from server.queue.counter_release import release, released_facts
from server.queue.engine import Fairness
from server.queue.errors import Forbidden, Invalid, NotFound
from server.queue.facts import DeviceChanged, DeviceRevoked, Fact, SessionsEnded
from server.queue.plain_text import plain_text
from server.queue.storage import get_setting, put_setting
from server.settings import LANGUAGES


def _names(names: dict[str, str], what: str) -> dict[str, str | None]:
    cleaned = {
        lang: plain_text((names.get(lang) or "").strip(), f"name_{lang}") or None
        for lang in LANGUAGES
    }
    if not cleaned["az"]:
        raise Invalid("name_required", f"The {what} needs an Azerbaijani name.", "name_az")
    return cleaned


def _exists(conn: sqlite3.Connection, table: str, key: str, value: Any, what: str) -> None:
    if not conn.execute(f"SELECT 1 FROM {table} WHERE {key} = ?", (value,)).fetchone():  # noqa: S608
        raise NotFound(f"unknown_{what}", f"No {what} '{value}'.", key)


def update_area(
    conn: sqlite3.Connection, code: str, letter: str, names: dict[str, str], active: bool
) -> None:
    """Rename an area, change its ticket letter, open or close it (kept closed by imports)."""
    _exists(conn, "areas", "code", code, "area")
    letter = letter.strip().upper()
    if len(letter) != 1 or letter not in string.ascii_uppercase:
        raise Invalid("bad_letter", "A ticket letter is one of A-Z.", "letter")
    taken = conn.execute(
        "SELECT code FROM areas WHERE letter = ? AND code != ?", (letter, code)
    ).fetchone()
    if taken:
        raise Invalid("letter_taken", f"Letter {letter} belongs to area {taken[0]}.", "letter",
                      {"letter": letter, "area": str(taken[0])})  # fmt: skip
    cleaned = _names(names, "area")
    conn.execute(
        "UPDATE areas SET letter = ?, name_az = ?, name_ru = ?, name_en = ?, active = ? "
        "WHERE code = ?",
        (letter, cleaned["az"], cleaned["ru"], cleaned["en"], int(active), code),
    )
    keep_closed_here(conn, "areas", code, not active)


def update_service(
    conn: sqlite3.Connection,
    code: str,
    names: dict[str, str],
    target_minutes: int,
    active: bool,
) -> None:
    """Rename a service, change its target service time, open or close it.

    A service closed here stays closed across imports: one this center does not offer stays
    so when HQ publishes a catalog.
    """
    _exists(conn, "services", "code", code, "service")
    if not 1 <= target_minutes <= 480:
        raise Invalid("bad_target", "A target service time is 1 to 480 minutes.", "target_minutes")
    cleaned = _names(names, "service")
    conn.execute(
        "UPDATE services SET name_az = ?, name_ru = ?, name_en = ?, target_minutes = ?, "
        "active = ? WHERE code = ?",
        (cleaned["az"], cleaned["ru"], cleaned["en"], target_minutes, int(active), code),
    )
    keep_closed_here(conn, "services", code, not active)


MAX_COUNTER_NUMBER = 999


def set_counter(
    conn: sqlite3.Connection,
    counter_id: int,
    zone: str,
    service_weights: dict[str, float],
    categories: list[str] | None,
    number: int | None = None,
) -> None:
    """Set a counter's hall, the services it serves (with weights), categories and number.

    ``number`` is what the voice announces ("counter 6"); None reads it from the name.
    """
    _exists(conn, "counters", "id", counter_id, "counter")
    if not plain_text(zone, "zone", "A hall").strip():
        raise Invalid("zone_required", "A counter belongs to a hall (zone).", "zone")
    if not service_weights:
        raise Invalid("no_services", "A counter serves at least one service.", "services")
    accounts.check_categories(conn, categories)
    if number is not None and not 1 <= number <= MAX_COUNTER_NUMBER:
        raise Invalid("bad_counter_number", "A counter's number is 1 to 999.", "number")
    conn.execute(
        "UPDATE counters SET zone = ?, categories = ?, number = ? WHERE id = ?",
        (zone.strip(), json.dumps(categories) if categories else None, number, counter_id),
    )
    conn.execute("DELETE FROM counter_services WHERE counter_id = ?", (counter_id,))
    for code, weight in service_weights.items():
        row = conn.execute("SELECT id FROM services WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise NotFound("unknown_service", f"No service with code '{code}'.", "services")
        if not weight > 0:
            raise Invalid("bad_weight", f"The weight of {code} must be above 0.", "services")
        conn.execute(
            "INSERT INTO counter_services (counter_id, service_id, weight) VALUES (?, ?, ?)",
            (counter_id, row[0], weight),
        )


def update_user(
    conn: sqlite3.Connection,
    user_id: int,
    display_name: str,
    role: str,
    active: bool,
    now: float,
    day: str,
) -> list[Fact]:
    """Rename a member of staff, change their role or disable them (ending their sessions).

    Returns SessionsEnded when their rights changed, so their open sockets close too. A
    disabled clerk's counter is released (closed), its visitor back in the queue.
    """
    _exists(conn, "users", "id", user_id, "user")
    if role not in accounts.ROLES:
        raise Invalid("bad_role", f"Role must be one of {', '.join(accounts.ROLES)}.", "role")
    if not plain_text(display_name, "display_name").strip():
        raise Invalid("name_required", "A member of staff needs a name.", "display_name")
    before = conn.execute("SELECT role, active FROM users WHERE id = ?", (user_id,)).fetchone()
    others = conn.execute(
        "SELECT count(*) FROM users WHERE role = 'admin' AND active = 1 AND id != ?", (user_id,)
    ).fetchone()[0]
    was_admin = before["role"] == "admin" and before["active"]
    if was_admin and others == 0 and (role != "admin" or not active):
        raise Invalid("last_admin", "Keep at least one active admin.", "role")
    conn.execute(
        "UPDATE users SET display_name = ?, role = ?, active = ? WHERE id = ?",
        (display_name.strip(), role, int(active), user_id),
    )
    facts: list[Fact] = []
    if not active:  # it cleared the clerk and left the counter "open" for nobody
        desks = [r[0] for r in conn.execute(
            "SELECT id FROM counters WHERE clerk_user_id = ?", (user_id,)
        )]  # fmt: skip
        for counter_id in desks:
            release(conn, counter_id, now, "account deactivated", return_visitor=True)
        facts += released_facts(conn, desks, day)
    if (before["role"], bool(before["active"])) != (role, active):
        accounts.end_sessions(conn, user_id)  # new rights apply from the next sign-in
        facts.append(SessionsEnded(user_id))
    return facts


def update_device(
    conn: sqlite3.Connection, device_id: int, name: str, zone: str | None, active: bool
) -> list[Fact]:
    """Rename a device, move a display to another hall, or revoke (or restore) its token.

    Returns DeviceRevoked when it is revoked or moved, so its open sockets close (a moved
    display reconnects into its new hall's room), else DeviceChanged.
    """
    _exists(conn, "devices", "id", device_id, "device")
    if not plain_text(name, "name").strip():
        raise Invalid("name_required", "A device needs a name.", "name")
    taken = conn.execute(
        "SELECT 1 FROM devices WHERE name = ? AND id != ?", (name.strip(), device_id)
    ).fetchone()
    if taken:
        raise Invalid("device_exists", f"Device '{name.strip()}' exists already.", "name",
                      {"name": name.strip()})  # fmt: skip
    before = conn.execute("SELECT zone, active FROM devices WHERE id = ?", (device_id,)).fetchone()
    new_zone = (zone or "").strip() or None
    conn.execute(
        "UPDATE devices SET name = ?, zone = ?, active = ? WHERE id = ?",
        (name.strip(), new_zone, int(active), device_id),
    )
    if not active or before["zone"] != new_zone:
        return [DeviceRevoked(device_id)]
    return [DeviceChanged(device_id)]


def set_priority_category(
    conn: sqlite3.Connection, code: str, names: dict[str, str], active: bool
) -> None:
    """Add or change a priority category (codes are kept: past visits name them)."""
    code = code.strip().lower()
    if not code or code == "general" or not code.replace("_", "").isalnum():
        raise Invalid(
            "bad_category", "A category code is letters, digits or _ and not 'general'.", "code"
        )
    cleaned = _names(names, "category")
    conn.execute(
        "INSERT INTO priority_categories (code, name_az, name_ru, name_en, position, active) "
        "VALUES (?, ?, ?, ?, (SELECT coalesce(max(position), 0) + 1 FROM priority_categories), ?) "
        "ON CONFLICT (code) DO UPDATE SET name_az = excluded.name_az, "
        "name_ru = excluded.name_ru, name_en = excluded.name_en, active = excluded.active",
        (code, cleaned["az"], cleaned["ru"], cleaned["en"], int(active)),
    )


def set_fairness(
    conn: sqlite3.Connection, priority_streak_limit: int, overdue_minutes: int
) -> dict[str, Any]:
    """Store the fairness rule (used from the next call on)."""
    if not 1 <= priority_streak_limit <= 20:
        raise Invalid("bad_streak", "Priority calls in a row: 1 to 20.", "priority_streak_limit")
    if not 5 <= overdue_minutes <= 600:
        raise Invalid("bad_overdue", "Overdue after: 5 to 600 minutes.", "overdue_minutes")
    value = {
        "priority_streak_limit": priority_streak_limit,
        "overdue_after_s": overdue_minutes * 60,
    }
    put_setting(conn, "fairness", value)
    return value


def set_service_level(
    conn: sqlite3.Connection, target_minutes: int, goal_percent: int
) -> dict[str, Any]:
    """Store the service-level target the reports measure against."""
    if not 1 <= target_minutes <= 240:
        raise Invalid("bad_target", "The target wait is 1 to 240 minutes.", "target_minutes")
    if not 1 <= goal_percent <= 100:
        raise Invalid("bad_goal", "The goal is 1 to 100 percent.", "goal_percent")
    value = {"target_minutes": target_minutes, "goal_percent": goal_percent}
    put_setting(conn, "service_level", value)
    return value


def set_hours(
    conn: sqlite3.Connection, opens: str, last_ticket: str, weekdays: list[int], closes: str = ""
) -> dict[str, Any] | None:
    """Store when kiosks issue tickets and when the day closes; no times means at any time."""
    if not opens and not last_ticket:
        put_setting(conn, "hours", None)
        return None
    days = sorted(set(weekdays))
    value: dict[str, Any] = {"opens": opens, "last_ticket": last_ticket, "weekdays": days}
    if closes:
        value["closes"] = closes
    read_day_hours(value)
    if not days or any(not 0 <= d <= 6 for d in days):
        raise Invalid("bad_weekdays", "Choose the days the center opens.", "weekdays")
    put_setting(conn, "hours", value)
    return value


def set_announce_languages(conn: sqlite3.Connection, languages: list[str]) -> list[str]:
    """Store the languages each call is spoken in, in order (displays use them after a reload)."""
    chosen = [lang for lang in dict.fromkeys(languages) if lang]
    if not chosen or any(lang not in LANGUAGES for lang in chosen):
        raise Invalid("bad_languages", "Choose at least one of az, ru and en.", "languages")
    put_setting(conn, "announce_languages", chosen)
    return chosen


def set_notice(conn: sqlite3.Connection, texts: dict[str, str]) -> dict[str, str]:
    """Store the notice the waiting-room displays scroll (empty texts clear it)."""
    cleaned = {
        lang: plain_text(texts[lang].strip(), "notice", "A notice")
        for lang in LANGUAGES
        if (texts.get(lang) or "").strip()
    }
    if any(len(text) > 500 for text in cleaned.values()):
        raise Invalid("notice_too_long", "A notice is at most 500 characters.", "notice")
    put_setting(conn, "notices", cleaned)
    return cleaned


# ---- what the admin pages show -----------------------------------------------------------


def catalog_page(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return every area and service (closed ones last) and the opening hours."""
    return {
        "areas": conn.execute("SELECT * FROM areas ORDER BY active DESC, position, id").fetchall(),
        "services": conn.execute(
            "SELECT s.*, a.letter FROM services s JOIN areas a ON a.id = s.area_id "
            "ORDER BY s.active DESC, a.position, s.position, s.id"
        ).fetchall(),
        "hours": get_setting(conn, "hours", None),
        "calendar": calendar(conn),
    }


def counters_page(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return each counter, the weight of each service it serves, the services and categories."""
    rows = conn.execute("SELECT * FROM counters ORDER BY id").fetchall()
    served: dict[int, dict[str, float]] = {r["id"]: {} for r in rows}
    for r in conn.execute(
        "SELECT cs.counter_id, s.code, cs.weight FROM counter_services cs "
        "JOIN services s ON s.id = cs.service_id"
    ):
        served[r["counter_id"]][r["code"]] = r["weight"]
    return {
        "counters": [
            {**dict(r), "categories": json.loads(r["categories"]) if r["categories"] else None}
            for r in rows
        ],
        "counter_served": served,
        "areas": _areas_with_services(conn),
        "categories": conn.execute(
            "SELECT code, name_az, name_ru, name_en FROM priority_categories WHERE active = 1 "
            "ORDER BY position"
        ).fetchall(),
    }


def _areas_with_services(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return the open areas in catalog order, each with its open services."""
    areas: dict[str, dict[str, Any]] = {}
    for row in conn.execute(
        "SELECT s.code, s.name_az, s.name_ru, s.name_en, a.letter, a.code AS area_code, "
        "a.name_az AS area_az, a.name_ru AS area_ru, a.name_en AS area_en "
        "FROM services s JOIN areas a ON a.id = s.area_id "
        "WHERE s.active = 1 AND a.active = 1 ORDER BY a.position, a.id, s.position, s.id"
    ):
        area = areas.setdefault(
            row["area_code"],
            {"code": row["area_code"], "letter": row["letter"], "name_az": row["area_az"],
             "name_ru": row["area_ru"], "name_en": row["area_en"], "services": []},
        )  # fmt: skip
        area["services"].append(row)
    return list(areas.values())


def services_by_area(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Return the open services' codes of each open area, by area code."""
    areas: dict[str, list[str]] = {}
    for row in conn.execute(
        "SELECT a.code AS area, s.code FROM services s JOIN areas a ON a.id = s.area_id "
        "WHERE s.active = 1 AND a.active = 1 ORDER BY a.position, s.position"
    ):
        areas.setdefault(row["area"], []).append(row["code"])
    return areas


def people_page(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return the staff, the enrolled devices (active first) and the counters for tablets."""
    return {
        "users": conn.execute("SELECT * FROM users ORDER BY active DESC, username").fetchall(),
        "devices": conn.execute(
            "SELECT d.*, c.name AS counter FROM devices d "
            "LEFT JOIN counters c ON c.id = d.counter_id ORDER BY d.active DESC, d.kind, d.name"
        ).fetchall(),
        "counters": conn.execute("SELECT id, name FROM counters ORDER BY name").fetchall(),
    }


def rules_page(conn: sqlite3.Connection, fairness: Fairness) -> dict[str, Any]:
    """Return the categories, rules, notice, announcement languages and the last 50 changes."""
    return {
        "categories": conn.execute(
            "SELECT * FROM priority_categories ORDER BY active DESC, position"
        ).fetchall(),
        "fairness": fairness,
        "level": service_level(conn),
        "notices": get_setting(conn, "notices", {}),
        "announce": get_setting(conn, "announce_languages", ["az"]),
        "log": conn.execute(
            "SELECT a.at, a.action, a.detail, u.username FROM audit_log a "
            "LEFT JOIN users u ON u.id = a.user_id ORDER BY a.id DESC LIMIT 50"
        ).fetchall(),
    }


def check_may_manage(
    conn: sqlite3.Connection, acting: User, role: str, user_id: int | None = None
) -> None:
    """Only an admin grants or touches the admin role: a manager cannot raise themself."""
    if acting.role == "admin":
        return
    target = None
    if user_id is not None:
        row = conn.execute("SELECT role FROM users WHERE id = ?", (user_id,)).fetchone()
        target = row["role"] if row else None
    if "admin" in (role, target):
        raise Forbidden("admin_only", "Only an admin may give or change the admin role.", "role")
