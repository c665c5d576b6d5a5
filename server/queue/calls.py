"""Who is called next, and calling: the next by the counter's policy, one out of turn, a recall.

``server.queue.engine.choose_next`` holds the rule (overdue first, then priority within the
streak limit, then the longest weighted wait); this module loads what it decides over, the
head of each line the counter may call from, and writes the call. Each call is one
``BEGIN IMMEDIATE`` transaction and returns ``Done(answer, facts)`` with a ``Called`` fact,
which ``server.live.publisher`` pushes to the displays of the counter's zone.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from server.queue.actors import User
from server.queue.center import Center, log_event, remember_response, replayed_response
from server.queue.desk import require_active, require_free, signed_in_counter
from server.queue.engine import (
    Action,
    CounterPolicy,
    State,
    WaitingTicket,
    choose_next,
    label_key,
    next_state,
    streak_after,
)
from server.queue.errors import NotFound, QueueError
from server.queue.facts import Called, Done, QueueChanged
from server.queue.views import call_view


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

    A walk-in line is (service, category, target counter), in arrival order; each service's
    checked-in appointments are one more line, in slot order. A transferred appointment has
    had its slot: it queues as a walk-in by its arrival (its slot stays, for the reports).
    Only a line's head can be next
    (the engine is first-come-first-served within a line), so each head is one index probe
    and the engine decides over a handful of rows however long the queue is.
    """
    rows = conn.execute(
        "WITH lines (service_id, category, target) AS ("
        " SELECT cs.service_id, c.code, t.target FROM counter_services cs,"
        "  (SELECT code FROM priority_categories UNION SELECT 'general') c,"
        "  (SELECT NULL AS target UNION ALL SELECT :counter) t"
        " WHERE cs.counter_id = :counter)"
        " SELECT w.id, w.service_id, w.category, w.arrived_at, w.target_counter_id,"
        "  CASE WHEN w.transfers = 0 THEN w.slot_at END AS slot_at"
        " FROM tickets w WHERE w.id IN (SELECT (SELECT id FROM tickets h"
        "  WHERE h.day = :day AND h.state = 'waiting' AND h.service_id = l.service_id"
        "  AND h.category = l.category AND h.target_counter_id IS l.target"
        "  AND (h.slot_at IS NULL OR h.transfers > 0) ORDER BY h.arrived_at, h.id LIMIT 1)"
        "  FROM lines l"
        "  UNION ALL SELECT (SELECT id FROM tickets b"
        "  WHERE b.day = :day AND b.state = 'waiting' AND b.service_id = cs.service_id"
        "  AND b.slot_at IS NOT NULL AND b.transfers = 0 ORDER BY b.slot_at, b.id LIMIT 1)"
        "  FROM counter_services cs WHERE cs.counter_id = :counter)",
        {"day": day, "counter": counter_id},
    ).fetchall()
    return [
        WaitingTicket(
            r["id"],
            r["service_id"],
            r["category"],
            r["arrived_at"],
            r["target_counter_id"],
            r["slot_at"],
        )
        for r in rows
    ]


def _call(
    conn: sqlite3.Connection,
    counter: sqlite3.Row,
    ticket_id: int,
    user: User,
    now: float,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Mark ``ticket_id`` called at ``counter``; return the call and the ticket."""
    state = State.CALLED
    conn.execute(
        "UPDATE tickets SET state = ?, counter_id = ?, clerk_user_id = ?, called_at = ?, "
        "first_called_at = coalesce(first_called_at, ?), target_counter_id = NULL WHERE id = ?",
        (state.value, counter["id"], user.id, now, now, ticket_id),
    )
    seq = log_event(
        conn,
        ticket_id,
        "call",
        state,
        now,
        counter_id=counter["id"],
        user_id=user.id,
        detail=detail,
    )
    return call_view(conn, seq, ticket_id)


def _called(answer: dict[str, Any]) -> Done[dict[str, Any]]:
    return Done(answer, (Called(answer["call"], answer["ticket"]["token"]), QueueChanged()))


def call_next(
    center: Center, counter_id: int, user: User, idempotency_key: str | None = None
) -> Done[dict[str, Any]]:
    """Call the next visitor by the counter's policy; a retried request returns the same call.

    A replay causes nothing: the first request's call was published already.
    """
    key = f"call:{counter_id}:{idempotency_key}" if idempotency_key else None
    with center.transaction() as (conn, now):
        replay = replayed_response(conn, key)
        if replay:
            return Done(replay, ())
        counter = signed_in_counter(conn, counter_id, user)
        require_free(conn, counter)
        policy = counter_policy(conn, counter)
        heads = queue_heads(conn, center.day(now), counter_id)
        chosen = choose_next(heads, policy, center.fairness(conn), counter["priority_streak"], now)
        if chosen is None:
            raise QueueError("queue_empty", f"Nobody is waiting for {counter['name']}'s services.")
        conn.execute(
            "UPDATE counters SET priority_streak = ? WHERE id = ?",
            (streak_after(counter["priority_streak"], chosen), counter_id),
        )
        answer = _call(conn, counter, chosen.id, user, now)
        remember_response(conn, key, now, answer)
    return _called(answer)


def call_ticket(
    center: Center, counter_id: int, user: User, label: str, reason: str
) -> Done[dict[str, Any]]:
    """Call one of today's tickets out of turn; the reason is logged with the call."""
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        require_free(conn, counter)
        key = label_key(label.upper())
        ticket = (
            key
            and conn.execute(
                "SELECT * FROM tickets WHERE day = ? AND letter = ? AND number = ?",
                (center.day(now), *key),
            ).fetchone()
        )
        if not ticket:
            raise NotFound("unknown_ticket", f"No ticket {label} today.", "ticket")
        next_state(State(ticket["state"]), Action.CALL)
        answer = _call(
            conn, counter, ticket["id"], user, now, {"out_of_turn": True, "reason": reason}
        )
    return _called(answer)


def recall(center: Center, counter_id: int, user: User) -> Done[dict[str, Any]]:
    """Call the current visitor again (a new call event, announced again)."""
    with center.transaction() as (conn, now):
        counter = signed_in_counter(conn, counter_id, user)
        ticket = require_active(conn, counter)
        next_state(State(ticket["state"]), Action.RECALL)
        conn.execute("UPDATE tickets SET recalls = recalls + 1 WHERE id = ?", (ticket["id"],))
        seq = log_event(
            conn, ticket["id"], "recall", State.CALLED, now, counter_id=counter_id, user_id=user.id
        )
        answer = call_view(conn, seq, ticket["id"])
    return _called(answer)
