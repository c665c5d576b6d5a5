"""The wait a visitor is told: the hall replayed forward by the engine's own call policy.

Counting those ahead in the same service and dividing by the counters open told 76 % of a
normal day's walk-ins "nobody ahead" while the desks they shared were busy with other lines,
and counted a desk serving twenty services whole for each. Instead, from the state now, each
open counter calls in turn when it comes free (after its current visit, after its break) with
``engine.choose_next`` itself, each visit taking that service's counter time per call; the
time a ticket's call comes up is its visitor's estimate, and the visitors called before it are
those ahead. One replay answers every waiting ticket.

``replay`` is plain data in, plain data out; ``forecast`` loads the hall from the database.
"""

from __future__ import annotations

import bisect
import heapq
import json
import math
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from zoneinfo import ZoneInfo

from server.queue.breaks import break_waves, windows_by_counter
from server.queue.engine import (
    GENERAL,
    CounterPolicy,
    Fairness,
    WaitingTicket,
    choose_next,
    streak_after,
)

# "You will be called soon" only when the replay says the call is this close.
SOON_MIN = 2.5
# The band told beside the estimate: at least this many minutes either side, or this share.
BAND_MIN, BAND_SHARE = 5, 0.25
# A break without a declared length is taken to last this long from its start.
USUAL_BREAK_S = 15 * 60
# A visit that has run past its usual time is taken to need this share of it again.
OVERRUN_SHARE = 0.25
# Counter time per call: the mean of the last this many calls of the service today.
PACE_CALLS = 20
# The counter walked to its next call within this long of a visit's end: it was working; a
# longer gap was idle time or a break, and the visit's own time (plus a walk-up) counts.
WORKING_GAP_S, WALK_UP_S = 120, 30


@dataclass(frozen=True)
class Desk:
    """An open counter as the replay sees it."""

    policy: CounterPolicy
    free_at: float  # when it calls next: now, after its current visit, after its break
    priority_streak: int = 0
    until: float | None = None  # calls no more from then (a planned counter's hours)
    # Planned breaks ahead, (start, length) in epoch seconds, in order: taken on coming free
    # after the start, the visit at the desk finished first.
    breaks: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class Hall:
    """What the replay starts from."""

    now: float
    waiting: list[WaitingTicket]  # issued ones too: they wait once printed
    desks: list[Desk]
    minutes_per_call: Mapping[int, float]  # service id -> counter minutes per call
    fairness: Fairness = field(default_factory=Fairness)
    visit_minutes: Mapping[int, float] = field(default_factory=dict)  # ticket id -> its own


@dataclass(frozen=True)
class Forecast:
    """When each waiting visit is called, who is ahead of it, when each desk runs dry."""

    now: float
    call_at: dict[int, float]  # ticket id -> predicted call; absent: no open desk serves it
    ahead: dict[int, int]  # ticket id -> visits predicted to be called before it
    desk_free_at: dict[int, float]  # counter id -> free once the replay's queue is done
    desks: list[CounterPolicy] = field(default_factory=list)  # what each open desk serves
    minutes_per_call: Mapping[int, float] = field(default_factory=dict)
    last_ticket_id: int = 0  # the newest visit it placed: later ones are appended
    # call_at's times in order, made by the first append and carried by the next: a morning's
    # queue re-sorted for each ticket issued was most of an issue's time at a few thousand.
    call_times: list[float] | None = field(default=None, compare=False)

    def appended(self, tickets: list[WaitingTicket]) -> Forecast:
        """Return this forecast with visits issued since placed after everyone it knows.

        A newcomer goes to the desk that may serve it and runs dry first, as the replay would
        place the last in line (a priority newcomer is placed last too until the next full
        replay, at most REPLAY_EVERY_S away). Each costs the number of desks, not a replay of
        the queue: issuing stays cheap however long the queue is.
        """
        call_at, ahead, free = dict(self.call_at), dict(self.ahead), dict(self.desk_free_at)
        times = sorted(call_at.values()) if self.call_times is None else list(self.call_times)
        for ticket in sorted(tickets, key=lambda t: (t.arrived_at, t.id)):
            desks = [p.counter_id for p in self.desks if p.counter_id in free and p.serves(ticket)]
            if not desks:
                continue
            counter_id = min(desks, key=lambda c: (free[c], c))
            call_at[ticket.id] = at = max(self.now, free[counter_id])
            free[counter_id] = at + self.minutes_per_call.get(ticket.service_id, 10.0) * 60
            ahead[ticket.id] = bisect.bisect_right(times, at)
            bisect.insort(times, at)
        newest = max((t.id for t in tickets), default=self.last_ticket_id)
        return replace(self, call_at=call_at, ahead=ahead, desk_free_at=free,
                       last_ticket_id=max(newest, self.last_ticket_id),
                       call_times=times)  # fmt: skip

    def wait_minutes(self, ticket_id: int) -> int | None:
        """Return the point estimate in whole minutes; 0 is "called soon"; None: no desk."""
        call_at = self.call_at.get(ticket_id)
        return None if call_at is None else minutes_until(self.now, call_at)

    def new_visit_minutes(self, service_id: int, category: str = GENERAL) -> int | None:
        """Return the wait of a visit issued now: the first desk that may serve it, once free.

        It arrives last, so it goes after everyone the replay placed; None: no desk serves it.
        """
        visit = WaitingTicket(0, service_id, category, self.now)
        free = [self.desk_free_at[p.counter_id] for p in self.desks
                if p.counter_id in self.desk_free_at and p.serves(visit)]  # fmt: skip
        return minutes_until(self.now, min(free)) if free else None


