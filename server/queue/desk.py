"""What a clerk does at a counter: sign in, call, recall, serve, finish, transfer, hold, break.

Each action is one BEGIN IMMEDIATE transaction: load, decide with the engine, write, log.
Callers publish the returned facts only after the transaction has committed.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
from typing import Any

from server.office.accounts import User
from server.queue.center import Center, log_event, remember_response, replayed_response
from server.queue.engine import (
    Action,
    CounterPolicy,
    Forbidden,
    Invalid,
    NotFound,
    QueueError,
    State,
    WaitingTicket,
    choose_next,
    next_state,
    streak_after,
    ticket_label,
)
from server.queue.visits import call_event, next_number, open_service, ticket_view

OUTCOMES = ("done", "documents_missing", "referred")


def _counter(conn: sqlite3.Connection, counter_id: int) -> sqlite3.Row:
    row = conn.execute("SELECT * FROM counters WHERE id = ?", (counter_id,)).fetchone()
    if row is None:
        raise NotFound("unknown_counter", f"No counter {counter_id}.", "counter")
    return row


def _signed_in_counter(conn: sqlite3.Connection, counter_id: int, user: User) -> sqlite3.Row:
    counter = _counter(conn, counter_id)
    if counter["clerk_user_id"] != user.id:
        raise Forbidden(
            "not_your_counter", f"You are not signed in at {counter['name']}; sign in there first."
        )
    return counter


def _active_ticket(conn: sqlite3.Connection, counter_id: int) -> sqlite3.Row | None:
    return conn.execute(
        "SELECT * FROM tickets WHERE counter_id = ? AND state IN ('called', 'serving')",
        (counter_id,),
    ).fetchone()


def _require_active(conn: sqlite3.Connection, counter: sqlite3.Row) -> sqlite3.Row:
    ticket = _active_ticket(conn, counter["id"])
    if ticket is None:
        raise QueueError("no_active_ticket", f"{counter['name']} has no visitor called.")
    return ticket


def _require_free(conn: sqlite3.Connection, counter: sqlite3.Row) -> None:
    if counter["status"] != "open":
        raise QueueError(
            "counter_not_open",
            f"{counter['name']} is {counter['status']}; end the break before calling.",
        )
    busy = _active_ticket(conn, counter["id"])
    if busy is not None:
        raise QueueError(
            "counter_busy",
            f"{busy['label']} is still {busy['state']} at {counter['name']}: "
            "finish it or mark it no-show first.",
        )


def counter_policy(conn: sqlite3.Connection, counter: sqlite3.Row) -> CounterPolicy:
    """Load which services (with weights) and categories a counter serves."""
    weights = dict(
        conn.execute(
            "SELECT cs.service_id, cs.weight FROM counter_services cs "
            "JOIN services s ON s.id = cs.service_id WHERE cs.counter_id = ? AND s.active = 1",
            (counter["id"],),
        ).fetchall()
    )
    categories = json.loads(counter["categories"]) if counter["categories"] else None
    return CounterPolicy(counter["id"], weights, frozenset(categories) if categories else None)


def queue_heads(conn: sqlite3.Connection, day: str, counter_id: int) -> list[WaitingTicket]:
    """Return the first waiting visit of each line this counter may call from.

    A line is (service, category, target counter). Only a line's head can be next (the engine
    is first-come-first-served within a line), so each head is one index probe and the engine
    decides over a handful of rows however long the queue is.
    """
    rows = conn.execute(
        "WITH lines (service_id, category, target) AS ("
        " SELECT cs.service_id, c.code, t.target FROM counter_services cs,"
        "  (SELECT code FROM priority_categories UNION SELECT 'general') c,"
        "  (SELECT NULL AS target UNION ALL SELECT :counter) t"
        " WHERE cs.counter_id = :counter)"
        " SELECT w.id, w.service_id, w.category, w.arrived_at, w.target_counter_id"
        " FROM tickets w WHERE w.id IN (SELECT (SELECT id FROM tickets h"
        "  WHERE h.day = :day AND h.state = 'waiting' AND h.service_id = l.service_id"
        "  AND h.category = l.category AND h.target_counter_id IS l.target"
        "  ORDER BY h.arrived_at, h.id LIMIT 1) FROM lines l)",
        {"day": day, "counter": counter_id},
    ).fetchall()
    return [
        WaitingTicket(
            r["id"], r["service_id"], r["category"], r["arrived_at"], r["target_counter_id"]
        )
        for r in rows
    ]


def _call(
    conn: sqlite3.Connection,
    counter: sqlite3.Row,
    ticket_id: int,
    user: User,
    now: float,
    action: str,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Mark ``ticket_id`` called at ``counter`` and return the call as displays see it."""
    state = State.CALLED
    conn.execute(
        "UPDATE tickets SET state = ?, counter_id = ?, clerk_user_id = ?, called_at = ?, "
        "first_called_at = coalesce(first_called_at, ?), target_counter_id = NULL WHERE id = ?",
        (state.value, counter["id"], user.id, now, now, ticket_id),
    )
    seq = log_event(
        conn,
        ticket_id,
        action,
        state,
        now,
        counter_id=counter["id"],
        user_id=user.id,
        detail=detail,
    )
    return _call_view(conn, seq, ticket_id)


