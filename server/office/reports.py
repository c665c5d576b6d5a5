"""What a manager reads about a day or a range of days: every figure a query over visit times.

A visit's wait is from arrival to its first call (a transfer keeps the first arrival, and a
visitor who walked up to the desk without a ticket never waited, so walk-ins count as visits but
not in waits). Its service time is from the start of its last service to its finish, credited to
the counter and clerk who finished it. Medians are the middle value (the mean of the two middle
ones for an even count); the 90th percentile is the nearest rank, a time some visit really had.
"""

from __future__ import annotations

import math
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from server.queue.errors import Invalid
from server.queue.feedback import REASONS, SATISFIED
from server.queue.storage import get_setting
from server.queue.visits import VISITOR_LEFT

# A year is the longest range a report covers in one go (the raw-visits export too).
MAX_RANGE_DAYS = 366

# Raw visits as exported: one row per visit, times in the center's local time.
VISIT_COLUMNS = (
    "day",
    "ticket",
    "area",
    "service",
    "service_name",
    "category",
    "walk_in",
    "state",
    "outcome",
    "delivered",
    "print_status",
    "arrived",
    "first_called",
    "started",
    "finished",
    "wait_s",
    "service_s",
    "recalls",
    "transfers",
    "counter",
    "clerk",
    "rating",
    "rating_reasons",
    "rating_comment",
)


@dataclass(frozen=True)
class ServiceLevel:
    """The promise a center measures itself by: ``goal_percent`` seen within ``target_minutes``."""

    target_minutes: int = 20
    goal_percent: int = 80

    @classmethod
    def from_setting(cls, stored: dict[str, Any]) -> ServiceLevel:
        """Build it from the stored ``service_level`` setting, defaults filling the gaps."""
        default = cls()
        return cls(
            int(stored.get("target_minutes", default.target_minutes)),
            int(stored.get("goal_percent", default.goal_percent)),
        )


def service_level(conn: sqlite3.Connection) -> ServiceLevel:
    """Return the service level as configured now."""
    return ServiceLevel.from_setting(get_setting(conn, "service_level", {}))


def parse_range(first: str | None, last: str | None, today: str) -> tuple[str, str]:
    """Check a day range from a query string; missing ends default to ``today``."""
    try:
        first_day = date.fromisoformat(first or today)
        last_day = date.fromisoformat(last or first or today)
    except ValueError as exc:
        raise Invalid("bad_date", "Days are written YYYY-MM-DD.", "from") from exc
    if last_day < first_day:
        raise Invalid("bad_range", "The range ends before it starts.", "to")
    if (last_day - first_day).days + 1 > MAX_RANGE_DAYS:
        raise Invalid("range_too_long", f"Ask for at most {MAX_RANGE_DAYS} days.", "to")
    return first_day.isoformat(), last_day.isoformat()


def visits(conn: sqlite3.Connection, first_day: str, last_day: str) -> Iterator[sqlite3.Row]:
    """Yield every visit of the range, in the order they arrived."""
    yield from conn.execute(
        "SELECT t.id, t.day, t.label, a.letter, a.code AS area_code, a.name_az AS area_name, "
        "a.name_ru AS area_name_ru, a.name_en AS area_name_en, "
        "s.code AS service, s.name_az AS service_name, s.name_ru AS service_name_ru, "
        "s.name_en AS service_name_en, t.category, t.walk_in, t.state, "
        "t.outcome, t.print_status, t.arrived_at, t.first_called_at, t.started_at, "
        "t.finished_at, t.recalls, t.transfers, t.counter_id, c.name AS counter, t.told_wait_min, "
        "t.clerk_user_id, u.display_name AS clerk, "
        "f.rating, f.reasons AS rating_reasons, f.comment AS rating_comment, "
        # What the clerk ticked at the end (a second service delivered): codes, in order.
        "(SELECT group_concat(ds.code, ' ') FROM (SELECT s2.code FROM delivered_services d "
        "JOIN services s2 ON s2.id = d.service_id WHERE d.ticket_id = t.id ORDER BY s2.code) ds) "
        "AS delivered "
        "FROM tickets t JOIN services s ON s.id = t.service_id JOIN areas a ON a.id = s.area_id "
        "LEFT JOIN counters c ON c.id = t.counter_id "
        "LEFT JOIN users u ON u.id = t.clerk_user_id "
        "LEFT JOIN feedback f ON f.ticket_id = t.id "
        "WHERE t.day BETWEEN ? AND ? ORDER BY t.day, t.arrived_at, t.id",
        (first_day, last_day),
    )


def wait_s(visit: sqlite3.Row) -> float | None:
    """Return how long the visitor waited to be called, or None (not called, walk-in)."""
    if visit["walk_in"] or visit["first_called_at"] is None:
        return None
    return max(0.0, float(visit["first_called_at"] - visit["arrived_at"]))


