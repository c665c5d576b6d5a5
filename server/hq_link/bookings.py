"""Appointments over the sync cycle: the center's slots up, HQ's bookings down.

Every ``now_every_s`` (beside the hall's state) the center sends the slots it offers for
the next two weeks and what became of its recent bookings (checked in, called when, or a
no-show); HQ answers, signed like a catalog, with this center's bookings from yesterday on,
cancelled ones included, made or changed since the answer the center kept last (``since``,
HQ's own clock, so the two clocks never have to agree). A missed exchange is made good by
the next, and a center back from weeks offline is current in one.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import requests

from server.hq_link.sync import HqLink, SyncRefused, check_answer, post_signed
from server.office import appointments
from server.queue.appointments import CheckInWindow, hear_bookings
from server.queue.booking_codes import BadCode, normalise
from server.queue.center import Center
from server.queue.storage import get_setting, put_setting

PATH = "/hq/api/v1/appointments"
# How long a check-in waits for HQ's newest word on its bookings before it goes on offline.
ASK_BEFORE_CHECK_IN_S = 2.0
AS_OF = "bookings_as_of"  # setting: HQ's clock at the answer kept last
STATES = ("booked", "cancelled")
log = logging.getLogger(__name__)


def exchange_bookings(
    center: Center,
    hq: HqLink,
    session: requests.Session,
    window: CheckInWindow,
    timeout: float = 30,
) -> int:
    """Send the slots and outcomes, keep the bookings HQ answers with; return how many.

    Raises requests.RequestException while HQ is unreachable, SyncRefused when it refuses or
    its answer is not its own.
    """
    with center.store.read() as conn:
        now = center.now()
        message = {
            "center": hq.center,
            "at": now,
            "since": get_setting(conn, AS_OF, None),
            "window": {
                "early_min": round(window.early_s / 60),
                "late_min": round(window.late_s / 60),
            },
            "services": appointments.offered_services(conn),
            "slots": appointments.slots(conn, center.opening_hours(conn), center.timezone, now),
            "outcomes": appointments.outcomes(conn, now, window),
        }
    response = post_signed(center, hq, session, PATH, message, timeout)
    check_answer(hq, PATH, response, "bookings")
    as_of, bookings = read_bookings(response.content)
    with center.transaction() as (conn, now):
        put_setting(conn, AS_OF, as_of)
        return hear_bookings(conn, bookings, now)


def refresh_before_check_in(center: Center, hq: HqLink | None, window: CheckInWindow) -> None:
    """Hear HQ's newest word on the bookings before a code checks in, if HQ answers at once.

    A booking moved or cancelled at HQ still checked in until the next minute's exchange (a
    move gave two appointment tickets); now the exchange runs first. Offline first: HQ down,
    slow or refusing, the code is checked against what the center holds, as before.
    """
    if hq is None:
        return
    try:
        exchange_bookings(center, hq, requests.Session(), window, ASK_BEFORE_CHECK_IN_S)
    except (requests.RequestException, SyncRefused) as exc:
        log.info("checking a booking in without HQ's newest word: %s", exc)


def read_bookings(content: bytes) -> tuple[float, list[dict[str, Any]]]:
    """Return HQ's clock and its list of bookings, each checked, or raise SyncRefused."""
    try:
        answer = json.loads(content)
        listed = [
            {
                "code": normalise(str(b["code"])),
                "service_id": int(b["service_id"]),
                "slot_at": float(b["slot_at"]),
                "state": b["state"],
            }
            for b in answer["bookings"]
        ]
        as_of = float(answer["as_of"])
    except (ValueError, KeyError, TypeError, BadCode) as exc:
        raise SyncRefused(f"HQ's bookings answer is not a list of bookings: {exc}") from exc
    unknown = [str(b["state"])[:20] for b in listed if b["state"] not in STATES]
    if unknown:
        raise SyncRefused(f"HQ's bookings answer has unknown states: {unknown[:3]}")
    return as_of, listed