def minutes_until(now: float, at: float) -> int:
    """Whole minutes from ``now`` to ``at``; under SOON_MIN is 0, "called soon"."""
    minutes = (at - now) / 60
    return 0 if minutes < SOON_MIN else round(minutes)


def band(minutes: int) -> list[int]:
    """Return [low, high] around an estimate: at least BAND_MIN either side, or BAND_SHARE."""
    half = max(BAND_MIN, math.ceil(minutes * BAND_SHARE))
    return [max(0, minutes - half), minutes + half]


def _line_of(ticket: WaitingTicket) -> tuple[object, ...]:
    """Return the line a visit queues in: its service's bookings, or (service, category, target)."""
    if ticket.slot_at is not None:
        return ("booked", ticket.service_id)
    return (ticket.service_id, ticket.category, ticket.target_counter_id)


def replay(hall: Hall) -> Forecast:
    """Call the visits in the order and at the times the hall would, from now.

    Each step the desk that comes free first calls ``choose_next`` over the heads of the lines
    (only a line's head can be next: first come, first served within one), so a step costs the
    number of lines, not the queue's length. A visit arriving later (the planner's simulated
    day) joins its line when it comes; a desk with nobody it may serve waits for the next
    arrival, and one past its ``until`` calls no more.
    """
    coming = sorted(hall.waiting, key=lambda t: (t.arrived_at, t.id))
    lines: dict[tuple[object, ...], list[tuple[float, float, int]]] = {}
    heads: dict[int, tuple[object, ...]] = {}
    by_id = {t.id: t for t in hall.waiting}
    admitted = 0

    def admit(until: float) -> None:
        nonlocal admitted
        while admitted < len(coming) and coming[admitted].arrived_at <= until:
            ticket = coming[admitted]
            admitted += 1
            key = _line_of(ticket)
            line = lines.setdefault(key, [])
            if line:
                heads.pop(line[0][2], None)
            heapq.heappush(line, (ticket.slot_at or 0, ticket.arrived_at, ticket.id))
            heads[line[0][2]] = key

    streaks = [d.priority_streak for d in hall.desks]
    next_break = [0] * len(hall.desks)
    free = [(max(hall.now, d.free_at), n) for n, d in enumerate(hall.desks)]
    heapq.heapify(free)
    call_at: dict[int, float] = {}
    desk_free_at: dict[int, float] = {}
    while free:
        at, n = heapq.heappop(free)
        desk = hall.desks[n]
        if desk.until is not None and at >= desk.until:
            continue  # its hours are over
        pending = desk.breaks[next_break[n]] if next_break[n] < len(desk.breaks) else None
        if pending is not None and at >= pending[0]:
            next_break[n] += 1
            heapq.heappush(free, (at + pending[1], n))
            continue
        admit(at)
        chosen = choose_next((by_id[i] for i in heads), desk.policy, hall.fairness, streaks[n], at)
        if chosen is None:  # nobody it may serve now: wait for whoever comes next, if anyone
            if admitted < len(coming):
                wake = coming[admitted].arrived_at
                heapq.heappush(free, (min(wake, pending[0]) if pending else wake, n))
            else:
                desk_free_at[desk.policy.counter_id] = at
            continue
        call_at[chosen.id] = at
        streaks[n] = streak_after(streaks[n], chosen)
        key = heads.pop(chosen.id)
        line = lines[key]
        heapq.heappop(line)
        if line:
            heads[line[0][2]] = key
        minutes = hall.visit_minutes.get(chosen.id) or hall.minutes_per_call.get(
            chosen.service_id, 10.0
        )
        heapq.heappush(free, (at + minutes * 60, n))
    order = sorted(call_at, key=lambda i: (call_at[i], i))
    ahead = {ticket_id: place for place, ticket_id in enumerate(order)}
    newest = max((t.id for t in hall.waiting), default=0)
    policies = [d.policy for d in hall.desks]
    return Forecast(hall.now, call_at, ahead, desk_free_at, policies, hall.minutes_per_call, newest)


