"""What a clerk does at the desk besides calling (that is ``server.queue.calls``).

Sign in and out, breaks, start, no-show, hold, resume, finish, transfer, and serving a walk-in.

Each action is one BEGIN IMMEDIATE transaction: load, decide with the engine, write, log; it
returns ``Done(answer, facts)`` and the caller publishes the facts once the transaction has
committed.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from server.queue.actors import User
from server.queue.center import Center, log_event
from server.queue.engine import Action, State, next_state
from server.queue.errors import Forbidden, Invalid, NotFound, QueueError
from server.queue.facts import CounterChanged, CounterFreed, Done, QueueChanged, VisitFinished
from server.queue.numbers import insert_tickets, numbered, open_service
from server.queue.ticket_views import ticket_view
from server.queue.views import active_ticket, counter_row, counter_view

OUTCOMES = ("done", "documents_missing", "referred")


def signed_in_counter(conn: sqlite3.Connection, counter_id: int, user: User) -> sqlite3.Row:
    """Return the counter if ``user`` is signed in there, else refuse."""
    counter = counter_row(conn, counter_id)
    if counter["clerk_user_id"] != user.id:
        raise Forbidden(
            "not_your_counter", f"You are not signed in at {counter['name']}; sign in there first."
        )
    return counter


def require_active(conn: sqlite3.Connection, counter: sqlite3.Row) -> sqlite3.Row:
    """Return the visit called or served at the counter, or refuse: there is none."""
    ticket = active_ticket(conn, counter["id"])
    if ticket is None:
        raise QueueError("no_active_ticket", f"{counter['name']} has no visitor called.")
    return ticket


def require_free(conn: sqlite3.Connection, counter: sqlite3.Row) -> None:
    """Refuse unless the counter is open and has nobody called or being served."""
    if counter["status"] != "open":
        raise QueueError(
            "counter_not_open",
            f"{counter['name']} is {counter['status']}; end the break before calling.",
        )
    busy = active_ticket(conn, counter["id"])
    if busy is not None:
        raise QueueError(
            "counter_busy",
            f"{busy['label']} is still {busy['state']} at {counter['name']}: "
            "finish it or mark it no-show first.",
        )


def _counter_changed(counter: dict[str, Any]) -> Done[dict[str, Any]]:
    return Done(counter, (CounterChanged(counter), QueueChanged()))


def sign_in(center: Center, counter_id: int, user: User) -> Done[dict[str, Any]]:
    """Bind the clerk to the counter and open it."""
    with center.transaction() as (conn, now):
        counter = counter_row(conn, counter_id)
        if counter["clerk_user_id"] not in (None, user.id):
            raise QueueError("counter_taken", f"Someone else is signed in at {counter['name']}.")
        elsewhere = conn.execute(
            "SELECT name FROM counters WHERE clerk_user_id = ? AND id != ?", (user.id, counter_id)
        ).fetchone()
        if elsewhere:
            raise QueueError(
                "signed_in_elsewhere",
                f"You are signed in at {elsewhere['name']}; sign out there first.",
            )
        conn.execute(
            "UPDATE counters SET clerk_user_id = ?, status = 'open', status_reason = NULL, "
            "status_since = ? WHERE id = ?",
            (user.id, now, counter_id),
        )
        return _counter_changed(counter_view(conn, counter_id, center.day(now)))


def sign_out(center: Center, counter_id: int, user: User) -> Done[dict[str, Any]]:
    """Close the counter; refused while a visitor is called or being served there."""
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        busy = active_ticket(conn, counter_id)
        if busy is not None:
            raise QueueError("counter_busy", f"Finish {busy['label']} before signing out.")
        conn.execute(
            "UPDATE counters SET clerk_user_id = NULL, status = 'closed', "
            "priority_streak = 0, status_since = ? WHERE id = ?",
            (now, counter["id"]),
        )
        return _counter_changed(counter_view(conn, counter_id, center.day(now)))


BREAK_MINUTES = (10, 15, 30, 45, 60)  # what the counter page offers


def set_status(
    center: Center,
    counter_id: int,
    user: User,
    status: str,
    reason: str | None = None,
    minutes: int | None = None,
) -> Done[dict[str, Any]]:
    """Start a break (with a reason and, said, its length) or come back from it."""
    if status not in ("open", "break"):
        raise Invalid("bad_status", "Status must be 'open' or 'break'.", "status")
    if minutes is not None and not 1 <= minutes <= 240:
        raise Invalid("bad_break_length", "A break lasts 1 to 240 minutes.", "minutes")
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        if status == "break" and active_ticket(conn, counter_id) is not None:
            raise QueueError("counter_busy", "Finish the current visitor before a break.")
        until = now + minutes * 60 if status == "break" and minutes else None
        conn.execute(
            "UPDATE counters SET status = ?, status_reason = ?, status_since = ?, break_until = ? "
            "WHERE id = ?",
            (status, reason if status == "break" else None, now, until, counter["id"]),
        )
        return _counter_changed(counter_view(conn, counter_id, center.day(now)))


def serve_walk_in(
    center: Center, counter_id: int, user: User, service_code: str
) -> Done[dict[str, Any]]:
    """Serve a visitor who came to the desk without a ticket; counted like any visit."""
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        require_free(conn, counter)
        service = open_service(conn, service_code)
        ticket_id = insert_tickets(
            conn,
            [
                {
                    **numbered(conn, center.day(now), service),
                    "state": State.SERVING.value,
                    "print_status": "none",
                    "arrived_at": now,
                    "queued_at": now,
                    "called_at": now,
                    "first_called_at": now,
                    "started_at": now,
                    "counter_id": counter_id,
                    "clerk_user_id": user.id,
                    "walk_in": 1,
                }
            ],
        )
        log_event(
            conn,
            ticket_id,
            "walk_in",
            State.SERVING,
            now,
            service_id=service["id"],
            counter_id=counter_id,
            user_id=user.id,
        )
        ticket = ticket_view(conn, ticket_id)
    return Done(ticket, (QueueChanged(),))


def _move_active(
    center: Center,
    counter_id: int,
    user: User,
    action: Action,
    sets: str = "",
    detail: dict[str, Any] | None = None,
) -> Done[dict[str, Any]]:
    """Apply ``action`` to the counter's current visit, stamping the time column in ``sets``."""
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        ticket = require_active(conn, counter)
        state = next_state(State(ticket["state"]), action)
        stamp = f", {sets} = :now" if sets else ""
        conn.execute(
            f"UPDATE tickets SET state = :state{stamp} WHERE id = :id",  # noqa: S608
            {"state": state.value, "now": now, "id": ticket["id"]},
        )
        log_event(
            conn,
            ticket["id"],
            action.value,
            state,
            now,
            counter_id=counter_id,
            user_id=user.id,
            detail=detail,
        )
        view = ticket_view(conn, ticket["id"])
        desk = counter_view(conn, counter_id, center.day(now))
    return _moved(view, desk) if action is Action.START else _left_desk(view, desk)


