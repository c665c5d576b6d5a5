"""A DOST day simulated through the center's real operations, to measure the wait it tells.

The engine's own operations (``issue_ticket``, ``call_next``, ``start_service``, ``finish``,
``mark_no_show``, ``set_status`` for breaks) run on a real ``Center`` over SQLite on disk with
a simulated clock: the shipped catalog, counters split by skill (one area each, in proportion
to its demand), arrivals peaking 10:00-12:00, service times lognormal around each service's
catalog target, no-shows, priority visitors and two 15-minute breaks a counter in planned waves.
Each walk-in's ``estimated_wait_min`` at issue is set against the wait it then had.

    python -m bench.day_simulator            # every scenario and seed, figures as JSON
"""

from __future__ import annotations

import heapq
import json
import math
import random
import statistics
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from server.office.catalog import (
    default_priority_categories,
    import_catalog,
    import_priority_categories,
)
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue import calls, desk, visits
from server.queue.actors import User
from server.queue.breaks import save_break_wave
from server.queue.center import Center
from server.queue.errors import QueueError
from server.queue.forecast import load_hall, replay
from server.queue.storage import Store, put_setting
from server.queue.views import not_reached_today

BAKU = ZoneInfo("Asia/Baku")
DAY = datetime(2026, 12, 8, tzinfo=BAKU)  # a Tuesday
# name: (visits, counters)
SCENARIOS = {"normal": (430, 12), "heavy": (900, 22), "record": (1646, 26)}
SEEDS = {"normal": (1, 2, 3), "heavy": (1, 2), "record": (1,)}
# Share of the day's arrivals in each hour from 09:00; the last ticket at 17:30.
HOURLY = (0.08, 0.16, 0.16, 0.12, 0.09, 0.11, 0.11, 0.10, 0.07)
# A visit at the desk, all services together: a normal day then waits about 8 minutes on
# average, near the 6.8 the issue's own simulated days measured.
MEAN_SERVICE_MIN = 5.5
SERVICE_SIGMA = 0.45  # lognormal spread of one service's times
WALK_UP_S = (20, 60)  # from the call to the visitor at the desk
NO_SHOW_SHARE, NO_SHOW_AFTER_S = 0.05, 120
PRIORITY_SHARE = 0.08
# Two breaks a counter, in waves a quarter of the counters each, planned as a center plans
# them (server/queue/breaks.py): the wait told counts on them.
BREAKS = ((11, 15), (14, 30))
WAVES, WAVE_STEP_MIN = 4, 15
BREAK_S = 15 * 60
HOURS = {"opens": "09:00", "last_ticket": "17:30", "closes": "18:30", "weekdays": [0, 1, 2, 3, 4]}


@dataclass
class Counter:
    """One simulated desk: its id, skill and clerk, and whether it waits for work."""

    id: int
    area: str
    clerk: User
    idle: bool = False
    breaks: list[float] = field(default_factory=list)


@dataclass
class Day:
    """What one simulated day told and what then happened, per walk-in."""

    told: list[tuple[int, float]] = field(default_factory=list)  # (estimate, actual wait) min
    told_before: list[tuple[int, float]] = field(default_factory=list)  # 0.1's estimate
    band_held: list[bool] = field(default_factory=list)  # the wait fell within the band told
    warned: list[tuple[bool, bool]] = field(default_factory=list)  # (warned, then reached)
    replay_ms: list[float] = field(default_factory=list)


def at(hour: int, minute: int = 0) -> float:
    """Epoch seconds of ``hour:minute`` on the simulated day."""
    return DAY.replace(hour=hour, minute=minute).timestamp()


class SimulatedClock:
    """The center's clock, set by the simulation to each event's time."""

    def __init__(self) -> None:
        self.now = at(9)

    def __call__(self) -> float:
        return self.now


