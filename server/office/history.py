"""Realistic past days for a center, for reports to chew on: demos, tests and the benchmark.

A day's visitors arrive between opening and the cut-off with a morning peak, choose services
in proportions like a DOST center's (pensions, disability and social assistance busiest), and
are served first-come at as many desks as a manager would open for that load (up to
MAX_DESKS, so a record day queues), for a time spread around each service's target. Each desk's
visits are credited to one of the center's counters and its clerk. The same seed gives the same
history.
Only visit rows (with their times) and their ratings are written, not every step; days that
already hold visits are left alone, so running it twice doubles nothing.
"""

from __future__ import annotations

import heapq
import math
import random
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.queue.engine import ticket_label
from server.queue.feedback import REASONS
from server.queue.numbers import insert_tickets

# Relative demand per area letter (the others get 1): the busiest desks of a DOST center.
AREA_DEMAND = {"D": 5.0, "C": 4.0, "E": 3.0, "F": 2.5, "A": 2.0, "B": 1.5}
PRIORITY_SHARE = 0.08
NO_SHOW_SHARE = 0.05
TRANSFER_SHARE = 0.03
WALK_IN_SHARE = 0.02
# Lognormal service times around the target (sigma 0.45) average 1.1 times the target.
MEAN_SERVICE_FACTOR = 1.1
WORKING_MINUTES = 510  # 09:00 to 17:30
MAX_DESKS = 45
UTILISATION = 0.7  # a manager opens desks for the peak, not for the day's average
# A third of served visitors rate the visit, mostly 4 or 5 (DOST's surveys: 95-98.7 %
# satisfied); a wait past twice the service's target makes a low rating likelier.
RATED_SHARE = 0.3
RATING_WEIGHTS = (0.01, 0.01, 0.03, 0.15, 0.80)
LONG_WAIT_RATING_WEIGHTS = (0.05, 0.08, 0.17, 0.30, 0.40)
# The wait told at issue against the wait had: the day simulator's normal day (bench/).
TOLD_BIAS_MIN, TOLD_SPREAD_MIN = -0.5, 4.0


@dataclass(frozen=True)
class ServiceChoice:
    """A service a generated visitor can ask for."""

    id: int
    letter: str
    target_minutes: int
    weight: float


def visits_on(rng: random.Random, day: date) -> int:
    """Return how many visit on ``day``: about 430, more on Mondays and early in the month."""
    count = rng.gauss(430, 35)
    if day.weekday() == 0:
        count *= 1.15
    if day.day <= 5:
        count *= 1.2
    if rng.random() < 0.02:  # a record day: a new benefit opened, a deadline
        count = rng.uniform(1200, 1600)
    return int(min(1600, max(400, count)))


def arrival_minute(rng: random.Random) -> float:
    """Return minutes after 09:00 a visitor arrives: a peak near 10:30, then a steady flow."""
    if rng.random() < 0.4:
        minute = rng.gauss(90, 70)
    else:
        minute = rng.uniform(0, 510)
    return min(509.0, max(0.0, minute))


def generate(
    conn: sqlite3.Connection,
    first_day: date,
    days: int,
    timezone: ZoneInfo,
    seed: int = 2026,
    counters: int = 12,
    weekdays: frozenset[int] = frozenset(range(5)),
) -> int:
    """Write the visits of ``days`` open days from ``first_day``; return how many.

    ``weekdays`` are the days the center opens (Monday = 0; Monday to Friday by default).

    Uses the center's counters and clerks if it has some, else creates ``counters`` of each
    (named "History N") so reports have someone to credit.
    """
    rng = random.Random(seed)
    services = [
        ServiceChoice(r["id"], r["letter"], r["target_minutes"], AREA_DEMAND.get(r["letter"], 1.0))
        for r in conn.execute(
            "SELECT s.id, a.letter, s.target_minutes FROM services s "
            "JOIN areas a ON a.id = s.area_id WHERE s.active = 1 ORDER BY s.id"
        )
    ]
    if not services:
        raise ValueError("The catalog has no open service: import one first.")
    staff = _staff(conn, counters)
    categories = [r[0] for r in conn.execute("SELECT code FROM priority_categories")] or [
        "disability"
    ]
    written = 0
    day = first_day
    for _ in range(days):
        while day.weekday() not in weekdays:
            day += timedelta(days=1)
        if not conn.execute(
            "SELECT 1 FROM tickets WHERE day = ? LIMIT 1", (day.isoformat(),)
        ).fetchone():
            written += _day(conn, rng, day, timezone, services, staff, categories)
        day += timedelta(days=1)
    return written


def _staff(conn: sqlite3.Connection, wanted: int) -> list[tuple[int, int]]:
    """Return (counter id, clerk id) pairs to credit generated visits to, clerks taking turns."""
    counters = [r[0] for r in conn.execute("SELECT id FROM counters ORDER BY id")]
    clerks = [r[0] for r in conn.execute("SELECT id FROM users WHERE role = 'clerk' ORDER BY id")]
    if counters and clerks:
        return [(counter, clerks[n % len(clerks)]) for n, counter in enumerate(counters)]
    pairs = []
    for n in range(1, wanted + 1):
        clerk = conn.execute(
            "INSERT INTO users (username, display_name, password_hash, role, active, created_at) "
            "VALUES (?, ?, '!', 'clerk', 0, 0)",  # '!' matches no password: nobody signs in
            (f"history{n}", f"History clerk {n}"),
        ).lastrowid
        counter = conn.execute(
            "INSERT INTO counters (name) VALUES (?)", (f"History {n}",)
        ).lastrowid
        conn.execute(
            "INSERT INTO counter_services (counter_id, service_id) SELECT ?, id FROM services",
            (counter,),
        )
        pairs.append((int(counter or 0), int(clerk or 0)))
    return pairs


