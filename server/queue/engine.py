"""Queue rules: ticket states and who is called next. Plain data in, decisions out.

A visit moves through one state at a time; every move is timed and logged by the caller::

    issued ──print result──▶ waiting ──call──▶ called ──start──▶ serving ──finish──▶ done
      │                        ▲  ▲              │  ▲ recall         │  │
      └─call (by hand)─────────┘  │              │  └────────────────┘  └─hold──▶ on_hold
                                  │              └─no-show──▶ no_show        resume ┘
                                  └──────── transfer (called/serving/on_hold) ◀──┘
    cancel: issued, waiting, on_hold ──▶ cancelled

"issued" means committed but not yet confirmed printed: such a ticket is never called
automatically, because nobody may be holding it (the kiosk may have died mid-print).

Nothing here touches Flask, SQLite or a device, and nothing reads the clock: ``now`` is an
argument, so the rules can be tested and replayed exactly.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from server.queue.errors import QueueError


class State(StrEnum):
    """Where a visit is now."""

    ISSUED = "issued"
    WAITING = "waiting"
    CALLED = "called"
    SERVING = "serving"
    ON_HOLD = "on_hold"
    DONE = "done"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"
    CLOSED_UNSERVED = "closed_unserved"  # still open when its day was closed


class Action(StrEnum):
    """What can happen to a visit."""

    CONFIRM_PRINT = "confirm_print"
    CALL = "call"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    HOLD = "hold"
    RESUME = "resume"
    TRANSFER = "transfer"
    CANCEL = "cancel"
    CLOSE_DAY = "close_day"


# action -> (states it may start from, state it leads to)
TRANSITIONS: Mapping[Action, tuple[frozenset[State], State]] = {
    Action.CONFIRM_PRINT: (frozenset({State.ISSUED}), State.WAITING),
    Action.CALL: (frozenset({State.ISSUED, State.WAITING}), State.CALLED),
    Action.RECALL: (frozenset({State.CALLED}), State.CALLED),
    Action.START: (frozenset({State.CALLED}), State.SERVING),
    Action.FINISH: (frozenset({State.SERVING}), State.DONE),
    Action.NO_SHOW: (frozenset({State.CALLED}), State.NO_SHOW),
    Action.HOLD: (frozenset({State.SERVING}), State.ON_HOLD),
    Action.RESUME: (frozenset({State.ON_HOLD}), State.SERVING),
    Action.TRANSFER: (frozenset({State.CALLED, State.SERVING, State.ON_HOLD}), State.WAITING),
    Action.CANCEL: (frozenset({State.ISSUED, State.WAITING, State.ON_HOLD}), State.CANCELLED),
    Action.CLOSE_DAY: (
        frozenset({State.ISSUED, State.WAITING, State.CALLED, State.SERVING, State.ON_HOLD}),
        State.CLOSED_UNSERVED,
    ),
}
# What closing a day closes. At the closing time a visitor at a counter is still served; a day
# that is over closes every visit still open, so no counter carries one into the next day.
CLOSED_AT_CLOSING_TIME = (State.ISSUED, State.WAITING, State.CALLED, State.ON_HOLD)
CLOSED_WHEN_DAY_OVER = (*CLOSED_AT_CLOSING_TIME, State.SERVING)

# The category of a visitor with no priority.
GENERAL = "general"


def next_state(current: State, action: Action) -> State:
    """Return the state ``action`` leads to from ``current``, or raise QueueError."""
    allowed_from, to = TRANSITIONS[action]
    if current not in allowed_from:
        raise QueueError(
            "invalid_transition",
            f"Cannot {action.value.replace('_', ' ')} a ticket that is "
            f"{current.value.replace('_', ' ')}.",
        )
    return to


def ticket_label(letter: str, number: int) -> str:
    """Return the printed label of a ticket, e.g. ``A-007``."""
    return f"{letter}-{number:03d}"


def label_key(label: str) -> tuple[str, int] | None:
    """Return a printed label's (letter, number), the key tickets are found by; None if not one.

    A ticket's label has no index of its own: looked up by it, every ticket of the day was
    read (the displays ask for each call's voice), by (day, letter, number) one index probe.
    """
    letter, _, digits = label.partition("-")
    if len(letter) != 1 or not (digits.isascii() and digits.isdigit()):
        return None
    return letter, int(digits)


def parse_label(text: str) -> str | None:
    """Read a label as staff type it (``a7``, ``A 07``, ``A-007``); None if it is not one."""
    cleaned = text.strip().upper().replace("-", "").replace(" ", "")
    letter, digits = cleaned[:1], cleaned[1:]
    if not ("A" <= letter <= "Z" and digits.isascii() and digits.isdigit() and len(digits) <= 4):
        return None
    return ticket_label(letter, int(digits))


@dataclass(frozen=True)
class WaitingTicket:
    """What the call policy needs to know about a waiting visit."""

    id: int
    service_id: int
    category: str  # GENERAL or a priority category code
    arrived_at: float  # first arrival in the center; kept across transfers
    target_counter_id: int | None = None  # set when transferred to one counter
    slot_at: float | None = None  # an appointment's slot start; None for a walk-in

    def waiting_since(self) -> float:
        """When this visit's wait began: its arrival, or its slot if it came early for it."""
        return self.arrived_at if self.slot_at is None else max(self.arrived_at, self.slot_at)


@dataclass(frozen=True)
class CounterPolicy:
    """Which visits a counter serves: services with weights, and visitor categories."""

    counter_id: int
    service_weights: Mapping[int, float]  # service id -> weight > 0
    categories: frozenset[str] | None = None  # None: every category, GENERAL included

    def serves(self, ticket: WaitingTicket) -> bool:
        """Tell whether this counter may call ``ticket`` at all."""
        return (
            ticket.service_id in self.service_weights
            and (self.categories is None or ticket.category in self.categories)
            and ticket.target_counter_id in (None, self.counter_id)
        )


@dataclass(frozen=True)
class Fairness:
    """How priority visitors go first without starving everyone else."""

    # At most this many priority calls in a row at one counter while general visitors wait.
    priority_streak_limit: int = 2
    # A visit waiting at least this long goes before everything else, oldest first.
    overdue_after_s: float = 45 * 60


def choose_next(
    waiting: Iterable[WaitingTicket],
    counter: CounterPolicy,
    fairness: Fairness,
    priority_streak: int,
    now: float,
) -> WaitingTicket | None:
    """Pick the visit ``counter`` should call now, or None if it serves nobody waiting.

    Order:
    1. Overdue visits, longest wait first: a visit is overdue once it has waited
       ``overdue_after_s``. An appointment's wait counts from the later of its arrival and its
       slot's start, so a booking never jumps the walk-ins who waited longest.
    2. Appointments whose slot has started, earliest slot first: ahead of every walk-in the
       counter may call that is not overdue.
    3. Walk-ins: priority visitors, unless the counter has already called
       ``priority_streak_limit`` of them in a row while general visitors wait; within that
       pool, the longest wait times the service's weight. Within one service and category
       this is first-come, first-served by arrival time.
    4. Appointments checked in before their slot, earliest slot first, only when no walk-in
       is waiting for this counter: an idle counter serves them early.
    """
    eligible = [t for t in waiting if counter.serves(t)]
    if not eligible:
        return None
    overdue = [t for t in eligible if now - t.waiting_since() >= fairness.overdue_after_s]
    if overdue:
        return min(overdue, key=lambda t: (t.waiting_since(), t.id))
    booked = [t for t in eligible if t.slot_at is not None]
    due = [t for t in booked if t.slot_at is not None and t.slot_at <= now]
    if due:
        return min(due, key=lambda t: (t.slot_at, t.arrived_at, t.id))
    walk_ins = [t for t in eligible if t.slot_at is None]
    if not walk_ins:
        return min(booked, key=lambda t: (t.slot_at, t.arrived_at, t.id))
    priority = [t for t in walk_ins if t.category != GENERAL]
    general = [t for t in walk_ins if t.category == GENERAL]
    if priority and (not general or priority_streak < fairness.priority_streak_limit):
        pool = priority
    else:
        pool = general

    def weighted_wait(t: WaitingTicket) -> tuple[float, float, int]:
        return ((now - t.arrived_at) * counter.service_weights[t.service_id], -t.arrived_at, -t.id)

    return max(pool, key=weighted_wait)


def streak_after(priority_streak: int, called: WaitingTicket) -> int:
    """Return the counter's run of consecutive priority calls after calling ``called``."""
    return priority_streak + 1 if called.category != GENERAL else 0


@dataclass(frozen=True)
class DayHours:
    """One day's hours: tickets from ``opens`` until ``last_ticket``, closing at ``closes``.

    At the closing time the visits still waiting close as unserved; with no closing time set,
    an hour after the last ticket.
    """

    opens: time
    last_ticket: time
    closes: time | None = None

    def closing_time(self) -> time:
        """Return when the day's visits still open are closed."""
        if self.closes is not None:
            return self.closes
        an_hour_later = datetime.combine(datetime.min, self.last_ticket) + timedelta(hours=1)
        return an_hour_later.time() if an_hour_later.day == datetime.min.day else time(23, 59)

    @classmethod
    def from_setting(cls, value: Mapping[str, object]) -> DayHours:
        """Read {"opens": "09:00", "last_ticket": "17:30", "closes": "18:30"} (closes optional)."""
        closes = value.get("closes")
        return cls(
            time.fromisoformat(str(value["opens"])),
            time.fromisoformat(str(value["last_ticket"])),
            time.fromisoformat(str(closes)) if closes else None,
        )


@dataclass(frozen=True)
class OpeningHours:
    """The center's week (``usual`` hours on ``weekdays``) and its calendar of special days.

    A special day is closed (a public holiday: None) or has hours of its own (a shortened day).
    """

    usual: DayHours
    weekdays: frozenset[int] = frozenset(range(5))  # Monday = 0
    special: Mapping[date, DayHours | None] = field(default_factory=dict)

    @classmethod
    def from_setting(
        cls, value: Mapping[str, object] | None, calendar: Iterable[Mapping[str, object]] = ()
    ) -> OpeningHours | None:
        """Read the stored "hours" and "calendar" settings.

        "hours": {"opens", "last_ticket", "weekdays", "closes"}; "calendar": a list of
        {"day", "closed": true} or {"day", "opens", "last_ticket", "closes"}.
        """
        if not value:
            return None
        weekdays = value.get("weekdays", range(5))
        if not isinstance(weekdays, Iterable):
            raise ValueError(f"weekdays must be a list of day numbers, not {weekdays!r}")
        special = {
            date.fromisoformat(str(entry["day"])): (
                None if entry.get("closed") else DayHours.from_setting(entry)
            )
            for entry in calendar
        }
        return cls(DayHours.from_setting(value), frozenset(int(d) for d in weekdays), special)

    def on(self, day: date) -> DayHours | None:
        """Return the hours of ``day``, or None if the center is closed that day."""
        if day in self.special:
            return self.special[day]
        return self.usual if day.weekday() in self.weekdays else None


# Novruz and a holiday moved off a weekend can close a center for nine days in a row.
LOOK_AHEAD_DAYS = 31


def next_issuing_time(hours: OpeningHours | None, local: datetime) -> datetime | None:
    """Return None if tickets can be issued at ``local`` time, else when issuing starts again."""
    if hours is None:
        return None
    day = local.date()
    today = hours.on(day)
    if today is not None and today.opens <= local.time() < today.last_ticket:
        return None
    if today is not None and local.time() < today.opens:
        return datetime.combine(day, today.opens, local.tzinfo)
    for ahead in range(1, LOOK_AHEAD_DAYS + 1):
        candidate = hours.on(day + timedelta(days=ahead))
        if candidate is not None:
            return datetime.combine(day + timedelta(days=ahead), candidate.opens, local.tzinfo)
    return None  # no open day configured: treat as always open rather than never