def _call_view(conn: sqlite3.Connection, seq: int, ticket_id: int) -> dict[str, Any]:
    row = conn.execute(
        "SELECT e.id, e.at, e.action, t.label, c.id AS counter_id, c.name AS counter, c.zone "
        "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "JOIN counters c ON c.id = e.counter_id WHERE e.id = ?",
        (seq,),
    ).fetchone()
    return {"call": call_event(row), "ticket": ticket_view(conn, ticket_id)}


def sign_in(center: Center, counter_id: int, user: User) -> dict[str, Any]:
    """Bind the clerk to the counter and open it."""
    with center.store.write() as conn:
        counter = _counter(conn, counter_id)
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
            "UPDATE counters SET clerk_user_id = ?, status = 'open', status_reason = NULL "
            "WHERE id = ?",
            (user.id, counter_id),
        )
        return counter_view(conn, counter_id, center.day(center.now()))


def sign_out(center: Center, counter_id: int, user: User) -> dict[str, Any]:
    """Close the counter; refused while a visitor is called or being served there."""
    with center.store.write() as conn:
        counter = _signed_in_counter(conn, counter_id, user)
        busy = _active_ticket(conn, counter_id)
        if busy is not None:
            raise QueueError("counter_busy", f"Finish {busy['label']} before signing out.")
        conn.execute(
            "UPDATE counters SET clerk_user_id = NULL, status = 'closed', "
            "priority_streak = 0 WHERE id = ?",
            (counter["id"],),
        )
        return counter_view(conn, counter_id, center.day(center.now()))


def set_status(
    center: Center, counter_id: int, user: User, status: str, reason: str | None = None
) -> dict[str, Any]:
    """Start a break (with a reason) or come back from it."""
    if status not in ("open", "break"):
        raise Invalid("bad_status", "Status must be 'open' or 'break'.", "status")
    with center.store.write() as conn:
        counter = _signed_in_counter(conn, counter_id, user)
        if status == "break" and _active_ticket(conn, counter_id) is not None:
            raise QueueError("counter_busy", "Finish the current visitor before a break.")
        conn.execute(
            "UPDATE counters SET status = ?, status_reason = ? WHERE id = ?",
            (status, reason if status == "break" else None, counter["id"]),
        )
        return counter_view(conn, counter_id, center.day(center.now()))