def simulate(scenario: str, seed: int, work: Path) -> Day:
    """Run one day of ``scenario`` with ``seed``; return its estimates and waits."""
    rng = random.Random(seed)
    visits_n, counters_n = SCENARIOS[scenario]
    store = Store(work / f"day-{scenario}-{seed}.db")
    catalog = load_catalog(default_catalog_path())
    with store.write() as conn:
        import_catalog(conn, catalog)
        import_priority_categories(conn, default_priority_categories())
        put_setting(conn, "hours", HOURS)
    demand = {area.letter: rng.uniform(0.5, 2.0) for area in catalog}
    targets = {s.code: s.target_minutes for area in catalog for s in area.services}
    services = {area.letter: [s.code for s in area.services] for area in catalog}
    mean_target = statistics.mean(targets.values())
    clock = SimulatedClock()
    center = Center(store, clock=clock)
    counters = _staff(store, _skills(demand, counters_n), services, rng)
    for counter in counters:
        desk.sign_in(center, counter.id, counter.clerk)
    categories = [c["code"] for c in default_priority_categories()]
    events: list[tuple[float, int, str, Any]] = []
    order = iter(range(10**9))

    def later(when: float, kind: str, what: Any) -> None:
        heapq.heappush(events, (when, next(order), kind, what))

    for when in _arrivals(visits_n, rng):
        area = rng.choices(list(demand), weights=list(demand.values()))[0]
        category = rng.choice(categories) if rng.random() < PRIORITY_SHARE else "general"
        later(when, "arrive", (rng.choice(services[area]), category))
    for counter in counters:
        later(at(9), "free", counter)
    day = Day()
    issued: dict[int, int] = {}
    before: dict[int, int] = {}  # what 0.1's estimate told the same visitor
    warned: dict[int, bool] = {}  # told at the kiosk the day may not reach them
    bands: dict[int, list[int] | None] = {}
    while events:
        clock.now, _, kind, what = heapq.heappop(events)
        if kind == "arrive":
            if scenario == "record" and len(issued) % 10 == 0:
                day.replay_ms.append(_replay_ms(center, clock.now))
            with store.read() as conn:  # what the kiosk would have said before the ticket
                late = what[0] in not_reached_today(center, conn, clock.now)
            ticket, _ = visits.issue_ticket(center, what[0], device=None, category=what[1])
            issued[ticket["id"]] = ticket["estimated_wait_min"]
            warned[ticket["id"]] = late
            bands[ticket["id"]] = ticket["estimated_wait_range_min"]
            before[ticket["id"]] = _estimate_before(center, ticket["id"])
            for counter in counters:
                if counter.idle:
                    counter.idle = False
                    later(clock.now, "free", counter)
        elif kind == "free":
            _free(center, what, clock.now, rng, targets, mean_target, later)
        elif kind == "start":
            desk.start_service(center, what[0].id, what[0].clerk)
            later(clock.now + what[1], "finish", what[0])
        elif kind == "finish":
            desk.finish(center, what.id, what.clerk, [])
            later(clock.now, "free", what)
        elif kind == "no_show":
            desk.mark_no_show(center, what.id, what.clerk)
            later(clock.now, "free", what)
        elif kind == "back":
            desk.set_status(center, what.id, what.clerk, "open")
            later(clock.now, "free", what)
    with store.read() as conn:
        for row in conn.execute("SELECT id, arrived_at, first_called_at FROM tickets"):
            reached = row["first_called_at"] is not None
            day.warned.append((warned[row["id"]], reached))
            if not reached:
                continue
            actual = (row["first_called_at"] - row["arrived_at"]) / 60
            if issued.get(row["id"]) is not None:
                day.told.append((issued[row["id"]], actual))
                low, high = bands[row["id"]] or (0, 0)
                day.band_held.append(low - 0.5 <= actual <= high + 0.5)
            day.told_before.append((before[row["id"]], actual))
    store.close()
    return day


