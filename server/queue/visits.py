"""A visit from the visitor's side: issuing a ticket, its print result, cancel and reprint.

Each operation is one ``BEGIN IMMEDIATE`` transaction (load, decide with the engine, write,
log) and returns ``Done(answer, facts)``; the caller publishes the facts after the commit.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from server.queue.actors import Device, User, device_from_row
from server.queue.center import Center, log_event, remember_response, replayed_response
from server.queue.engine import (
    GENERAL,
    Action,
    OpeningHours,
    State,
    next_issuing_time,
    next_state,
)
from server.queue.errors import Forbidden, NotFound, QueueError
from server.queue.facts import (
    Done,
    PrintFinished,
    PrintReported,
    QueueChanged,
    ReprintWanted,
    TicketIssued,
)
from server.queue.numbers import insert_tickets, numbered, open_service
from server.queue.storage import audit
from server.queue.ticket_views import QUEUED, public_status, ticket_view

# The outcome of a visit its visitor cancelled from their phone (reports count them apart).
VISITOR_LEFT = "cancelled_by_visitor"


def issuing_opens_at(center: Center, hours: OpeningHours | None, now: float) -> datetime | None:
    """Return None while kiosks issue tickets, else the local time issuing starts again."""
    return next_issuing_time(hours, datetime.fromtimestamp(now, center.timezone))


def issue_ticket(
    center: Center,
    service_code: str,
    *,
    device: Device | None,
    category: str = GENERAL,
    printed_by_device: bool = True,
    idempotency_key: str | None = None,
    language: str = "az",
    user: User | None = None,
) -> Done[dict[str, Any]]:
    """Issue the next number of the service's area for today, in one BEGIN IMMEDIATE transaction.

    With ``printed_by_device`` the ticket waits as *issued* until the device reports the print
    result; otherwise (no printer on that device) it waits at once. A request replayed under
    the same idempotency key returns the first ticket and causes nothing. ``user`` is the
    member of staff (a volunteer at reception) who issued it for a visitor: audited.
    """
    scope = f"{device.id if device else 0}:{user.id if user else 0}"
    key = f"issue:{scope}:{idempotency_key}" if idempotency_key else None
    with center.transaction() as (conn, now):
        replay = replayed_response(conn, key)
        if replay:
            return Done({**replay, "replayed": True}, ())
        opens = issuing_opens_at(center, center.opening_hours(conn), now)
        if opens is not None:
            raise QueueError("closed", f"Tickets are issued again from {opens:%d.%m %H:%M}.")
        service = open_service(conn, service_code)
        if (
            category != GENERAL
            and conn.execute(
                "SELECT 1 FROM priority_categories WHERE code = ? AND active = 1", (category,)
            ).fetchone()
            is None
        ):
            # Like an unknown service: nothing by that name (404), not a malformed request.
            raise NotFound("unknown_category", f"No priority category '{category}'.", "category")
        ticket = insert_visit(
            conn,
            center.day(now),
            now,
            service,
            category=category,
            language=language,
            device=device if printed_by_device else None,
            issued_for=device,
            user=user,
        )
        remember_response(conn, key, now, ticket)
    return Done(ticket, (TicketIssued(ticket, device, language), QueueChanged()))


def insert_visit(
    conn: sqlite3.Connection,
    day: str,
    now: float,
    service: sqlite3.Row,
    *,
    category: str,
    language: str,
    device: Device | None,
    issued_for: Device | None,
    user: User | None,
    appointment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write a new, numbered visit of ``service`` and log its issue; return the ticket.

    ``device`` prints it (the visit waits as *issued* until it reports), ``issued_for`` is the
    device it was issued at; ``appointment`` ({slot_at, booking_code}) marks a checked-in
    booking, which its own line calls at its slot.
    """
    waits_for_print = device is not None and device.prints
    state = State.ISSUED if waits_for_print else State.WAITING
    ticket_id = insert_tickets(
        conn,
        [
            {
                **numbered(conn, day, service),
                "category": category,
                "language": language,
                "device_id": issued_for.id if issued_for else None,
                "state": state.value,
                "print_status": "pending" if waits_for_print else "none",
                "arrived_at": now,
                "queued_at": now,
                "slot_at": appointment["slot_at"] if appointment else None,
                "booking_code": appointment["booking_code"] if appointment else None,
            }
        ],
    )
    log_event(
        conn,
        ticket_id,
        "issue",
        state,
        now,
        service_id=service["id"],
        device_id=issued_for.id if issued_for else None,
        user_id=user.id if user else None,
        detail={"appointment": True} if appointment else None,
    )
    ticket = ticket_view(conn, ticket_id, now)
    # Kept: the report sets what the visitor was told against the wait they had.
    conn.execute(
        "UPDATE tickets SET told_wait_min = ? WHERE id = ?",
        (ticket["estimated_wait_min"], ticket_id),
    )
    if user is not None:
        detail = {"ticket": ticket["label"], "day": ticket["day"], "category": category,
                  "printer": issued_for.name if issued_for else None}  # fmt: skip
        audit(conn, "ticket_issued_for_visitor", now, user_id=user.id, detail=detail)
    return ticket


