"""A staffing planner: how many counters of which skills each hour, before the day starts.

A day's visitors are forecast from the center's own history, the day is simulated through the
call policy with the counters planned, and the counters each hour needs are found. Stationary
Erlang C is right for one pooled hall and optimistic for counters split by skill, with breaks
and a morning peak; the accepted remedy (Feldman, Mandelbaum, Massey & Whitt,
Management Science 2008) is to simulate the day, adjust the counters hour by hour and simulate
again, which ``advise`` does. The simulation is the wait estimate's own replay
(server/queue/forecast.py) fed the whole day's arrivals: the same ``choose_next``, the same
lines, each counter open for its hours.
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.queue.breaks import break_waves, day_offsets_by_counter
from server.queue.engine import GENERAL, CounterPolicy, Fairness, WaitingTicket
from server.queue.forecast import Desk, Hall, replay

WEEKS = 6  # the same weekday over this many weeks makes the forecast
SEEDS = 4  # simulated days averaged for each figure
SERVICE_SIGMA = 0.45  # lognormal spread of one service's counter time
WALK_UP_MIN = 0.5  # from a call to the visitor at the desk, beyond the service itself
MAX_ROUNDS = 16  # counters added one at a time, at most this many
DEFAULT_HOURS = (9, 18)  # a day's first and last hour when the center has no hours set


@dataclass(frozen=True)
class DayForecast:
    """The visitors expected on ``day``: per hour and service, and their counter time."""

    day: date
    days_used: tuple[str, ...]  # the past days it is the mean of
    arrivals: dict[tuple[int, int], float]  # (hour, service id) -> expected visitors
    minutes_per_call: dict[int, float]  # service id -> counter minutes per call


@dataclass(frozen=True)
class PlannedCounter:
    """A counter as planned: what it serves and the hours it is open, [first, last)."""

    name: str
    policy: CounterPolicy
    hours: tuple[int, int]
    breaks: tuple[tuple[float, float], ...] = ()  # (seconds after midnight, length), in order


@dataclass(frozen=True)
class HourFigures:
    """What the simulated day gives for visitors arriving in one hour."""

    hour: int
    arrivals: float
    counters: int
    mean_wait_min: float | None
    p90_wait_min: float | None
    within_goal_percent: float | None
    not_reached: float
    late: dict[int, float]  # service id -> its visitors past the goal (or not reached)


def forecast_day(
    conn: sqlite3.Connection, day: date, timezone: ZoneInfo, weeks: int = WEEKS
) -> DayForecast:
    """Forecast ``day`` as the mean of the same weekday over the last ``weeks`` weeks.

    Days with no visit (holidays, closed days) are left out, not counted as empty.
    """
    rows = conn.execute(
        "SELECT day, service_id, arrived_at, first_called_at, finished_at, state FROM tickets "
        "WHERE day >= ? AND day < ? AND strftime('%w', day) = ? AND walk_in = 0",
        ((day - timedelta(weeks=weeks)).isoformat(), day.isoformat(), day.strftime("%w")),
    ).fetchall()
    used = sorted({r["day"] for r in rows})
    arrivals: Counter[tuple[int, int]] = Counter()
    spans: dict[int, list[float]] = {}
    for r in rows:
        arrivals[(datetime.fromtimestamp(r["arrived_at"], timezone).hour, r["service_id"])] += 1
        if r["state"] == "done" and r["first_called_at"] and r["finished_at"]:
            span = (r["finished_at"] - r["first_called_at"]) / 60 + WALK_UP_MIN
            spans.setdefault(r["service_id"], []).append(span)
    paces = {sid: float(m) for sid, m in conn.execute("SELECT id, target_minutes FROM services")}
    paces.update({sid: statistics.fmean(values) for sid, values in spans.items()})
    mean = {key: count / len(used) for key, count in arrivals.items()} if used else {}
    return DayForecast(day, tuple(used), mean, paces)


def current_plan(conn: sqlite3.Connection, hours: tuple[int, int]) -> list[PlannedCounter]:
    """Return the center's counters as they stand, each open all day, with its break waves."""
    weights: dict[int, dict[int, float]] = {}
    for counter_id, service_id, weight in conn.execute(
        "SELECT cs.counter_id, cs.service_id, cs.weight FROM counter_services cs "
        "JOIN services s ON s.id = cs.service_id WHERE s.active = 1"
    ):
        weights.setdefault(counter_id, {})[service_id] = weight
    plan = []
    breaks = day_offsets_by_counter(break_waves(conn))
    for row in conn.execute("SELECT id, name, categories FROM counters ORDER BY id"):
        categories = json.loads(row["categories"]) if row["categories"] else None
        policy = CounterPolicy(row["id"], weights.get(row["id"], {}),
                               frozenset(categories) if categories else None)  # fmt: skip
        plan.append(PlannedCounter(row["name"], policy, hours, breaks.get(row["id"], ())))
    return plan


