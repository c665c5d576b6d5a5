"""HQ's report of bookings: by center, service and day, with punctuality and the share of visits."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from hq.bookings import STANDING
from server.office.reports import nearest_rank
from server.queue.storage import SqlConnection


def report(
    conn: SqlConnection,
    first_at: float,
    last_at: float,
    visits: dict[str, int],
    day_of: Callable[[float], str],
) -> dict[str, Any]:
    """Return the bookings with slots in [first_at, last_at): by center, service and day.

    ``visits`` is each center's visits in the range (its day records), for the share of
    visits that came by appointment; ``day_of`` names the local day of a moment. Punctuality
    is the first call's time minus the slot's start, as the centers reported it.
    """
    rows = conn.execute(
        "SELECT b.center, c.name, b.service, b.slot_at, b.state, b.called_after_s "
        "FROM bookings b JOIN centers c ON c.code = b.center "
        "WHERE b.slot_at >= ? AND b.slot_at < ?",
        (first_at, last_at),
    ).fetchall()
    groups: dict[str, dict[Any, list[Any]]] = {
        "centers": defaultdict(list),
        "services": defaultdict(list),
        "days": defaultdict(list),
    }
    names: dict[str, str] = {}
    for row in rows:
        groups["centers"][row[0]].append(row)
        groups["services"][row[2]].append(row)
        groups["days"][day_of(row[3])].append(row)
        names[row[0]] = row[1]

    def figures(group: list[Any], all_visits: int | None) -> dict[str, Any]:
        lateness = sorted(r[5] / 60 for r in group if r[4] == "checked_in" and r[5] is not None)
        checked = sum(r[4] == "checked_in" for r in group)
        return {
            "booked": sum(r[4] in STANDING for r in group),
            "cancelled": sum(r[4] == "cancelled" for r in group),
            "checked_in": checked,
            "no_show": sum(r[4] == "no_show" for r in group),
            "called_after_p50_min": _rank(lateness, 50),
            "called_after_p90_min": _rank(lateness, 90),
            "share_of_visits_percent": (
                round(100 * checked / all_visits, 1) if all_visits else None
            ),
        }

    return {
        "totals": figures(list(rows), sum(visits.values())),
        "centers": [
            {"code": code, "name": names[code], **figures(group, visits.get(code, 0))}
            for code, group in sorted(groups["centers"].items(), key=lambda i: names[i[0]])
        ],
        "services": [
            {"service": code, **figures(group, None)}
            for code, group in sorted(groups["services"].items())
        ],
        "days": [
            {"day": day, **figures(group, None)} for day, group in sorted(groups["days"].items())
        ],
    }


def _rank(values: list[float], percent: float) -> float | None:
    value = nearest_rank(values, percent)
    return None if value is None else round(value, 1)