def service_s(visit: sqlite3.Row) -> float | None:
    """Return how long the finished service took, or None (not served)."""
    if visit["state"] != "done" or visit["started_at"] is None:
        return None
    return max(0.0, float(visit["finished_at"] - visit["started_at"]))


def median(values: list[float]) -> float | None:
    """Return the middle value (mean of the two middle ones), or None for no values."""
    return statistics.median(values) if values else None


def nearest_rank(values: list[float], percent: float) -> float | None:
    """Return the nearest-rank percentile: the smallest value with ``percent``% at or below it."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(1, math.ceil(percent / 100 * len(ordered))) - 1]


@dataclass
class Tally:
    """Running counts and times for one group of visits (an area, a counter, the whole range)."""

    visits: int = 0
    served: int = 0
    no_show: int = 0
    cancelled: int = 0
    cancelled_by_visitor: int = 0  # from their phone
    unserved: int = 0  # still open when the day closed
    transferred: int = 0
    priority: int = 0
    within_target: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)
    ratings: list[int] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    told_errors: list[float] = field(default_factory=list)  # wait had minus wait told, minutes

    def add(
        self, visit: sqlite3.Row, wait: float | None, service: float | None, target_s: float
    ) -> None:
        """Count one visit."""
        self.visits += 1
        state = visit["state"]
        self.served += state == "done"
        self.no_show += state == "no_show"
        self.cancelled += state == "cancelled"
        self.cancelled_by_visitor += visit["outcome"] == VISITOR_LEFT
        self.unserved += state == "closed_unserved"
        self.transferred += visit["transfers"] > 0
        self.priority += visit["category"] != "general"
        if wait is not None:
            self.waits.append(wait)
            self.within_target += wait <= target_s
            if visit["told_wait_min"] is not None:
                self.told_errors.append(wait / 60 - visit["told_wait_min"])
        if service is not None:
            self.services.append(service)
        if visit["rating"] is not None:
            self.ratings.append(visit["rating"])
            self.reasons.update(r for r in visit["rating_reasons"].split(",") if r)

    def figures(self) -> dict[str, Any]:
        """Return the group's figures (shares in percent, times in seconds, rounded)."""
        called = len(self.waits)
        satisfied = sum(rating >= SATISFIED for rating in self.ratings)
        return {
            "visits": self.visits,
            "called": called,
            "within_target": self.within_target,
            "served": self.served,
            "no_show": self.no_show,
            "cancelled": self.cancelled,
            "unserved": self.unserved,
            "transferred": self.transferred,
            "priority": self.priority,
            "no_show_percent": _percent(self.no_show, called),
            "transfer_percent": _percent(self.transferred, self.visits),
            "priority_percent": _percent(self.priority, self.visits),
            "within_target_percent": _percent(self.within_target, called),
            "wait_mean_s": _rounded(statistics.fmean(self.waits)) if self.waits else None,
            "wait_median_s": _rounded(median(self.waits)),
            "wait_p90_s": _rounded(nearest_rank(self.waits, 90)),
            "service_mean_s": (
                _rounded(statistics.fmean(self.services)) if self.services else None
            ),
            "service_median_s": _rounded(median(self.services)),
            "service_p90_s": _rounded(nearest_rank(self.services, 90)),
            "cancelled_by_visitor": self.cancelled_by_visitor,
            # Satisfaction: the share of ratings of 4 or 5 (how DOST and ASAN report it).
            "rated": len(self.ratings),
            "satisfied": satisfied,
            "satisfied_percent": _percent(satisfied, len(self.ratings)),
            "rating_mean": (round(statistics.fmean(self.ratings), 2) if self.ratings else None),
            # The wait told at issue against the wait had (the promise to the visitor).
            "told": len(self.told_errors),
            "told_within_5min": sum(abs(e) <= HONEST_MIN for e in self.told_errors),
            "told_5min_longer": sum(e >= HONEST_MIN for e in self.told_errors),
            "told_within_5min_percent": _percent(
                sum(abs(e) <= HONEST_MIN for e in self.told_errors), len(self.told_errors)
            ),
            "told_5min_longer_percent": _percent(
                sum(e >= HONEST_MIN for e in self.told_errors), len(self.told_errors)
            ),
            # Told minus had: below zero, visitors were told too little.
            "told_bias_min": (
                round(-statistics.fmean(self.told_errors), 1) if self.told_errors else None
            ),
            # How many ratings named each reason (a rating may name several).
            **{f"reason_{reason}": self.reasons[reason] for reason in REASONS},
        }


# An estimate held when the visitor was called within this many minutes of it.
HONEST_MIN = 5


