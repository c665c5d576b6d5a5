"""Freeing a counter its clerk has left: at the day's end, at sign-out, or by a manager.

A counter stayed "open" with yesterday's clerk after the automatic close of the day, after a
staff logout and after the clerk's account was deactivated; only that clerk could free it. The
kiosks then offered services as open, estimates counted phantom counters and a sick clerk's
desk stayed blocked. Each way a clerk leaves now ends in ``release``; a counter where a visitor
is still called or served keeps its clerk, unless a manager releases it, which sends the
visitor back to the queue at their first arrival time (as a transfer does).
"""

from __future__ import annotations

import sqlite3
from typing import Any

from server.queue.actors import User
from server.queue.center import Center, log_event
from server.queue.engine import Action, State, next_state
from server.queue.facts import CounterChanged, CounterFreed, Done, Fact, QueueChanged
from server.queue.storage import audit
from server.queue.views import active_ticket, counter_row, counter_view


def release(
    conn: sqlite3.Connection,
    counter_id: int,
    now: float,
    reason: str,
    user_id: int | None = None,
    return_visitor: bool = False,
) -> bool:
    """Close the counter and clear its clerk; return whether it was released.

    A counter with a visitor called or served is kept, unless ``return_visitor``: then the
    visitor goes back to waiting for the same service, keeping their place.
    """
    counter = counter_row(conn, counter_id)
    busy = active_ticket(conn, counter_id)
    if busy is not None:
        if not return_visitor:
            return False
        state = next_state(State(busy["state"]), Action.TRANSFER)
        conn.execute(
            "UPDATE tickets SET state = ?, counter_id = NULL, target_counter_id = NULL, "
            "queued_at = ? WHERE id = ?",
            (state.value, now, busy["id"]),
        )
        log_event(conn, busy["id"], "transfer", state, now, counter_id=counter_id,
                  user_id=user_id, detail={"reason": reason})  # fmt: skip
    conn.execute(
        "UPDATE counters SET clerk_user_id = NULL, status = 'closed', status_reason = NULL, "
        "priority_streak = 0, status_since = ? WHERE id = ?",
        (now, counter_id),
    )
    audit(conn, "counter_released", now, user_id=user_id,
          detail={"counter": counter["name"], "clerk_user_id": counter["clerk_user_id"],
                  "reason": reason})  # fmt: skip
    return True


def released_facts(conn: sqlite3.Connection, ids: list[int], day: str) -> list[Fact]:
    """Return what the screens hear of released counters (their LED blanks, the lists move)."""
    facts: list[Fact] = []
    for counter_id in ids:
        facts += [CounterFreed(counter_id), CounterChanged(counter_view(conn, counter_id, day))]
    return [*facts, QueueChanged()] if ids else []


def release_stale(center: Center, opened_before: float, why: str) -> Done[dict[str, Any]]:
    """Release every idle counter opened (or last changed) before ``opened_before``.

    That is midnight for counters left open overnight, and today's closing time once it has
    passed; a clerk who opens a counter after closing (to finish the day's papers) stays.
    """
    with center.transaction() as (conn, now):
        rows = conn.execute(
            "SELECT id FROM counters WHERE (clerk_user_id IS NOT NULL OR status != 'closed') "
            "AND (status_since IS NULL OR status_since < ?)",
            (opened_before,),
        ).fetchall()
        ids = [r["id"] for r in rows if release(conn, r["id"], now, why)]
        facts = released_facts(conn, ids, center.day(now))
    return Done({"released": ids}, tuple(facts))


def release_clerk(center: Center, user_id: int, reason: str) -> Done[dict[str, Any]]:
    """Release the counters where ``user_id`` is signed in (a sign-out, a deactivation)."""
    with center.transaction() as (conn, now):
        rows = conn.execute("SELECT id FROM counters WHERE clerk_user_id = ?", (user_id,))
        ids = [r["id"] for r in rows.fetchall() if release(conn, r["id"], now, reason, user_id)]
        facts = released_facts(conn, ids, center.day(now))
    return Done({"released": ids}, tuple(facts))


def release_by_manager(center: Center, counter_id: int, manager: User) -> Done[dict[str, Any]]:
    """Free a counter whose clerk is away (ill, gone home signed in); its visitor re-queues."""
    with center.transaction() as (conn, now):
        release(conn, counter_id, now, "released by a manager", manager.id, return_visitor=True)
        facts = released_facts(conn, [counter_id], center.day(now))
        view = counter_view(conn, counter_id, center.day(now))
    return Done(view, tuple(facts))
