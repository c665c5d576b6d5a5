"""The planner's advice for the next open day, shown on the floor once the last ticket is out.

At closing time a manager decides tomorrow's counters; the floor says how many each hour the
simulated day needs (server/office/planner.py) and links to the planner for the what-ifs.
The inputs are read in one short snapshot and the simulation runs outside it, on the store's
disk thread under gevent, so calls and sockets keep moving while it runs; the answer is kept
for the day it is about (the history behind it does not change after closing).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from server.office.planner import advise, current_plan, forecast_day
from server.office.reports import service_level
from server.office.staffing import opening_hours_of
from server.queue.center import Center

# With no opening hours set, the day is taken as over from then.
USUAL_LAST_TICKET = time(17, 30)
LOOK_AHEAD_DAYS = 14  # the next open day is found within this many (a long holiday)

_kept: dict[tuple[str, str], dict[str, Any] | None] = {}


def next_day_advice(center: Center, now: float) -> dict[str, Any] | None:
    """Return the advice for the next open day once today's last ticket is out, else None.

    None too when there is no history of that weekday to forecast from.
    """
    local = datetime.fromtimestamp(now, center.timezone)
    with center.store.read() as conn:
        hours = center.opening_hours(conn)
        today = hours.on(local.date()) if hours else None
        if hours is None and local.time() < USUAL_LAST_TICKET:
            return None
        if today is not None and local.time() < today.last_ticket:
            return None  # a day the center does not open (a holiday) is over all day
        day = _next_open_day(local.date(), hours.on if hours else None)
        if day is None:
            return None
        key = (str(center.store.path), day.isoformat())
        if key in _kept:
            return _kept[key]
        forecast = forecast_day(conn, day, center.timezone)
        span = opening_hours_of(center, conn, day)
        plan = current_plan(conn, span)
        level = service_level(conn)
        fairness = center.fairness(conn)
    if not forecast.days_used:
        return None  # not kept: a day's history may come (a restore, the demo's)

    def simulated() -> Any:
        return advise(forecast, plan, span, center.timezone, float(level.target_minutes),
                      level.goal_percent, fairness)  # fmt: skip

    advised_plan, figures = center.store.blocking(simulated)
    counters = [{"hour": f.hour, "counters": f.counters} for f in figures]
    peak = max(counters, key=lambda c: c["counters"])
    _kept[key] = advice = {
        "day": day.isoformat(),
        "visitors": round(sum(forecast.arrivals.values())),
        "counters_now": len(plan),
        "hours": counters,
        "peak": peak,
        "goal_percent": level.goal_percent,
        "goal_min": level.target_minutes,
        "added": len(advised_plan) - len(plan),
    }
    return advice


def _next_open_day(today: date, hours_on: Callable[[date], Any] | None) -> date | None:
    """Return the first day after ``today`` the center opens (any day, with no hours set)."""
    for ahead in range(1, LOOK_AHEAD_DAYS + 1):
        day = today + timedelta(days=ahead)
        if hours_on is None or hours_on(day) is not None:
            return day
    return None
