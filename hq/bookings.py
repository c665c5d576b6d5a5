"""Appointments at HQ: the slots centers offer, the bookings visitors make, what became of them.

A center sends its slots for the next two weeks on its sync cycle (server/hq_link/bookings.py);
visitors book into them on HQ's public page, other state systems through the signed API. A
booking takes a seat with one conditional ``UPDATE … SET booked = booked + 1 WHERE booked <
seats``: PostgreSQL re-checks that condition on the row it locked, SQLite writes one at a
time, so concurrent visitors never overbook a slot. The code is made with the center's key
(server/queue/booking_codes.py), so the center checks it in without asking HQ.

The visitor's phone number stays here (for reminders); a center never receives it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from server.queue.booking_codes import make_code, normalise
from server.queue.errors import Invalid, NotFound, QueueError
from server.queue.storage import SqlConnection

# Booked at least this long before the slot starts (the visitor has to get there); the
# HQ_BOOK_BEFORE_MIN setting.
BOOK_BEFORE_S = 15 * 60
MAX_SEATS_EVER = 255  # a code numbers a slot's bookings in one byte
# Bookings (a move is one) one phone number makes for one service of one center in a day.
CHANGES_PER_PHONE_PER_DAY = 5
PHONE = re.compile(r"^\+?[0-9]{9,15}$")
STANDING = ("booked", "checked_in", "no_show")
# A center's check-in window until it has said its own (server/settings.py's defaults).
DEFAULT_WINDOW = {"early_min": 30, "late_min": 10}


def forget_phones(conn: SqlConnection, now: float, keep_days: float) -> int:
    """Blank the phone numbers of bookings whose slot is ``keep_days`` past; return how many.

    Cancelled and moved bookings too: a number is kept for reminders and the daily cap, not
    for good (docs/security.md says how long).
    """
    cursor = conn.execute(
        "UPDATE bookings SET phone = '' WHERE slot_at < ? AND phone != ''",
        (now - keep_days * 86400,),
    )
    return int(cursor.rowcount or 0)


def store_offer(conn: SqlConnection, center: str, message: dict[str, Any], now: float) -> bool:
    """Keep a center's slots and names and record its outcomes; False if the slots were known.

    A slot the center no longer offers keeps its bookings but takes no more (seats 0).
    """
    offer = json.dumps([message["services"], message["slots"]], sort_keys=True)
    digest = hashlib.sha256(offer.encode()).hexdigest()
    row = conn.execute("SELECT slots_digest FROM centers WHERE code = ?", (center,)).fetchone()
    changed = row is None or row[0] != digest
    if changed:
        conn.execute(
            "UPDATE booking_slots SET seats = 0 WHERE center = ? AND slot_at > ?", (center, now)
        )
        conn.executemany(
            "INSERT INTO booking_slots (center, service, service_id, slot_at, seats) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (center, service, slot_at) DO UPDATE SET "
            "seats = excluded.seats, service_id = excluded.service_id",
            [
                (center, s["service"], s["service_id"], s["slot_at"], s["seats"])
                for s in message["slots"]
            ],
        )
        conn.execute(
            "UPDATE centers SET slots_digest = ?, booking_services = ? WHERE code = ?",
            (digest, json.dumps(message["services"], ensure_ascii=False), center),
        )
    conn.execute(
        "UPDATE centers SET appointments_at = ?, booking_window = ? WHERE code = ?",
        (now, json.dumps(message.get("window", DEFAULT_WINDOW)), center),
    )
    # Checked in wins over anything HQ thought (the visitor came); a no-show only over booked.
    conn.executemany(
        "UPDATE bookings SET state = ?, called_after_s = ?, changed_at = ? "
        "WHERE code = ? AND center = ? AND (? = 'checked_in' OR state = 'booked')",
        [
            (o["state"], o["called_after_s"], now, o["code"], center, o["state"])
            for o in message["outcomes"]
        ],
    )
    return changed


def add_partner(conn: SqlConnection, name: str, sealed_key: str, now: float) -> None:
    """Register a system that books through the API (a new key for a known one replaces it)."""
    conn.execute(
        "INSERT INTO partners (name, key, created_at) VALUES (?, ?, ?) "
        "ON CONFLICT (name) DO UPDATE SET key = excluded.key, active = 1",
        (name, sealed_key, now),
    )


def partner_key(conn: SqlConnection, name: str) -> str | None:
    """Return an active partner's key as stored (sealed), or None."""
    row = conn.execute("SELECT key FROM partners WHERE name = ? AND active = 1", (name,)).fetchone()
    return row[0] if row else None


# A booking committed just after an answer was read may carry an earlier time than the answer:
# the next answer lists what changed this long before the last one, again.
OVERLAP_S = 60.0


