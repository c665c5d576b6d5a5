"""Checking in a visitor who booked at HQ: the code is checked here, with no call to HQ.

A code is good when this center's key signed it (``server/queue/booking_codes.py``), HQ has
not said it was cancelled, it was not used already and the visitor comes within the window
around the slot's start (``CheckInWindow``). The ticket is numbered from the area's letter
like any other, so the number does not tell the hall who booked, and carries the slot:
``server/queue/engine.py`` calls it at its slot, ahead of walk-ins.

A booking never checked in by its slot's start plus ``late_s`` is a no-show. Nothing holds
counter time for it, so its slot's capacity is simply walk-ins' again; the reports count it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.queue import booking_codes
from server.queue.actors import Device, User
from server.queue.center import Center, remember_response, replayed_response
from server.queue.engine import GENERAL
from server.queue.errors import Invalid, NotFound, QueueError
from server.queue.facts import Done, QueueChanged, TicketIssued
from server.queue.visits import insert_visit


@dataclass(frozen=True)
class CheckInWindow:
    """How early and how late around its slot's start a booking may be checked in."""

    early_s: float = 30 * 60
    late_s: float = 10 * 60


@dataclass(frozen=True)
class CenterKey:
    """The center's code at HQ and the key they share: what signs its booking codes."""

    center: str
    key: str


def read_booking(key: CenterKey | None, text: str) -> tuple[str, booking_codes.Booking]:
    """Return a code (20 characters) and its booking if this center's key signed it."""
    if key is None:
        raise QueueError(
            "no_bookings_here", "This center is not linked to HQ, so it takes no bookings.", "code"
        )
    try:
        booking = booking_codes.verify(key.key, key.center, text)
    except booking_codes.OtherCenter as exc:
        raise Invalid("other_center", "This booking is for another DOST center.", "code") from exc
    except booking_codes.Forged as exc:
        raise Invalid(
            "bad_booking_code", "This booking code is not valid: check it and try again.", "code"
        ) from exc
    except booking_codes.BadCode as exc:
        raise Invalid(
            "not_a_booking_code", "A booking code has 20 letters and digits.", "code"
        ) from exc
    return booking_codes.normalise(text), booking


def _clock(center: Center, at: float) -> str:
    return f"{datetime.fromtimestamp(at, center.timezone):%H:%M}"


def check_in(
    center: Center,
    text: str,
    key: CenterKey | None,
    window: CheckInWindow,
    *,
    device: Device | None,
    printed_by_device: bool = True,
    language: str = "az",
    user: User | None = None,
    idempotency_key: str | None = None,
) -> Done[dict[str, Any]]:
    """Issue the ticket of a booked visit, or refuse the code with a reason the visitor reads.

    Refusals (each with the slot's time in ``detail`` where it helps): not a code, another
    center's, forged, cancelled at HQ, checked in already, too early, too late, a service
    this center no longer offers. A refused visitor can still take a walk-in ticket.
    """
    code, booking = read_booking(key, text)
    scope = f"{device.id if device else 0}:{user.id if user else 0}"
    replay_key = f"checkin:{scope}:{idempotency_key}" if idempotency_key else None
    with center.transaction() as (conn, now):
        replay = replayed_response(conn, replay_key)
        if replay:
            return Done({**replay, "replayed": True}, ())
        slot = {"slot": _clock(center, booking.slot_at), "day": center.day(booking.slot_at)}
        refuse_unusable(conn, code, booking, now, window, slot)
        service = conn.execute(
            "SELECT s.id, a.letter FROM services s JOIN areas a ON a.id = s.area_id "
            "WHERE s.id = ? AND s.active = 1 AND a.active = 1",
            (booking.service_id,),
        ).fetchone()
        if service is None:
            raise NotFound(
                "service_not_offered", "This booking's service is not offered here now.", "code"
            )
        ticket = insert_visit(
            conn,
            center.day(now),
            now,
            service,
            category=GENERAL,
            language=language,
            device=device if printed_by_device else None,
            issued_for=device,
            user=user,
            appointment={"slot_at": booking.slot_at, "booking_code": code},
        )
        ticket = {**ticket, "appointment": slot}
        remember_response(conn, replay_key, now, ticket)
    return Done(ticket, (TicketIssued(ticket, device, language), QueueChanged()))


def refuse_unusable(
    conn: sqlite3.Connection,
    code: str,
    booking: booking_codes.Booking,
    now: float,
    window: CheckInWindow,
    slot: dict[str, str],
) -> None:
    """Raise the reason a genuine code cannot be checked in now, if there is one."""
    heard = conn.execute("SELECT state FROM bookings WHERE code = ?", (code,)).fetchone()
    if heard is not None and heard["state"] == "cancelled":
        raise QueueError("booking_cancelled", "This booking was cancelled.", "code", slot)
    used = conn.execute("SELECT label FROM tickets WHERE booking_code = ?", (code,)).fetchone()
    if used is not None:
        raise QueueError(
            "checked_in_already",
            f"This booking was checked in already: ticket {used['label']}.",
            "code",
            {**slot, "ticket": used["label"]},
        )
    if now < booking.slot_at - window.early_s:
        raise QueueError(
            "too_early",
            f"Your appointment is on {slot['day']} at {slot['slot']}: "
            f"check in from {window.early_s // 60:.0f} minutes before it.",
            "code",
            {**slot, "early_min": f"{window.early_s // 60:.0f}"},
        )
    if now > booking.slot_at + window.late_s:
        raise QueueError(
            "too_late",
            f"Your appointment was at {slot['slot']}, more than "
            f"{window.late_s // 60:.0f} minutes ago.",
            "code",
            {**slot, "late_min": f"{window.late_s // 60:.0f}"},
        )


def hear_bookings(conn: sqlite3.Connection, bookings: list[dict[str, Any]], now: float) -> int:
    """Keep the bookings HQ listed (code, service_id, slot_at, state); return how many.

    HQ's word is kept as it last said it: a cancellation arriving after the check-in changes
    nothing about the visit already in the queue.
    """
    conn.executemany(
        "INSERT INTO bookings (code, service_id, slot_at, state, heard_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET state = excluded.state, heard_at = excluded.heard_at",
        [(b["code"], b["service_id"], b["slot_at"], b["state"], now) for b in bookings],
    )
    return len(bookings)