def minutes_per_call(conn: sqlite3.Connection, day: str) -> dict[int, float]:
    """Return each service's counter minutes per call today, else its catalog target.

    A call's counter time runs to the counter's next call (walk-up, recalls and no-shows in
    it: the median service time understated it by about 15 %), unless the counter then stood
    idle or took a break: then to the visit's end, plus a walk-up.
    """
    rows = conn.execute(
        "SELECT service_id, first_called_at AS called, finished_at AS finished,"
        " lead(first_called_at) OVER (PARTITION BY counter_id ORDER BY first_called_at) AS next"
        " FROM tickets WHERE day = ? AND first_called_at IS NOT NULL AND counter_id IS NOT NULL"
        " ORDER BY first_called_at DESC",
        (day,),
    ).fetchall()
    spans: dict[int, list[float]] = {}
    for row in rows:
        called, finished, following = row["called"], row["finished"], row["next"]
        if following is not None and (finished is None or following - finished <= WORKING_GAP_S):
            span = following - called
        elif finished is not None:
            span = finished - called + WALK_UP_S
        else:
            continue  # still at the counter, or a no-show the counter's last call
        taken = spans.setdefault(row["service_id"], [])
        if len(taken) < PACE_CALLS:
            taken.append(span / 60)
    paces = {sid: target for sid, target in conn.execute("SELECT id, target_minutes FROM services")}
    paces.update({sid: sum(taken) / len(taken) for sid, taken in spans.items()})
    return paces


def load_hall(
    conn: sqlite3.Connection, day: str, now: float, fairness: Fairness, timezone: ZoneInfo
) -> Hall:
    """Read the hall as the replay starts from it: who waits, which desks call, how fast."""
    paces = minutes_per_call(conn, day)
    planned = windows_by_counter(break_waves(conn), date.fromisoformat(day), timezone)
    waiting = [
        _waiting(r)
        for r in conn.execute(
            "SELECT id, service_id, category, arrived_at, target_counter_id, slot_at, transfers "
            "FROM tickets WHERE day = ? AND state IN ('issued', 'waiting')",
            (day,),
        )
    ]  # fmt: skip
    weights: dict[int, dict[int, float]] = {}
    for row in conn.execute(
        "SELECT cs.counter_id, cs.service_id, cs.weight FROM counter_services cs "
        "JOIN services s ON s.id = cs.service_id WHERE s.active = 1"
    ):
        weights.setdefault(row[0], {})[row[1]] = row[2]
    desks = []
    counters = conn.execute(
        "SELECT c.id, c.status, c.status_since, c.break_until, c.categories, c.priority_streak, "
        "t.service_id, t.called_at FROM counters c LEFT JOIN tickets t ON t.counter_id = c.id "
        "AND t.state IN ('called', 'serving') ORDER BY c.id"
    ).fetchall()
    staffed = [c for c in counters if c["status"] in ("open", "break")]
    # Before the first clerk signs in (a kiosk issues at opening), as if every counter opens.
    for c in staffed or counters:
        categories = json.loads(c["categories"]) if c["categories"] else None
        policy = CounterPolicy(c["id"], weights.get(c["id"], {}),
                               frozenset(categories) if categories else None)  # fmt: skip
        breaks = _breaks_ahead(c, planned.get(c["id"], ()), now)
        desks.append(Desk(policy, _free_at(c, paces, now), c["priority_streak"], None, breaks))
    return Hall(now, waiting, desks, paces, fairness)


def _breaks_ahead(
    counter: sqlite3.Row, windows: tuple[tuple[float, float], ...], now: float
) -> tuple[tuple[float, float], ...]:
    """Return the planned breaks a desk has still to take.

    Those to come, and one already begun that the clerk has not yet taken: the desk has been
    open since before it started (one on a break now is taking it).
    """
    since = counter["status_since"] or 0.0
    return tuple(
        (start, length)
        for start, length in windows
        if start > now or (now < start + length and counter["status"] == "open" and since < start)
    )