def counter_view(conn: sqlite3.Connection, counter_id: int, day: str) -> dict[str, Any]:
    """Return a counter, its services, its current visit and its clerk's ``day`` so far."""
    counter = _counter(conn, counter_id)
    services = [
        r[0]
        for r in conn.execute(
            "SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id "
            "WHERE cs.counter_id = ? ORDER BY s.position",
            (counter_id,),
        )
    ]
    active = _active_ticket(conn, counter_id)
    return {
        "id": counter["id"],
        "name": counter["name"],
        "zone": counter["zone"],
        "status": counter["status"],
        "reason": counter["status_reason"],
        "clerk_user_id": counter["clerk_user_id"],
        "services": services,
        "categories": json.loads(counter["categories"]) if counter["categories"] else None,
        "ticket": ticket_view(conn, active["id"]) if active else None,
        "on_hold": [
            r[0]
            for r in conn.execute(
                "SELECT label FROM tickets WHERE counter_id = ? AND state = 'on_hold' ORDER BY id",
                (counter_id,),
            )
        ],
        "today": (
            clerk_day(conn, counter["clerk_user_id"], day) if counter["clerk_user_id"] else None
        ),
    }


def clerk_day(conn: sqlite3.Connection, user_id: int, day: str) -> dict[str, Any]:
    """Return a clerk's visits on ``day``: served, no-shows, average service time."""
    row = conn.execute(
        "SELECT sum(state = 'done') AS served, sum(state = 'no_show') AS no_show, "
        "avg(CASE WHEN state = 'done' THEN finished_at - started_at END) AS average "
        "FROM tickets WHERE clerk_user_id = ? AND day = ?",
        (user_id, day),
    ).fetchone()
    average = round(row["average"]) if row["average"] is not None else None
    return {
        "served": row["served"] or 0,
        "no_show": row["no_show"] or 0,
        "average_service_s": average,
    }