def simulate(
    forecast: DayForecast,
    plan: list[PlannedCounter],
    hours: tuple[int, int],
    timezone: ZoneInfo,
    goal_min: float,
    fairness: Fairness | None = None,
    seeds: int = SEEDS,
) -> list[HourFigures]:
    """Simulate the forecast day ``seeds`` times with ``plan``; return each hour's figures.

    Arrivals are Poisson around the forecast, each hour's spread evenly at random; each visit
    takes a lognormal time around its service's counter time. Visitors still waiting at the
    last hour's end are "not reached".
    """
    start = datetime.combine(forecast.day, datetime.min.time(), timezone).timestamp()
    closes = start + hours[1] * 3600
    waits: dict[int, list[float]] = {}
    unreached: Counter[int] = Counter()
    late: dict[int, Counter[int]] = {}
    for seed in range(seeds):
        rng = random.Random(seed)
        tickets: list[WaitingTicket] = []
        minutes: dict[int, float] = {}
        for (hour, service_id), mean in sorted(forecast.arrivals.items()):
            if not hours[0] <= hour < hours[1]:
                continue
            for _ in range(_poisson(rng, mean)):
                ticket = WaitingTicket(len(tickets) + 1, service_id, GENERAL,
                                       start + (hour + rng.random()) * 3600)  # fmt: skip
                tickets.append(ticket)
                median = forecast.minutes_per_call.get(service_id, 10.0)
                median /= math.exp(SERVICE_SIGMA**2 / 2)  # the mean stays the counter time
                minutes[ticket.id] = rng.lognormvariate(math.log(median), SERVICE_SIGMA)
        desks = [
            Desk(
                replace(c.policy, counter_id=n),
                start + c.hours[0] * 3600,
                0,
                start + c.hours[1] * 3600,
                tuple((start + offset, length) for offset, length in c.breaks),
            )  # fmt: skip
            for n, c in enumerate(plan, start=1)
        ]
        hall = Hall(start + hours[0] * 3600, tickets, desks, forecast.minutes_per_call,
                    fairness or Fairness(), minutes)  # fmt: skip
        called = replay(hall).call_at
        for ticket in tickets:
            hour = int((ticket.arrived_at - start) // 3600)
            call = called.get(ticket.id)
            wait = None if call is None or call >= closes else (call - ticket.arrived_at) / 60
            if wait is None:
                unreached[hour] += 1
            else:
                waits.setdefault(hour, []).append(wait)
            if wait is None or wait > goal_min:
                late.setdefault(hour, Counter())[ticket.service_id] += 1
    return [_hour(h, forecast, plan, waits.get(h, []), unreached[h] / seeds, goal_min, seeds,
                  {sid: n / seeds for sid, n in late.get(h, Counter()).items()})
            for h in range(*hours)]  # fmt: skip


def _hour(
    hour: int,
    forecast: DayForecast,
    plan: list[PlannedCounter],
    waits: list[float],
    not_reached: float,
    goal_min: float,
    seeds: int,
    late: dict[int, float],
) -> HourFigures:
    arrivals = sum(m for (h, _), m in forecast.arrivals.items() if h == hour)
    counters = sum(c.hours[0] <= hour < c.hours[1] for c in plan)
    every = len(waits) + round(not_reached * seeds)
    within = sum(w <= goal_min for w in waits)
    return HourFigures(
        hour,
        round(arrivals, 1),
        counters,
        round(statistics.fmean(waits), 1) if waits else None,
        round(statistics.quantiles(waits, n=10)[-1], 1) if len(waits) > 1 else None,
        round(100 * within / every, 1) if every else None,
        round(not_reached, 1),
        late,
    )


def advise(
    forecast: DayForecast,
    plan: list[PlannedCounter],
    hours: tuple[int, int],
    timezone: ZoneInfo,
    goal_min: float,
    goal_percent: float,
    fairness: Fairness | None = None,
) -> tuple[list[PlannedCounter], list[HourFigures]]:
    """Add counters hour by hour until every hour meets the goal; return the plan and its day.

    Services visitors will ask for that no planned counter serves get a counter of their own
    first. Then each round simulates the day and opens, for every hour short of the goal, one
    more counter for that hour with the skill of the counter most loaded then (an hour's waits
    also come from the hour before, so all short hours move together and the next round sees
    the result). At most MAX_ROUNDS rounds.
    """
    served = {sid for c in plan for sid in c.policy.service_weights}
    uncovered = {sid: 1.0 for (_, sid) in forecast.arrivals if sid not in served}
    if uncovered:
        plan = [*plan, PlannedCounter("+uncovered", CounterPolicy(0, uncovered), hours)]
    figures = simulate(forecast, plan, hours, timezone, goal_min, fairness)
    for _ in range(MAX_ROUNDS):
        short = [
            f
            for f in figures
            if f.within_goal_percent is not None and f.within_goal_percent < goal_percent
        ]
        if not short:
            break
        plan = [*plan, *(PlannedCounter(f"+{f.hour}:{len(plan) + n}",
                                        _most_needed(plan, f.late), (f.hour, f.hour + 1))
                         for n, f in enumerate(short))]  # fmt: skip
        figures = simulate(forecast, plan, hours, timezone, goal_min, fairness)
    return plan, figures


def _most_needed(plan: list[PlannedCounter], late: dict[int, float]) -> CounterPolicy:
    """Return the skill one more counter should have.

    That of the planned counter whose services had the most late visitors in the hour, per
    counter already of that skill.
    """

    def need(counter: PlannedCounter) -> float:
        skill = counter.policy.service_weights
        same = sum(c.policy.service_weights == skill for c in plan)
        return sum(late.get(sid, 0.0) for sid in skill) / same

    return max(plan, key=need).policy


def erlang_c_counters(arrivals_per_hour: float, minutes: float, goal_min: float,
                      goal_percent: float) -> int:  # fmt: skip
    """Return the counters a pooled hall needs for ``goal_percent`` called within ``goal_min``.

    Erlang C, stationary arrivals: the reference a skill-split hall is optimistic against.
    """
    load = arrivals_per_hour * minutes / 60
    counters = max(1, math.ceil(load))
    while True:
        if counters > load:
            waits = _erlang_c(counters, load)
            served = 1 - waits * math.exp(-(counters - load) * goal_min / minutes)
            if 100 * served >= goal_percent:
                return counters
        counters += 1


def _erlang_c(counters: int, load: float) -> float:
    """Return the probability that a visitor waits at all (Erlang C)."""
    term, total = 1.0, 1.0
    for k in range(1, counters):
        term *= load / k
        total += term
    last = term * load / counters * counters / (counters - load)
    return last / (total + last)


def _poisson(rng: random.Random, mean: float) -> int:
    """Draw a Poisson count (Knuth's method; a normal draw past 30)."""
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
