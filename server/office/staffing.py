"""The staffing planner's page, composed over server/office/planner.py.

The plan of a day with its advice, a what-if and, for a day that happened, the forecast
beside it.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from server.office.planner import (
    DEFAULT_HOURS,
    DayForecast,
    HourFigures,
    PlannedCounter,
    advise,
    current_plan,
    erlang_c_counters,
    forecast_day,
    simulate,
)
from server.office.reports import service_level
from server.queue.breaks import BreakWave, break_waves, day_offsets_by_counter
from server.queue.center import Center
from server.queue.engine import CounterPolicy


@dataclass(frozen=True)
class WhatIf:
    """A change tried on the plan.

    ``counters`` more from ``hours[0]`` to ``hours[1]``, serving ``area``'s services (every
    service when None); fewer when negative (the last planned counters serving that area are
    away those hours); ``pooled``: every counter serves every service; ``any_category``: no
    counter is kept for some visitor categories (a priority-only desk serves everyone);
    ``widened``: (counter id, area letter), that counter serves the area too; ``wave_moved``:
    (position, "HH:MM"), that break wave starts then.
    """

    counters: int = 0
    area: str | None = None
    hours: tuple[int, int] = (0, 24)
    pooled: bool = False
    any_category: bool = False
    widened: tuple[int, str] | None = None
    wave_moved: tuple[int, str] | None = None

    def applied(
        self, plan: list[PlannedCounter], letters: dict[int, str], waves: list[BreakWave]
    ) -> list[PlannedCounter]:
        """Return ``plan`` with this change made."""
        every = dict.fromkeys(letters, 1.0)
        breaks = day_offsets_by_counter(self._waves(waves))

        def serves(counter: PlannedCounter) -> dict[int, float]:
            if self.pooled:
                return every
            if self.widened and self.widened[0] == counter.policy.counter_id:
                more = {sid: 1.0 for sid, letter in letters.items() if letter == self.widened[1]}
                return {**more, **counter.policy.service_weights}
            return dict(counter.policy.service_weights)

        changed = [
            replace(c, policy=replace(
                c.policy,
                service_weights=serves(c),
                categories=None if self.any_category else c.policy.categories,
            ), breaks=breaks.get(c.policy.counter_id, ()))
            for c in plan
        ]  # fmt: skip
        skill = {sid: 1.0 for sid, letter in letters.items() if self.area in (None, letter)}
        if self.counters < 0:
            return self._without(changed, skill)
        extra = [PlannedCounter(f"what-if {n}", CounterPolicy(0, skill), self.hours)
                 for n in range(self.counters)]  # fmt: skip
        return [*changed, *extra]

    def _without(self, plan: list[PlannedCounter], skill: dict[int, float]) -> list[PlannedCounter]:
        """Return ``plan`` with its last counters serving ``skill``'s services away those hours.

        Away as on a break that long: one busy when it starts finishes its visit first.
        """
        away = (self.hours[0] * 3600.0, (self.hours[1] - self.hours[0]) * 3600.0)
        serving = [n for n, c in enumerate(plan) if set(c.policy.service_weights) & set(skill)]
        gone = set(serving[len(serving) + self.counters :]) if serving else set()
        return [replace(c, breaks=tuple(sorted((*c.breaks, away)))) if n in gone else c
                for n, c in enumerate(plan)]  # fmt: skip

    def _waves(self, waves: list[BreakWave]) -> list[BreakWave]:
        if self.wave_moved is None or not 0 <= self.wave_moved[0] < len(waves):
            return waves
        position, starts = self.wave_moved
        moved = replace(waves[position], starts=time.fromisoformat(starts))
        return [moved if n == position else w for n, w in enumerate(waves)]


def day_plan(
    center: Center, conn: sqlite3.Connection, day: date, what_if: WhatIf | None = None
) -> dict[str, Any]:
    """Return the planner's page for ``day``.

    The forecast, the day with today's counters, the advice, the what-if, and a pooled hall's
    Erlang C beside each hour.
    """
    level = service_level(conn)
    hours = opening_hours_of(center, conn, day)
    forecast = forecast_day(conn, day, center.timezone)
    plan = current_plan(conn, hours)
    fairness = center.fairness(conn)
    goal = float(level.target_minutes)
    planned = simulate(forecast, plan, hours, center.timezone, goal, fairness)
    advised_plan, advised = advise(forecast, plan, hours, center.timezone, goal,
                                   level.goal_percent, fairness)  # fmt: skip
    letters = dict(
        conn.execute("SELECT s.id, a.letter FROM services s JOIN areas a ON a.id = s.area_id")
    )
    tried = None
    waves = break_waves(conn)
    if what_if is not None:
        tried_plan = what_if.applied(plan, letters, waves)
        tried = simulate(forecast, tried_plan, hours, center.timezone, goal, fairness)
    mean_minutes = _mean_minutes(forecast)
    came = _arrivals_on(conn, day, center.timezone)  # a past day: the forecast beside it
    rows = []
    for n, hour in enumerate(range(*hours)):
        added = [c for c in advised_plan[len(plan) :] if c.hours[0] <= hour < c.hours[1]]
        skills = Counter(_skill_letters(c.policy, letters) for c in added)
        rows.append({
            "plan": planned[n],
            "advice": advised[n],
            "what_if": tried[n] if tried else None,
            "added": sorted(skills.items()),
            "came": came.get(hour, 0) if came else None,
            "erlang_c": erlang_c_counters(planned[n].arrivals, mean_minutes, goal,
                                          level.goal_percent) if planned[n].arrivals else 0,
        })  # fmt: skip
    error = _forecast_error(planned, came) if came else None
    return {"day": day, "hours": hours, "forecast": forecast, "rows": rows, "error": error,
            "goal_min": level.target_minutes, "goal_percent": level.goal_percent,
            "areas": sorted(set(letters.values())), "what_if": what_if,
            "counters": [(c.policy.counter_id, c.name) for c in plan],
            "waves": waves}  # fmt: skip


def _arrivals_on(conn: sqlite3.Connection, day: date, timezone: ZoneInfo) -> Counter[int]:
    """Return the visitors who came on ``day`` by hour (none yet: an empty count)."""
    return Counter(
        datetime.fromtimestamp(at, timezone).hour
        for (at,) in conn.execute(
            "SELECT arrived_at FROM tickets WHERE day = ? AND walk_in = 0", (day.isoformat(),)
        )
    )


def opening_hours_of(center: Center, conn: sqlite3.Connection, day: date) -> tuple[int, int]:
    """Return ``day``'s first and last hour, [first, last), from the center's hours."""
    hours = center.opening_hours(conn)
    today = hours.on(day) if hours else None
    if today is None:
        return DEFAULT_HOURS
    closes = today.closing_time()
    return today.opens.hour, closes.hour + (1 if closes.minute else 0)


def _mean_minutes(forecast: DayForecast) -> float:
    """Return the counter minutes per call over the day's expected visitors (a pooled hall's)."""
    total = sum(forecast.arrivals.values())
    if not total:
        return 10.0
    return sum(m * forecast.minutes_per_call.get(sid, 10.0)
               for (_, sid), m in forecast.arrivals.items()) / total  # fmt: skip


def _skill_letters(policy: CounterPolicy, letters: dict[int, str]) -> str:
    """Say a counter's skill as the areas it serves: "D", "B C", or "*" for every area."""
    served = sorted({letters[sid] for sid in policy.service_weights if sid in letters})
    return "*" if len(served) == len(set(letters.values())) else " ".join(served)


def _forecast_error(planned: list[HourFigures], came: Counter[int]) -> dict[str, float]:
    """Say how far the forecast was from a day that happened: over the day, and per hour."""
    expected, total = sum(f.arrivals for f in planned), sum(came.values())
    hourly = statistics.fmean(abs(f.arrivals - came.get(f.hour, 0)) for f in planned)
    return {"day_percent": round(100 * (expected - total) / total, 1),
            "hourly_mean_abs": round(hourly, 1)}  # fmt: skip