def _free(
    center: Center,
    counter: Counter,
    now: float,
    rng: random.Random,
    targets: dict[str, int],
    mean_target: float,
    later: Callable[[float, str, Any], None],
) -> None:
    """A desk with nobody at it: a break if one is due, else the next call, else idle."""
    if counter.breaks and now >= counter.breaks[0]:
        counter.breaks.pop(0)
        desk.set_status(center, counter.id, counter.clerk, "break", "çay", BREAK_S // 60)
        later(now + BREAK_S, "back", counter)
        return
    if now > at(18, 30):
        return  # closed: nobody is called any more
    try:
        called, _ = calls.call_next(center, counter.id, counter.clerk)
    except QueueError:
        counter.idle = True
        return
    if rng.random() < NO_SHOW_SHARE:
        later(now + NO_SHOW_AFTER_S, "no_show", counter)
        return
    code = called["ticket"]["service"]["code"]
    median = MEAN_SERVICE_MIN * targets[code] / mean_target
    minutes = rng.lognormvariate(math.log(median), SERVICE_SIGMA)
    later(now + rng.uniform(*WALK_UP_S), "start", (counter, minutes * 60))


def _estimate_before(center: Center, ticket_id: int) -> int:
    """What 0.1 told: those of the same service ahead, times the median service time of its
    last 20 visits today (else the catalog target), shared by the open counters serving it."""
    with center.store.read() as conn:
        t = conn.execute("SELECT * FROM tickets WHERE id = ?", (ticket_id,)).fetchone()
        ahead = conn.execute(
            "SELECT count(*) FROM tickets WHERE service_id = ? AND day = ? AND state IN "
            "('issued', 'waiting') AND id < ?", (t["service_id"], t["day"], ticket_id),
        ).fetchone()[0]  # fmt: skip
        times = [r[0] for r in conn.execute(
            "SELECT (finished_at - started_at) / 60.0 FROM tickets WHERE service_id = ? AND "
            "day = ? AND state = 'done' ORDER BY finished_at DESC LIMIT 20",
            (t["service_id"], t["day"]))]  # fmt: skip
        minutes = statistics.median(times) if times else conn.execute(
            "SELECT target_minutes FROM services WHERE id = ?", (t["service_id"],)
        ).fetchone()[0]  # fmt: skip
        counters = conn.execute(
            "SELECT count(*) FROM counters c JOIN counter_services cs ON cs.counter_id = c.id "
            "WHERE cs.service_id = ? AND c.status = 'open'", (t["service_id"],),
        ).fetchone()[0]  # fmt: skip
    return math.ceil(ahead * minutes / max(1, counters)) if ahead else 0


def _replay_ms(center: Center, now: float) -> float:
    """Time one replay of the hall as an issue does it (the cached one is not reused)."""
    with center.store.read() as conn:
        started = time.perf_counter()
        replay(load_hall(conn, center.day(now), now, center.fairness(conn), center.timezone))
        return (time.perf_counter() - started) * 1000


def _arrivals(count: int, rng: random.Random) -> Iterator[float]:
    """Arrival times over the day, ``HOURLY`` shares an hour (the last hour half long)."""
    for _ in range(count):
        hour = rng.choices(range(len(HOURLY)), weights=HOURLY)[0]
        length = 30 if hour == len(HOURLY) - 1 else 60
        yield at(9 + hour) + rng.uniform(0, length * 60)


def _skills(demand: dict[str, float], counters: int) -> list[str]:
    """Give each counter an area, in proportion to its demand (every area at least one)."""
    areas = sorted(demand, key=demand.get, reverse=True)  # type: ignore[arg-type]
    skills = list(areas[:counters])
    total = sum(demand.values())
    while len(skills) < counters:
        skills.append(max(areas, key=lambda a: demand[a] / total - skills.count(a) / counters))
    return skills


def _staff(store: Store, skills: list[str], services: dict[str, list[str]],
           rng: random.Random) -> list[Counter]:  # fmt: skip
    """Create a counter and a clerk per skill; an area without its own counter is served by
    the counter whose area is closest in size (every service has a desk)."""
    from server.office import accounts

    counters = []
    uncovered = [a for a in services if a not in skills]
    with store.write() as conn:
        for n, area in enumerate(skills, start=1):
            extra = uncovered[n - 1 :: len(skills)] if uncovered else []
            weights = {code: 1.0 for a in (area, *extra) for code in services[a]}
            counter_id = accounts.create_counter(conn, f"Masa {n}", weights)
            user_id = conn.execute(
                "INSERT INTO users (username, display_name, password_hash, role, created_at) "
                "VALUES (?, ?, '!', 'clerk', 0) RETURNING id",
                (f"clerk{n}", f"Clerk {n}"),
            ).fetchone()[0]
            offset = (n % WAVES) * WAVE_STEP_MIN
            wave = [at(h, m) + offset * 60 for h, m in BREAKS]
            counters.append(Counter(counter_id, area, User(user_id, f"clerk{n}", f"Clerk {n}",
                                                           "clerk", 0), breaks=wave))  # fmt: skip
        for h, m in BREAKS:
            for group in range(WAVES):
                starts = datetime.fromtimestamp(at(h, m) + group * WAVE_STEP_MIN * 60, BAKU)
                members = [c.id for n, c in enumerate(counters, 1) if n % WAVES == group]
                save_break_wave(conn, None, starts.strftime("%H:%M"), BREAK_S // 60, members)
    return counters


def figures(days: dict[str, list[Day]]) -> dict[str, float]:
    """Say how honest the estimates were, per scenario (all its seeds together)."""
    found: dict[str, float] = {}
    for scenario, runs in days.items():
        _honesty(found, scenario, [pair for day in runs for pair in day.told])
        _honesty(found, f"{scenario}_before", [pair for day in runs for pair in day.told_before])
        found[f"wait_band_held_{scenario}"] = _share(h for day in runs for h in day.band_held)
        warned = [pair for day in runs for pair in day.warned]
        unreached = [w for w, reached in warned if not reached]
        found[f"wait_not_reached_{scenario}"] = len(unreached)
        found[f"wait_not_reached_told_{scenario}"] = _share(unreached) if unreached else 100.0
        found[f"wait_not_today_false_alarm_{scenario}"] = _share(
            w for w, reached in warned if reached
        )
        replays = [ms for day in runs for ms in day.replay_ms]
        if replays:
            found[f"wait_replay_ms_max_{scenario}"] = round(max(replays), 1)
            found[f"wait_replay_ms_p50_{scenario}"] = round(statistics.median(replays), 1)
    return found


def _honesty(found: dict[str, float], scenario: str, told: list[tuple[int, float]]) -> None:
    """Add how far each estimate was from the wait (minutes; a negative bias: told too little)."""
    errors = [actual - estimate for estimate, actual in told]
    soon = [actual for estimate, actual in told if estimate == 0]
    found[f"wait_estimate_within_5min_{scenario}"] = _share(abs(e) <= 5 for e in errors)
    found[f"wait_estimate_within_10min_{scenario}"] = _share(abs(e) <= 10 for e in errors)
    found[f"wait_estimate_p90_abs_error_min_{scenario}"] = round(
        statistics.quantiles([abs(e) for e in errors], n=10)[-1], 1
    )
    found[f"wait_estimate_bias_min_{scenario}"] = round(-statistics.mean(errors), 1)
    found[f"wait_longer_than_told_5min_{scenario}"] = _share(e >= 5 for e in errors)
    found[f"wait_told_soon_waited_over_5min_{scenario}"] = _share(a > 5 for a in soon)
    found[f"wait_mean_min_{scenario}"] = round(statistics.mean(a for _, a in told), 1)


def _share(flags: Iterator[bool] | Any) -> float:
    values = list(flags)
    return round(100 * sum(values) / len(values), 1) if values else 0.0


def run(work: Path) -> dict[str, float]:
    """Simulate every scenario with its seeds; return the figures."""
    folder = work / "days"
    folder.mkdir(parents=True, exist_ok=True)
    days = {s: [simulate(s, seed, folder) for seed in SEEDS[s]] for s in SCENARIOS}
    return figures(days)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory(prefix="dostq-days-") as work:
        print(json.dumps(run(Path(work)), indent=2))
