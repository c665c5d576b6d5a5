"""A mobile number left at the kiosk for a ticket's SMS, until the relay hands it to HQ.

The center sends no SMS: HQ does, for tickets relayed there (server/hq_link/phones.py). The
number waits here for the relay's next message and is deleted once HQ has taken it; one left
on a past day goes unsent at the next exchange.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from server.queue.center import Center
from server.queue.errors import NotFound, QueueError
from server.queue.facts import Done, QueueChanged
from server.queue.mobile import masked, mobile_number
from server.queue.ticket_views import QUEUED


def leave_number(
    center: Center, ticket_id: int, device_id: int, phone: str
) -> Done[dict[str, Any]]:
    """Keep a number for the SMS of a ticket this kiosk just issued; say it back masked."""
    number = mobile_number(phone)
    with center.transaction() as (conn, now):
        row = conn.execute("SELECT state, device_id FROM tickets WHERE id = ? AND day = ?",
                           (ticket_id, center.day(now))).fetchone()  # fmt: skip
        if row is None or row["device_id"] != device_id:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id} from this kiosk today.")
        if row["state"] not in QUEUED:
            raise QueueError("not_waiting", "Only a visit still waiting can be told by SMS.")
        conn.execute(
            "INSERT INTO sms_numbers (ticket_id, phone, made_at) VALUES (?, ?, ?) "
            "ON CONFLICT (ticket_id) DO UPDATE SET phone = excluded.phone",
            (ticket_id, number, now),
        )
    # The relay's next message carries it: a queue change sends one at once.
    return Done({"sms_to": masked(number)}, (QueueChanged(),))


def pending(conn: sqlite3.Connection, day: str) -> list[dict[str, Any]]:
    """Return today's numbers for HQ, each with its ticket's token and language."""
    return [
        {"ticket_id": r["ticket_id"], "token": r["token"], "phone": r["phone"],
         "language": r["language"]}
        for r in conn.execute(
            "SELECT n.ticket_id, n.phone, t.token, t.language FROM sms_numbers n "
            "JOIN tickets t ON t.id = n.ticket_id WHERE t.day = ?",
            (day,),
        )
    ]  # fmt: skip


def forget(conn: sqlite3.Connection, ticket_ids: list[int], day: str) -> None:
    """Delete the numbers HQ took, and any of a day before ``day``."""
    conn.executemany("DELETE FROM sms_numbers WHERE ticket_id = ?", [(i,) for i in ticket_ids])
    conn.execute("DELETE FROM sms_numbers WHERE ticket_id IN (SELECT id FROM tickets "
                 "WHERE day < ?)", (day,))  # fmt: skip