def _free_at(counter: sqlite3.Row, paces: Mapping[int, float], now: float) -> float:
    """When a desk calls next: now, after its current visit, after its break.

    A closed counter is a desk only before anyone opened: it opens now.
    """
    if counter["status"] == "break":
        if counter["break_until"] is not None:  # said at the counter: back then
            return max(now + 60, float(counter["break_until"]))
        return max(now + 60, float(counter["status_since"] or now) + USUAL_BREAK_S)
    if counter["service_id"] is None:
        return now
    visit_s = paces.get(counter["service_id"], 10.0) * 60
    return max(now + OVERRUN_SHARE * visit_s, float(counter["called_at"]) + visit_s)


# The last forecast, by database, day and the hall's state: the phones' pass, the kiosk's
# services and every ticket view between two queue changes share one replay. Estimates move
# with the clock too, so it is redone at least every REPLAY_EVERY_S.
REPLAY_EVERY_S = 15
# The newest event that can change the order (issuing appends, printing changes nothing).
_ORDER_EVENT_SINCE = (
    "SELECT max(id) FROM ticket_events WHERE id > ? "
    "AND action NOT IN ('issue', 'reprint', 'print_printed', 'print_failed')"
)
_ORDER_EVENT = (
    "SELECT id FROM ticket_events "
    "WHERE action NOT IN ('issue', 'reprint', 'print_printed', 'print_failed') "
    "ORDER BY id DESC LIMIT 1"
)


@dataclass(frozen=True)
class _Kept:
    key: tuple[object, ...]
    found: Forecast
    order_event: int  # the newest event that could change the order
    checked_event: int  # the newest event looked at: later ones are all it reads next time


_last: dict[str, _Kept] = {}


def _newest_order_event(conn: sqlite3.Connection, kept: _Kept | None) -> tuple[int, int]:
    """Return the newest event that can change the order, and the newest event of all.

    Only the events since the last look are read (a morning of issuing alone is thousands of
    rows to walk back over); a newest event below the last look means a transaction rolled
    back, so the walk starts again from the end.
    """
    newest = conn.execute("SELECT max(id) FROM ticket_events").fetchone()[0] or 0
    if kept is not None and kept.checked_event <= newest:
        row = conn.execute(_ORDER_EVENT_SINCE, (kept.checked_event,)).fetchone()
        return (row[0] or kept.order_event), newest
    row = conn.execute(_ORDER_EVENT).fetchone()
    return (row[0] if row else 0), newest


def forecast(
    conn: sqlite3.Connection, day: str, now: float, fairness: Fairness, timezone: ZoneInfo
) -> Forecast:
    """Return the replay of ``day``'s hall from ``now``.

    The last one while the order did not change, with the visits issued since appended:
    issuing alone never replays the queue.
    """
    path = conn.execute("PRAGMA database_list").fetchone()[2]
    kept = _last.get(path)
    order_event, newest_event = _newest_order_event(conn, kept)
    state = conn.execute(
        # The counters' states, the newest ticket and the planned breaks: a few rows.
        "SELECT (SELECT group_concat(id || status || coalesce(status_since, '') || "
        "coalesce(break_until, '') || priority_streak) FROM counters), "
        "(SELECT max(id) FROM tickets), (SELECT value FROM settings WHERE key = 'break_waves')"
    ).fetchone()
    key = (day, order_event, state[0], state[2], int(now // REPLAY_EVERY_S))
    # A visit it placed whose transaction then rolled back: its number may come again.
    if kept is None or kept.key != key or kept.found.last_ticket_id > (state[1] or 0):
        found = replay(load_hall(conn, day, now, fairness, timezone))
    else:
        found = kept.found
    # The rowid range alone: an index on the day would walk every open visit of the day.
    newer = [_waiting(r) for r in conn.execute(
        "SELECT id, service_id, category, arrived_at, target_counter_id, slot_at, transfers "
        "FROM tickets WHERE id > ? AND +day = ? AND +state IN ('issued', 'waiting')",
        (found.last_ticket_id, day),
    )]  # fmt: skip
    if newer:
        found = found.appended(newer)
    _last[path] = _Kept(key, found, order_event, newest_event)
    return found


def _waiting(row: sqlite3.Row) -> WaitingTicket:
    """Shape a queued visit as the replay sees it (a transferred booking queues as a walk-in)."""
    slot = row["slot_at"] if row["transfers"] == 0 else None
    return WaitingTicket(row["id"], row["service_id"], row["category"], row["arrived_at"],
                         row["target_counter_id"], slot)  # fmt: skip