# Every change at a desk says how the counter stands now (CounterChanged): the counter page
# follows a keypad's START or FINISH by it (it stayed on "Start" and the next click hit a 409),
# and so does the floor.
def _moved(ticket: dict[str, Any], desk: dict[str, Any]) -> Done[dict[str, Any]]:
    return Done(ticket, (CounterChanged(desk), QueueChanged()))


def _left_desk(ticket: dict[str, Any], desk: dict[str, Any]) -> Done[dict[str, Any]]:
    # The visit left the counter: its LED display blanks and the counter is free.
    return Done(ticket, (CounterFreed(desk["id"]), CounterChanged(desk), QueueChanged()))


def start_service(center: Center, counter_id: int, user: User) -> Done[dict[str, Any]]:
    """Start timing the service: the called visitor is at the desk."""
    return _move_active(center, counter_id, user, Action.START, "started_at")


def mark_no_show(center: Center, counter_id: int, user: User) -> Done[dict[str, Any]]:
    """Mark the called visitor as not come."""
    return _move_active(center, counter_id, user, Action.NO_SHOW, "finished_at")


def hold(center: Center, counter_id: int, user: User) -> Done[dict[str, Any]]:
    """Park the visit being served (e.g. the visitor fetches a document); the counter is free."""
    return _move_active(center, counter_id, user, Action.HOLD)