def _percent(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None


def build_report(
    rows: Iterable[sqlite3.Row],
    first_day: str,
    last_day: str,
    timezone: ZoneInfo,
    level: ServiceLevel,
) -> dict[str, Any]:
    """Fold the visits of a range into the manager's report."""
    target_s = level.target_minutes * 60
    total = Tally()
    groups: dict[str, dict[Any, Tally]] = {
        name: defaultdict(Tally) for name in ("days", "areas", "services", "counters", "clerks")
    }
    labels: dict[str, dict[Any, dict[str, Any]]] = {name: {} for name in groups}
    arrived: dict[int, int] = defaultdict(int)
    served: dict[int, int] = defaultdict(int)
    ratings: dict[int, list[int]] = defaultdict(list)  # by the hour the rated visit finished
    days: set[str] = set()
    for visit in rows:
        wait, service = wait_s(visit), service_s(visit)
        days.add(visit["day"])
        total.add(visit, wait, service, target_s)
        arrived[datetime.fromtimestamp(visit["arrived_at"], timezone).hour] += 1
        if service is not None:
            finished = datetime.fromtimestamp(visit["finished_at"], timezone).hour
            served[finished] += 1
            if visit["rating"] is not None:
                ratings[finished].append(visit["rating"])
        keys = {
            "days": (visit["day"], {"day": visit["day"]}),
            "areas": (
                visit["letter"],
                {
                    "letter": visit["letter"],
                    "name": visit["area_name"],
                    **_names(visit, "area_name"),
                },
            ),
            "services": (
                visit["service"],
                {
                    "code": visit["service"],
                    "name": visit["service_name"],
                    **_names(visit, "service_name"),
                    "letter": visit["letter"],
                },
            ),
            "counters": (visit["counter_id"], {"name": visit["counter"]}),
            "clerks": (visit["clerk_user_id"], {"name": visit["clerk"]}),
        }
        for name, (key, label) in keys.items():
            if key is None:
                continue
            groups[name][key].add(visit, wait, service, target_s)
            labels[name].setdefault(key, label)
    hours = range(min(arrived), max(max(arrived), max(served, default=0)) + 1) if arrived else []
    return {
        "from": first_day,
        "to": last_day,
        "days_with_visits": len(days),
        "service_level": {
            "target_minutes": level.target_minutes,
            "goal_percent": level.goal_percent,
        },
        "totals": total.figures(),
        "hours": [
            {
                "hour": h,
                "arrived": arrived[h],
                "served": served[h],
                "rated": len(ratings[h]),
                "satisfied_percent": _percent(
                    sum(r >= SATISFIED for r in ratings[h]), len(ratings[h])
                ),
            }
            for h in hours
        ],
        **{
            name: [
                {**labels[name][key], **tally.figures()}
                for key, tally in sorted(tallies.items(), key=lambda item: _order(item[0]))
            ]
            for name, tallies in groups.items()
        },
    }


def _names(visit: sqlite3.Row, column: str) -> dict[str, str | None]:
    """Return the name in each language (language.named picks the page's)."""
    return {"name_az": visit[column], "name_ru": visit[f"{column}_ru"],
            "name_en": visit[f"{column}_en"]}  # fmt: skip


def _order(key: Any) -> tuple[int, Any]:
    # Service codes sort as numbers part by part (4.10 after 4.9); everything else as itself.
    if isinstance(key, str) and key.replace(".", "").isdigit():
        return (0, tuple(int(part) for part in key.split(".")))
    return (1, key)


def report(
    conn: sqlite3.Connection, first_day: str, last_day: str, timezone: ZoneInfo
) -> dict[str, Any]:
    """Return the report of a day range, read in one snapshot."""
    return build_report(
        visits(conn, first_day, last_day), first_day, last_day, timezone, service_level(conn)
    )


def visit_rows(
    rows: Iterable[sqlite3.Row], timezone: ZoneInfo, language: str = "az"
) -> Iterator[tuple[Any, ...]]:
    """Shape visits as export rows under VISIT_COLUMNS, names in ``language`` (az else)."""
    name_column = "service_name" if language == "az" else f"service_name_{language}"

    def local(at: float | None) -> str | None:
        if at is None:
            return None
        return datetime.fromtimestamp(at, timezone).strftime("%Y-%m-%d %H:%M:%S")

    for visit in rows:
        wait, service = wait_s(visit), service_s(visit)
        yield (
            visit["day"],
            visit["label"],
            visit["letter"],
            visit["service"],
            visit[name_column] or visit["service_name"],
            visit["category"],
            bool(visit["walk_in"]),
            visit["state"],
            visit["outcome"],
            visit["delivered"],
            visit["print_status"],
            local(visit["arrived_at"]),
            local(visit["first_called_at"]),
            local(visit["started_at"]),
            local(visit["finished_at"]),
            round(wait) if wait is not None else None,
            round(service) if service is not None else None,
            visit["recalls"],
            visit["transfers"],
            visit["counter"],
            visit["clerk"],
            visit["rating"],
            visit["rating_reasons"] or None,
            visit["rating_comment"],
        )