def bookings_for(
    conn: SqlConnection, center: str, slots_from: float, changed_since: float | None
) -> list[dict[str, Any]]:
    """Return a center's bookings of slots from ``slots_from`` on, as the center keeps them.

    With ``changed_since`` (HQ's clock at the answer the center kept last), only those made or
    changed since then, less ``OVERLAP_S``.
    """
    since = -1.0 if changed_since is None else changed_since - OVERLAP_S
    return [
        {
            "code": row[0],
            "service_id": row[1],
            "slot_at": row[2],
            "state": "cancelled" if row[3] == "cancelled" else "booked",
        }
        for row in conn.execute(
            "SELECT code, service_id, slot_at, state FROM bookings WHERE center = ? "
            "AND slot_at >= ? AND (made_at >= ? OR changed_at >= ?) ORDER BY slot_at",
            (center, slots_from, since, since),
        )
    ]


def centers_taking_bookings(
    conn: SqlConnection, now: float, lead_s: float = BOOK_BEFORE_S
) -> list[dict[str, Any]]:
    """Return the centers with a free slot ahead, by name."""
    rows = conn.execute(
        "SELECT c.code, c.name FROM centers c WHERE c.active = 1 AND EXISTS "
        "(SELECT 1 FROM booking_slots s WHERE s.center = c.code AND s.slot_at > ? "
        "AND s.booked < s.seats) ORDER BY c.name",
        (now + lead_s,),
    ).fetchall()
    return [{"code": row[0], "name": row[1]} for row in rows]


def center_name(conn: SqlConnection, center: str) -> str:
    """Return an active center's name, or refuse with 404."""
    row = conn.execute(
        "SELECT name FROM centers WHERE code = ? AND active = 1", (center,)
    ).fetchone()
    if row is None:
        raise NotFound("unknown_center", "No such center.", "center")
    return str(row[0])


def services_offered(
    conn: SqlConnection, center: str, now: float, lead_s: float = BOOK_BEFORE_S
) -> list[dict[str, Any]]:
    """Return a center's services with a free slot ahead, grouped by area as it sent them."""
    row = conn.execute("SELECT booking_services FROM centers WHERE code = ?", (center,)).fetchone()
    named = json.loads(row[0]) if row and row[0] else []
    free = {
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT service FROM booking_slots WHERE center = ? AND slot_at > ? "
            "AND booked < seats",
            (center, now + lead_s),
        )
    }
    return [service for service in named if service["code"] in free]


def free_slots(
    conn: SqlConnection, center: str, service: str, now: float, lead_s: float = BOOK_BEFORE_S
) -> list[dict[str, Any]]:
    """Return the slots of a service that still take a booking, earliest first."""
    return [
        {"slot_at": row[0], "free": row[1]}
        for row in conn.execute(
            "SELECT slot_at, seats - booked FROM booking_slots WHERE center = ? AND service = ? "
            "AND slot_at > ? AND booked < seats AND made < ? ORDER BY slot_at LIMIT 2000",
            (center, service, now + lead_s, MAX_SEATS_EVER),
        )
    ]


def check_phone(text: str) -> str:
    """Return a phone number as digits (a leading + kept), or refuse it."""
    phone = re.sub(r"[\s()-]", "", text or "")
    if not PHONE.match(phone):
        raise Invalid("bad_phone", "A phone number: 9 to 15 digits, e.g. +994 50 123 45 67.",
                      "phone")  # fmt: skip
    return phone


def book(
    conn: SqlConnection,
    key: str,
    center: str,
    service: str,
    slot_at: int,
    phone: str,
    now: float,
    made_by: str = "web",
    lead_s: float = BOOK_BEFORE_S,
    language: str = "az",
) -> str:
    """Take a seat of the slot and return the booking's code; refuse a full or past slot.

    A seat's number is part of its code and never given twice, so each booking, moved one
    included, uses one of the slot's MAX_SEATS_EVER numbers for good: one phone makes at
    most CHANGES_PER_PHONE_PER_DAY of them for a service of a center (509 moves once closed
    two slots).
    """
    phone = check_phone(phone)
    made_today = conn.execute(
        "SELECT count(*) FROM bookings WHERE center = ? AND service = ? AND phone = ? "
        "AND made_at > ?",
        (center, service, phone, now - 86400),
    ).fetchone()[0]
    if made_today >= CHANGES_PER_PHONE_PER_DAY:
        raise QueueError(
            "too_many_changes",
            "This phone number has booked or moved this service too often today: "
            "keep the booking you have, or ask the center.",
            "phone",
        )
    seat = conn.execute(
        "UPDATE booking_slots SET booked = booked + 1, made = made + 1 "
        "WHERE center = ? AND service = ? AND slot_at = ? AND slot_at > ? AND booked < seats "
        "AND made < ? RETURNING service_id, made",
        (center, service, slot_at, now + lead_s, MAX_SEATS_EVER),
    ).fetchone()
    if seat is None:
        raise QueueError("slot_taken", "This time is no longer free: choose another.", "slot")
    code = normalise(make_code(key, center, slot_at, seat[0], seat[1]))
    conn.execute(
        "INSERT INTO bookings (code, center, service, service_id, slot_at, phone, state, "
        "made_at, made_by, language) VALUES (?, ?, ?, ?, ?, ?, 'booked', ?, ?, ?)",
        (code, center, service, seat[0], slot_at, phone, now, made_by, language),
    )
    return code