def finish(
    center: Center, counter_id: int, user: User, delivered: list[str], outcome: str = "done"
) -> Done[dict[str, Any]]:
    """Finish the visit, recording the services actually delivered and the outcome."""
    if outcome not in OUTCOMES:
        raise Invalid("bad_outcome", f"Outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        ticket = require_active(conn, counter)
        state = next_state(State(ticket["state"]), Action.FINISH)
        service_ids = {ticket["service_id"]} if not delivered else set()
        for code in delivered:
            row = conn.execute("SELECT id FROM services WHERE code = ?", (code,)).fetchone()
            if row is None:
                raise NotFound("unknown_service", f"No service with code '{code}'.", "delivered")
            service_ids.add(row[0])
        conn.executemany(
            "INSERT INTO delivered_services (ticket_id, service_id) VALUES (?, ?)",
            [(ticket["id"], sid) for sid in sorted(service_ids)],
        )
        conn.execute(
            "UPDATE tickets SET state = ?, finished_at = ?, outcome = ? WHERE id = ?",
            (state.value, now, outcome, ticket["id"]),
        )
        log_event(
            conn,
            ticket["id"],
            "finish",
            state,
            now,
            counter_id=counter_id,
            user_id=user.id,
            detail={"outcome": outcome},
        )
        view = ticket_view(conn, ticket["id"])
        desk = counter_view(conn, counter_id, center.day(now))
    done = _left_desk(view, desk)
    asked = VisitFinished(counter_id, view["id"], view["label"], view["language"])
    return Done(done.answer, (*done.facts, asked))


def resume(center: Center, counter_id: int, user: User, label: str) -> Done[dict[str, Any]]:
    """Take a visit this counter put on hold back into service."""
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        require_free(conn, counter)
        ticket = conn.execute(
            "SELECT * FROM tickets WHERE counter_id = ? AND label = ? AND state = 'on_hold'",
            (counter_id, label.upper()),
        ).fetchone()
        if ticket is None:
            raise NotFound(
                "unknown_ticket", f"{label} is not on hold at {counter['name']}.", "ticket"
            )
        state = next_state(State(ticket["state"]), Action.RESUME)
        conn.execute("UPDATE tickets SET state = ? WHERE id = ?", (state.value, ticket["id"]))
        log_event(conn, ticket["id"], "resume", state, now, counter_id=counter_id, user_id=user.id)
        view = ticket_view(conn, ticket["id"])
        desk = counter_view(conn, counter_id, center.day(now))
    return _moved(view, desk)


def transfer(
    center: Center,
    counter_id: int,
    user: User,
    label: str | None = None,
    service_code: str | None = None,
    to_counter_id: int | None = None,
) -> Done[dict[str, Any]]:
    """Send the current (or a held) visit to another service and/or counter.

    The visit keeps its number and its first arrival time, so it queues where the policy
    puts a visitor who came in at that time; it does not go to the back of the line.
    """
    if service_code is None and to_counter_id is None:
        raise Invalid(
            "nothing_to_transfer_to", "Name a service or a counter to transfer to.", "service"
        )
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        if label is None:
            ticket = require_active(conn, counter)
        else:
            ticket = conn.execute(
                "SELECT * FROM tickets WHERE counter_id = ? AND label = ? AND state = 'on_hold'",
                (counter_id, label.upper()),
            ).fetchone()
            if ticket is None:
                raise NotFound("unknown_ticket", f"{label} is not on hold here.", "ticket")
        state = next_state(State(ticket["state"]), Action.TRANSFER)
        service_id = ticket["service_id"]
        if service_code is not None:
            row = conn.execute(
                "SELECT id FROM services WHERE code = ? AND active = 1", (service_code,)
            ).fetchone()
            if row is None:
                raise NotFound("unknown_service", f"No open service '{service_code}'.", "service")
            service_id = row[0]
        if to_counter_id is not None:
            target = counter_row(conn, to_counter_id)
            if not conn.execute(
                "SELECT 1 FROM counter_services WHERE counter_id = ? AND service_id = ?",
                (to_counter_id, service_id),
            ).fetchone():
                # A well-formed request that what the counter serves today refuses: a conflict
                # with the center's state (409), not a malformed request (422).
                raise QueueError(
                    "counter_does_not_serve",
                    f"{target['name']} does not serve that service.",
                    "counter",
                )
        conn.execute(
            "UPDATE tickets SET state = ?, service_id = ?, target_counter_id = ?, "
            "counter_id = NULL, queued_at = ?, transfers = transfers + 1 WHERE id = ?",
            (state.value, service_id, to_counter_id, now, ticket["id"]),
        )
        log_event(
            conn,
            ticket["id"],
            "transfer",
            state,
            now,
            service_id=service_id,
            counter_id=counter_id,
            user_id=user.id,
            detail={"from_service_id": ticket["service_id"], "to_counter_id": to_counter_id},
        )
        view = ticket_view(conn, ticket["id"])
        desk = counter_view(conn, counter_id, center.day(now))
    return _left_desk(view, desk)