def list_counters(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """Return every counter with its status and who is signed in there."""
    rows = conn.execute(
        "SELECT c.id, c.name, c.zone, c.status, c.clerk_user_id, u.display_name AS clerk "
        "FROM counters c "
        "LEFT JOIN users u ON u.id = c.clerk_user_id ORDER BY c.id"
    ).fetchall()
    return [dict(r) for r in rows]


def serve_walk_in(center: Center, counter_id: int, user: User, service_code: str) -> dict[str, Any]:
    """Serve a visitor who came to the desk without a ticket; counted like any visit."""
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        _require_free(conn, counter)
        service = open_service(conn, service_code)
        day = center.day(now)
        number = next_number(conn, day, service["letter"])
        cursor = conn.execute(
            "INSERT INTO tickets (token, day, letter, number, label, service_id, state, "
            "print_status, arrived_at, queued_at, called_at, first_called_at, started_at, "
            "counter_id, clerk_user_id, walk_in) "
            "VALUES (?, ?, ?, ?, ?, ?, 'serving', 'none', ?, ?, ?, ?, ?, ?, ?, 1)",
            (
                secrets.token_urlsafe(16),
                day,
                service["letter"],
                number,
                ticket_label(service["letter"], number),
                service["id"],
                now,
                now,
                now,
                now,
                now,
                counter_id,
                user.id,
            ),
        )
        ticket_id = int(cursor.lastrowid or 0)
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
        return ticket_view(conn, ticket_id)


def call_next(
    center: Center, counter_id: int, user: User, idempotency_key: str | None = None
) -> dict[str, Any]:
    """Call the next visitor by the counter's policy; a retried request returns the same call."""
    key = f"call:{counter_id}:{idempotency_key}" if idempotency_key else None
    with center.transaction() as (conn, now):
        replay = replayed_response(conn, key)
        if replay:
            return replay
        counter = _signed_in_counter(conn, counter_id, user)
        _require_free(conn, counter)
        policy = counter_policy(conn, counter)
        heads = queue_heads(conn, center.day(now), counter_id)
        chosen = choose_next(heads, policy, center.fairness(conn), counter["priority_streak"], now)
        if chosen is None:
            raise QueueError("queue_empty", f"Nobody is waiting for {counter['name']}'s services.")
        conn.execute(
            "UPDATE counters SET priority_streak = ? WHERE id = ?",
            (streak_after(counter["priority_streak"], chosen), counter_id),
        )
        response = _call(conn, counter, chosen.id, user, now, "call")
        remember_response(conn, key, now, response)
        return response


def call_ticket(
    center: Center, counter_id: int, user: User, label: str, reason: str
) -> dict[str, Any]:
    """Call one of today's tickets out of turn; the reason is logged with the call."""
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        _require_free(conn, counter)
        ticket = conn.execute(
            "SELECT * FROM tickets WHERE day = ? AND label = ?", (center.day(now), label.upper())
        ).fetchone()
        if ticket is None:
            raise NotFound("unknown_ticket", f"No ticket {label} today.", "ticket")
        next_state(State(ticket["state"]), Action.CALL)
        return _call(
            conn, counter, ticket["id"], user, now, "call", {"out_of_turn": True, "reason": reason}
        )


def recall(center: Center, counter_id: int, user: User) -> dict[str, Any]:
    """Call the current visitor again (a new call event, announced again)."""
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        ticket = _require_active(conn, counter)
        next_state(State(ticket["state"]), Action.RECALL)
        conn.execute("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?", (ticket["id"],))
        seq = log_event(
            conn, ticket["id"], "recall", State.CALLED, now, counter_id=counter_id, user_id=user.id
        )
        return _call_view(conn, seq, ticket["id"])


def _move_active(
    center: Center,
    counter_id: int,
    user: User,
    action: Action,
    sets: str = "",
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Apply ``action`` to the counter's current visit, stamping the time column in ``sets``."""
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        ticket = _require_active(conn, counter)
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
        return ticket_view(conn, ticket["id"])


def start_service(center: Center, counter_id: int, user: User) -> dict[str, Any]:
    """Start timing the service: the called visitor is at the desk."""
    return _move_active(center, counter_id, user, Action.START, "started_at")


def mark_no_show(center: Center, counter_id: int, user: User) -> dict[str, Any]:
    """Mark the called visitor as not come."""
    return _move_active(center, counter_id, user, Action.NO_SHOW, "finished_at")


def hold(center: Center, counter_id: int, user: User) -> dict[str, Any]:
    """Park the visit being served (e.g. the visitor fetches a document); the counter is free."""
    return _move_active(center, counter_id, user, Action.HOLD)


def finish(
    center: Center, counter_id: int, user: User, delivered: list[str], outcome: str = "done"
) -> dict[str, Any]:
    """Finish the visit, recording the services actually delivered and the outcome."""
    if outcome not in OUTCOMES:
        raise Invalid("bad_outcome", f"Outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        ticket = _require_active(conn, counter)
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
        return ticket_view(conn, ticket["id"])


def resume(center: Center, counter_id: int, user: User, label: str) -> dict[str, Any]:
    """Take a visit this counter put on hold back into service."""
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        _require_free(conn, counter)
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
        return ticket_view(conn, ticket["id"])


def transfer(
    center: Center,
    counter_id: int,
    user: User,
    label: str | None = None,
    service_code: str | None = None,
    to_counter_id: int | None = None,
) -> dict[str, Any]:
    """Send the current (or a held) visit to another service and/or counter.

    The visit keeps its number and its first arrival time, so it queues where the policy
    puts a visitor who came in at that time; it does not go to the back of the line.
    """
    if service_code is None and to_counter_id is None:
        raise Invalid(
            "nothing_to_transfer_to", "Name a service or a counter to transfer to.", "service"
        )
    with center.transaction() as (conn, now):
        counter = _signed_in_counter(conn, counter_id, user)
        if label is None:
            ticket = _require_active(conn, counter)
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
            target = _counter(conn, to_counter_id)
            if not conn.execute(
                "SELECT 1 FROM counter_services WHERE counter_id = ? AND service_id = ?",
                (to_counter_id, service_id),
            ).fetchone():
                raise Invalid(
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
        return ticket_view(conn, ticket["id"])