def booking(conn: SqlConnection, code: str) -> dict[str, Any]:
    """Return a booking by its code (however typed), or refuse with 404. No phone number."""
    try:
        code = normalise(code)
    except ValueError as exc:
        raise NotFound("unknown_booking", "No booking with this code.", "code") from exc
    row = conn.execute(
        "SELECT b.code, b.center, c.name, b.service, b.slot_at, b.state, c.booking_services, "
        "c.booking_window "
        "FROM bookings b JOIN centers c ON c.code = b.center WHERE b.code = ?",
        (code,),
    ).fetchone()
    if row is None:
        raise NotFound("unknown_booking", "No booking with this code.", "code")
    names = {s["code"]: s for s in json.loads(row[6] or "[]")}
    return {
        "code": row[0],
        "center": row[1],
        "center_name": row[2],
        "service": row[3],
        "service_name": names.get(row[3], {}).get("name", {"az": row[3]}),
        "slot_at": row[4],
        "state": row[5],
        "window": json.loads(row[7]) if row[7] else DEFAULT_WINDOW,
    }


def cancel(conn: SqlConnection, code: str, now: float) -> dict[str, Any]:
    """Cancel a booking whose slot is still ahead and give its seat back; return it."""
    found = booking(conn, code)
    row = conn.execute(
        "UPDATE bookings SET state = 'cancelled', changed_at = ? "
        "WHERE code = ? AND state = 'booked' AND slot_at > ? RETURNING center",
        (now, found["code"], now),
    ).fetchone()
    if row is None:
        raise QueueError(
            "not_cancellable", "Only a booking whose time is still ahead can be cancelled.", "code"
        )
    conn.execute(
        "UPDATE booking_slots SET booked = booked - 1 WHERE center = ? AND service = ? "
        "AND slot_at = ?",
        (found["center"], found["service"], found["slot_at"]),
    )
    return {**found, "state": "cancelled"}


def move(
    conn: SqlConnection,
    key: str,
    code: str,
    slot_at: int,
    now: float,
    made_by: str = "web",
    lead_s: float = BOOK_BEFORE_S,
) -> str:
    """Move a booking to another slot of its service; return the new code (the old is cancelled).

    The new seat is taken first, so a full slot leaves the booking as it was.
    """
    found = booking(conn, code)
    phone = conn.execute("SELECT phone, language FROM bookings WHERE code = ?",
                         (found["code"],)).fetchone()  # fmt: skip
    if found["state"] != "booked" or found["slot_at"] <= now:
        raise QueueError(
            "not_cancellable", "Only a booking whose time is still ahead can be moved.", "code"
        )
    new_code = book(conn, key, found["center"], found["service"], slot_at, phone[0], now, made_by,
                    lead_s, phone[1])  # fmt: skip
    cancel(conn, found["code"], now)
    return new_code


def act_for_partner(
    conn: SqlConnection,
    ask: dict[str, Any],
    partner: str,
    center_key: Callable[[str], str],
    now: float,
) -> dict[str, Any]:
    """Carry out one checked request of another state system; return what it gets back.

    ``slots`` lists a service's free times; ``book``, ``move`` and ``cancel`` answer with the
    booking (never its phone number), recorded as made by ``partner``.
    """
    if ask["action"] in ("slots", "book"):
        center_name(conn, ask["center"])  # an unknown center: 404, not an empty list
    if ask["action"] == "slots":
        return {"slots": free_slots(conn, ask["center"], ask["service"], now)}
    if ask["action"] == "book":
        code = book(
            conn, center_key(ask["center"]), ask["center"], ask["service"], ask["slot_at"],
            ask["phone"], now, made_by=partner,
        )  # fmt: skip
    elif ask["action"] == "move":
        owner = center_key(booking(conn, ask["code"])["center"])
        code = move(conn, owner, ask["code"], ask["slot_at"], now, made_by=partner)
    else:
        code = cancel(conn, ask["code"], now)["code"]
    return booking(conn, code)