def record_print_result(
    center: Center, ticket_id: int, printed: bool, device: Device, detail: str | None = None
) -> Done[dict[str, Any]]:
    """Record whether the issuing device printed the ticket; a repeated report changes nothing."""
    with center.transaction() as (conn, now):
        row = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
        if row["device_id"] != device.id:
            raise Forbidden(
                "not_your_ticket", "Only the device that issued a ticket reports its print result."
            )
        result = "printed" if printed else "failed"
        if row["print_status"] == result or (row["print_status"] == "printed" and not printed):
            # A retry, or a late failure after success.
            return Done(ticket_view(conn, ticket_id), (PrintReported(device, ticket_id),))
        if row["print_status"] == "none":
            raise QueueError("nothing_to_print", f"{row['label']} was not sent to a printer.")
        state = State(row["state"])
        if state is State.ISSUED:
            # Printed or not, the number is now on the kiosk screen: the visitor has it.
            state = next_state(state, Action.CONFIRM_PRINT)
        conn.execute(
            "UPDATE tickets SET print_status = ?, state = ? WHERE id = ?",
            (result, state.value, ticket_id),
        )
        log_event(
            conn,
            ticket_id,
            f"print_{result}",
            state,
            now,
            device_id=device.id,
            detail={"detail": detail} if detail else None,
        )
        ticket = ticket_view(conn, ticket_id)
    # Said to the kiosk whoever printed it (its own spooler, the edge agent, the page itself):
    # a ticket the agent printed never showed "printed" on the kiosk.
    finished = PrintFinished(device.name, ticket_id, ticket["label"], printed, detail or "")
    return Done(ticket, (PrintReported(device, ticket_id), finished, QueueChanged()))


def cancel_ticket(center: Center, ticket_id: int, user: User, reason: str) -> Done[dict[str, Any]]:
    """Cancel a visit that is not being served (e.g. a flagged, never-printed ticket)."""
    with center.transaction() as (conn, now):
        row = conn.execute("SELECT state FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
        state = next_state(State(row["state"]), Action.CANCEL)
        conn.execute(
            "UPDATE tickets SET state = ?, finished_at = ? WHERE id = ?",
            (state.value, now, ticket_id),
        )
        log_event(conn, ticket_id, "cancel", state, now, user_id=user.id, detail={"reason": reason})
        ticket = ticket_view(conn, ticket_id)
        detail = {"ticket": ticket["label"], "day": ticket["day"], "reason": reason}
        audit(conn, "ticket_cancelled", now, user_id=user.id, detail=detail)
    return Done(ticket, (QueueChanged(),))


def cancel_by_visitor(center: Center, token: str) -> Done[dict[str, Any]]:
    """Cancel a visit from its phone page (the ticket's token is the visitor's proof).

    Only a visit still waiting (or on hold) leaves: one being served is the clerk's to end.
    """
    with center.transaction() as (conn, now):
        row = conn.execute("SELECT id, state FROM tickets WHERE token = ?", (token,)).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", "No ticket with this code.", "token")
        state = next_state(State(row["state"]), Action.CANCEL)
        conn.execute(
            "UPDATE tickets SET state = ?, finished_at = ?, outcome = ? WHERE id = ?",
            (state.value, now, VISITOR_LEFT, row["id"]),
        )
        log_event(
            conn, row["id"], "cancel", state, now, detail={"reason": "visitor", "by": "phone"}
        )
        status = public_status(conn, token)
    return Done(status, (QueueChanged(),))


def reprint_ticket(center: Center, ticket_id: int, user: User) -> Done[dict[str, Any]]:
    """Log a staff reprint of a ticket still in the queue and send it to its kiosk's printer."""
    with center.transaction() as (conn, now):
        row = conn.execute(
            "SELECT t.state, d.* FROM tickets t LEFT JOIN devices d ON d.id = t.device_id "
            "WHERE t.id = ?",
            (ticket_id,),
        ).fetchone()
        if row is None:
            raise NotFound("unknown_ticket", f"No ticket {ticket_id}.", "ticket")
        if row["state"] not in QUEUED:
            raise QueueError("not_queued", "Only a ticket still waiting can be reprinted.")
        if row["printer"] is None:
            raise QueueError("no_printer", "This ticket's kiosk has no printer the server drives.")
        conn.execute("UPDATE tickets SET print_status = 'pending' WHERE id = ?", (ticket_id,))
        log_event(conn, ticket_id, "reprint", State(row["state"]), now, user_id=user.id)
        ticket = ticket_view(conn, ticket_id)
        detail = {"ticket": ticket["label"], "day": ticket["day"]}
        audit(conn, "ticket_reprinted", now, user_id=user.id, detail=detail)
    return Done(ticket, (ReprintWanted(ticket, device_from_row(row)),))