def working_days_before(day: date, count: int) -> date:
    """Return the first of the ``count`` working days (Monday to Friday) just before ``day``."""
    first = day
    while count:
        first -= timedelta(days=1)
        count -= first.weekday() < 5
    return first


def _day(
    conn: sqlite3.Connection,
    rng: random.Random,
    day: date,
    timezone: ZoneInfo,
    services: list[ServiceChoice],
    staff: list[tuple[int, int]],
    categories: list[str],
) -> int:
    opening = datetime.combine(day, time(9, 0), timezone).timestamp()
    count = visits_on(rng, day)
    arrivals = sorted(opening + 60 * arrival_minute(rng) for _ in range(count))
    chosen = rng.choices(services, weights=[s.weight for s in services], k=count)
    mean_minutes = sum(s.target_minutes for s in chosen) / count * MEAN_SERVICE_FACTOR
    desks = min(MAX_DESKS, math.ceil(count * mean_minutes / (WORKING_MINUTES * UTILISATION)))
    # Every desk is free at opening; each visitor goes to the desk free soonest.
    free_at = [(opening, index) for index in range(desks)]
    heapq.heapify(free_at)
    numbers: dict[str, int] = {}
    # The wait each visitor was told at issue, off the wait had by a few minutes: drawn from a
    # generator of its own, so the day's other figures stay those of the same seed as before.
    told_rng = random.Random(day.toordinal())
    rows: list[dict[str, Any]] = []
    ratings: list[tuple[str, int, str]] = []  # (token, rating, reasons) of the rated visits
    for arrived, service in zip(arrivals, chosen, strict=True):
        numbers[service.letter] = numbers.get(service.letter, 0) + 1
        number = numbers[service.letter]
        walk_in = rng.random() < WALK_IN_SHARE
        free, index = heapq.heappop(free_at)
        counter_id, clerk_id = staff[index % len(staff)]
        called = arrived if walk_in else max(arrived, free) + rng.uniform(5, 40)
        if not walk_in and rng.random() < NO_SHOW_SHARE:
            state, started, finished = "no_show", None, called + 120
            heapq.heappush(free_at, (finished, index))
        else:
            state = "done"
            started = called + rng.uniform(20, 90)
            minutes = rng.lognormvariate(0, 0.45) * service.target_minutes
            finished = started + 60 * min(minutes, 4 * service.target_minutes)
            heapq.heappush(free_at, (finished, index))
        # A ticket's token opens its phone page: never from the seeded generator that makes
        # the figures repeatable, whose tokens anyone with the seed could list.
        token = f"h{secrets.token_hex(12)}"
        if state == "done" and rng.random() < RATED_SHARE:
            ratings.append((token, *_rating(rng, called - arrived > 120 * service.target_minutes)))
        rows.append(
            {
                "token": token,
                "day": day.isoformat(),
                "letter": service.letter,
                "number": number,
                "label": ticket_label(service.letter, number),
                "service_id": service.id,
                "category": rng.choice(categories) if rng.random() < PRIORITY_SHARE else "general",
                "state": state,
                "print_status": "none" if walk_in else "printed",
                "arrived_at": arrived,
                "queued_at": arrived,
                "called_at": called,
                "first_called_at": called,
                "started_at": started,
                "finished_at": finished,
                "counter_id": counter_id,
                "clerk_user_id": clerk_id,
                "outcome": "done" if state == "done" else None,
                "walk_in": int(walk_in),
                "transfers": int(rng.random() < TRANSFER_SHARE),
                "told_wait_min": None if walk_in else _told(told_rng, (called - arrived) / 60),
            }
        )
    insert_tickets(conn, rows)
    conn.executemany(
        "INSERT INTO day_sequences (day, letter, last) VALUES (?, ?, ?)",
        [(day.isoformat(), letter, last) for letter, last in numbers.items()],
    )
    conn.executemany(
        "INSERT INTO feedback (ticket_id, day, rating, reasons, given_at, changed_at) "
        "SELECT id, day, ?, ?, finished_at + 60, finished_at + 60 FROM tickets WHERE token = ?",
        [(rating, reasons, token) for token, rating, reasons in ratings],
    )
    return len(rows)


def _told(rng: random.Random, waited_min: float) -> int:
    """Return a wait told at issue for a visitor who then waited ``waited_min``."""
    return max(0, round(waited_min + rng.gauss(TOLD_BIAS_MIN, TOLD_SPREAD_MIN)))


def _rating(rng: random.Random, waited_long: bool) -> tuple[int, str]:
    """Return a generated rating and its reasons (a low one names why, a high one may)."""
    weights = LONG_WAIT_RATING_WEIGHTS if waited_long else RATING_WEIGHTS
    rating = rng.choices(range(1, 6), weights=weights)[0]
    if rating <= 3:
        reason = "waiting_time" if waited_long else rng.choice(REASONS)
    elif rng.random() < 0.3:
        reason = rng.choice(("politeness", "competence"))
    else:
        reason = ""
    return rating, reason
