"""Closing a day: every visit still open when its day closes is closed as unserved.

At the center's closing time (or when a manager or ``dostq close-day`` asks) every visit still
issued, waiting, called or on hold is closed as ``closed_unserved``, with a reason; a visitor
being served at that moment is still served. Once a day is over, whatever of it is still open
(a visit being served when the server was switched off, a day the server was off for) is
closed at the next check, so each day starts clean and no counter carries a visit into the
next. Closing is idempotent: a day closed twice closes nothing the second time.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from server.queue.actors import User
from server.queue.center import Center, log_event
from server.queue.counter_release import release_stale
from server.queue.engine import (
    CLOSED_AT_CLOSING_TIME,
    CLOSED_WHEN_DAY_OVER,
    Action,
    OpeningHours,
    State,
    next_state,
)
from server.queue.facts import CounterChanged, CounterFreed, Done, Fact, QueueChanged
from server.queue.storage import audit
from server.queue.views import counter_view

# Visits that hold a counter: closing them frees it.
AT_A_COUNTER = (State.CALLED.value, State.SERVING.value, State.ON_HOLD.value)


def close_day(
    center: Center, day: str, *, reason: str, day_over: bool, user: User | None = None
) -> Done[dict[str, Any]]:
    """Close the visits of ``day`` still open (all of them once ``day_over``) as unserved."""
    states = [s.value for s in (CLOSED_WHEN_DAY_OVER if day_over else CLOSED_AT_CLOSING_TIME)]
    with center.transaction() as (conn, now):
        rows = conn.execute(
            "SELECT id, state, counter_id FROM tickets WHERE day = ? AND state IN "  # noqa: S608
            f"({', '.join('?' * len(states))})",  # placeholders only
            (day, *states),
        ).fetchall()
        for row in rows:
            state = next_state(State(row["state"]), Action.CLOSE_DAY)
            conn.execute(
                "UPDATE tickets SET state = ?, finished_at = ? WHERE id = ?",
                (state.value, now, row["id"]),
            )
            log_event(
                conn,
                row["id"],
                "close_day",
                state,
                now,
                counter_id=row["counter_id"],
                user_id=user.id if user else None,
                detail={"reason": reason, "was": row["state"]},
            )
        closed = dict(Counter(row["state"] for row in rows))
        if not rows:
            return Done({"day": day, "closed": 0, "by_state": {}}, ())
        audit(
            conn,
            "day_closed",
            now,
            user_id=user.id if user else None,
            detail={"day": day, "reason": reason, "closed": closed},
        )
        freed = sorted({r["counter_id"] for r in rows if r["state"] in AT_A_COUNTER})
        counters = [counter_view(conn, counter_id, center.day(now)) for counter_id in freed]
    facts: list[Fact] = [CounterFreed(counter_id) for counter_id in freed]
    facts += [CounterChanged(counter) for counter in counters]
    facts.append(QueueChanged())
    return Done({"day": day, "closed": len(rows), "by_state": closed}, tuple(facts))


def closing_time_passed(hours: OpeningHours | None, local: datetime) -> bool:
    """Tell whether today's closing time has come (never without hours, nor on a closed day)."""
    today = hours.on(local.date()) if hours is not None else None
    return today is not None and local.time() >= today.closing_time()


def close_due(center: Center) -> list[Done[dict[str, Any]]]:
    """Close every day that is over and, past the closing time, today; return what closed.

    Last, the counters left open overnight or past the closing time are released: their
    ``Done`` answers ``{"released": [counter ids]}``.
    """
    now = center.now()
    today = center.day(now)
    with center.store.read() as conn:
        hours = center.opening_hours(conn)
        states = [s.value for s in CLOSED_WHEN_DAY_OVER]
        # Answered from the index of open visits only (storage.OPEN_VISITS_INDEX).
        past = [
            r[0]
            for r in conn.execute(
                "SELECT DISTINCT day FROM tickets WHERE day < ? AND state IN "  # noqa: S608
                f"({', '.join('?' * len(states))}) ORDER BY day",
                (today, *states),
            )
        ]
    done = [close_on_schedule(center, day, day_over=True) for day in past]
    local = datetime.fromtimestamp(now, center.timezone)
    cutoff, why = center.start_of_day(now), "a new day"
    if closing_time_passed(hours, local):
        done.append(close_on_schedule(center, today, day_over=False))
        closing = hours.on(local.date()).closing_time()  # type: ignore[union-attr]  # passed
        cutoff, why = datetime.combine(local.date(), closing, local.tzinfo).timestamp(), "closed"
    # No clerk, break or "open" carries over a night or past the closing time.
    released = release_stale(center, cutoff, why)
    closed = [d for d in done if d.answer["closed"]]
    return closed + ([released] if released.answer["released"] else [])


def close_on_schedule(center: Center, day: str, *, day_over: bool) -> Done[dict[str, Any]]:
    """Close ``day`` on the center's own account (its clock, not a person)."""
    reason = "day_over" if day_over else "closing_time"
    return close_day(center, day, reason=reason, day_over=day_over)
