"""Headquarters' database: centers and their keys, one row per center and day, analysts.

HQ reads and writes only through the functions below, in one SQL that SQLite and PostgreSQL
both run (hq/database.py chooses which). A day arrives as a record with a revision: the newest
revision wins, so a record sent twice, late, out of order, or to two HQ processes at once
changes nothing (the upsert itself compares revisions).
"""

from __future__ import annotations

from typing import Any

import orjson

from hq.schema import ARRIVED_BY_HOUR, HOURS
from server.queue.storage import SqlConnection


def add_center(conn: SqlConnection, code: str, name: str, key: str, now: float) -> None:
    """Register a center and its key, sealed (a new key for a known center replaces the old)."""
    conn.execute(
        "INSERT INTO centers (code, name, key, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (code) DO UPDATE SET name = excluded.name, key = excluded.key, active = 1",
        (code, name, key, now),
    )


def center_key(conn: SqlConnection, code: str) -> str | None:
    """Return an active center's key as stored (sealed), or None."""
    row = conn.execute("SELECT key FROM centers WHERE code = ? AND active = 1", (code,)).fetchone()
    return row[0] if row else None


def stored_keys(conn: SqlConnection) -> list[tuple[str, str]]:
    """Return every center's code and key as stored."""
    return [(row[0], row[1]) for row in conn.execute("SELECT code, key FROM centers")]


def replace_key(conn: SqlConnection, code: str, key: str) -> None:
    """Store ``key`` (sealed) as a center's key."""
    conn.execute("UPDATE centers SET key = ? WHERE code = ?", (key, code))


def remember_signature(conn: SqlConnection, signature: str, now: float, window_s: float) -> bool:
    """Record a request's signature; False if it was seen already (a replay)."""
    conn.execute("DELETE FROM seen_signatures WHERE at < ?", (now - 2 * window_s,))
    cursor = conn.execute(
        "INSERT INTO seen_signatures (signature, at) VALUES (?, ?) "
        "ON CONFLICT (signature) DO NOTHING",
        (signature, now),
    )
    return bool(cursor.rowcount == 1)


RECORD_COLUMNS = (
    "center", "day", "revision", "final", "visits", "served", "no_show", "transferred",
    "priority", "called", "within_target", "wait_sum_s", "service_sum_s", "rated", "satisfied",
    "rating_sum", "told", "told_within_5min", "told_5min_longer", "payload", "received_at",
    *ARRIVED_BY_HOUR,
)  # fmt: skip
DAYS_PER_QUERY = 200  # a batch holds at most MAX_RECORDS (hq/batches.py) days
# The newest revision wins inside the statement: an older or equal one changes no row.
UPSERT_RECORD = (
    f"INSERT INTO day_records ({', '.join(RECORD_COLUMNS)}) "  # noqa: S608 (constants)
    f"VALUES ({', '.join('?' * len(RECORD_COLUMNS))}) ON CONFLICT (center, day) DO UPDATE SET "
    + ", ".join(f"{c} = excluded.{c}" for c in RECORD_COLUMNS[2:])
    + " WHERE day_records.revision < excluded.revision"
)


def _arrived_by_hour(hours: list[dict[str, Any]]) -> list[int]:
    arrived = dict.fromkeys(HOURS, 0)
    arrived.update({h["hour"]: h["arrived"] for h in hours})
    return [arrived[hour] for hour in HOURS]


def _record_row(center: str, record: dict[str, Any], now: float) -> tuple[Any, ...]:
    totals = record["totals"]
    return (
        center,
        record["day"],
        record["revision"],
        int(record["final"]),
        totals["visits"],
        totals["served"],
        totals["no_show"],
        totals["transferred"],
        totals["priority"],
        totals["called"],
        totals["within_target"],
        (totals["wait_mean_s"] or 0) * totals["called"],
        (totals["service_mean_s"] or 0) * totals["served"],
        # A center older than ratings sends none: no one rated.
        totals.get("rated", 0),
        totals.get("satisfied", 0),
        (totals.get("rating_mean") or 0) * totals.get("rated", 0),
        # A center older than 0.2 tells no honesty figures: none counted.
        totals.get("told", 0),
        totals.get("told_within_5min", 0),
        totals.get("told_5min_longer", 0),
        orjson.dumps(record).decode(),  # 10x json.dumps on a 46 KB record
        now,
        *_arrived_by_hour(record["hours"]),
    )


def apply_records(
    conn: SqlConnection,
    center: str,
    records: list[dict[str, Any]],
    pending: int,
    now: float,
    version: str | None = None,
) -> dict[str, int]:
    """Store each record unless HQ already holds that day at the same or a newer revision.

    The revision is compared inside the upsert, not read before it: two HQ processes given
    the same day at once (a center's retry landing on another process) store it once, and
    the newer of two revisions wins whichever commits first.
    """
    # All of the batch in one executemany (one round trip on PostgreSQL's pipeline, not 30),
    # then one read of what the batch left: a day is applied when its row now carries this
    # batch's revision and arrival time.
    conn.executemany(UPSERT_RECORD, [_record_row(center, record, now) for record in records])
    days = [record["day"] for record in records]
    held = {
        (row[0], row[1])
        for first in range(0, len(days), DAYS_PER_QUERY)
        for row in conn.execute(
            "SELECT day, revision FROM day_records WHERE center = ? AND received_at = ? "  # noqa: S608
            f"AND day IN ({', '.join('?' * len(days[first : first + DAYS_PER_QUERY]))})",
            (center, now, *days[first : first + DAYS_PER_QUERY]),
        )
    }
    applied = sum((record["day"], record["revision"]) in held for record in records)
    stale = len(records) - applied
    conn.execute(
        "UPDATE centers SET last_sync_at = ?, pending = ?, version = coalesce(?, version) "
        "WHERE code = ?",
        (now, pending, version, center),
    )
    return {"applied": applied, "stale": stale}


def _figures(row: Any) -> dict[str, Any]:
    called, visits, rated = row["called"] or 0, row["visits"] or 0, row["rated"] or 0
    told = row["told"] or 0
    return {
        "visits": visits,
        "served": row["served"] or 0,
        "no_show": row["no_show"] or 0,
        "no_show_percent": round(100 * row["no_show"] / called, 1) if called else None,
        "transfer_percent": round(100 * row["transferred"] / visits, 1) if visits else None,
        "priority_percent": round(100 * row["priority"] / visits, 1) if visits else None,
        "within_target_percent": round(100 * row["within_target"] / called, 1) if called else None,
        "wait_mean_s": round(row["wait_sum_s"] / called, 1) if called else None,
        "service_mean_s": (
            round(row["service_sum_s"] / row["served"], 1) if row["served"] else None
        ),
        "rated": rated,
        "satisfied_percent": round(100 * row["satisfied"] / rated, 1) if rated else None,
        "rating_mean": round(row["rating_sum"] / rated, 2) if rated else None,
        "told": told,
        "told_within_5min_percent": (
            round(100 * row["told_within_5min"] / told, 1) if told else None
        ),
        "told_5min_longer_percent": (
            round(100 * row["told_5min_longer"] / told, 1) if told else None
        ),
    }


SUMS = (
    "sum(r.visits) AS visits, sum(r.served) AS served, sum(r.no_show) AS no_show, "
    "sum(r.transferred) AS transferred, sum(r.priority) AS priority, sum(r.called) AS called, "
    "sum(r.within_target) AS within_target, sum(r.wait_sum_s) AS wait_sum_s, "
    "sum(r.service_sum_s) AS service_sum_s, sum(r.rated) AS rated, "
    "sum(r.satisfied) AS satisfied, sum(r.rating_sum) AS rating_sum, sum(r.told) AS told, "
    "sum(r.told_within_5min) AS told_within_5min, sum(r.told_5min_longer) AS told_5min_longer"
)
HOUR_SUMS = ", ".join(f"sum(r.{column}) AS {column}" for column in ARRIVED_BY_HOUR)


def _busiest(arrived: list[int]) -> int | None:
    """Return the hour with the most arrivals (the earliest of a tie), None if none came."""
    most = max(arrived)
    return arrived.index(most) if most else None


def side_by_side(conn: SqlConnection, first: str, last: str) -> list[dict[str, Any]]:
    """Return every center's figures for a range, with its busiest hour and sync state."""
    rows = conn.execute(
        "SELECT c.code, c.name, c.version, c.last_sync_at, c.pending, c.catalog_version, "  # noqa: S608
        "c.catalog_held, c.catalog_local, count(r.day) AS days, "
        f"{SUMS}, {HOUR_SUMS} "
        "FROM centers c LEFT JOIN day_records r ON r.center = c.code AND r.day BETWEEN ? AND ? "
        "WHERE c.active = 1 GROUP BY c.code ORDER BY c.code",
        (first, last),
    ).fetchall()
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "version": r["version"],
            "days": r["days"],
            "last_sync_at": r["last_sync_at"],
            "pending": r["pending"],
            "catalog_version": r["catalog_version"],
            "catalog_held": r["catalog_held"],
            "catalog_local": bool(r["catalog_local"]),
            "busiest_hour": _busiest([r[column] or 0 for column in ARRIVED_BY_HOUR]),
            **_figures(r),
        }
        for r in rows
    ]


def catalog_by_center(conn: SqlConnection) -> list[dict[str, Any]]:
    """Return, per active center, the national catalog version it runs and holds."""
    rows = conn.execute(
        "SELECT code, name, catalog_version, catalog_held, catalog_local FROM centers "
        "WHERE active = 1 ORDER BY code"
    ).fetchall()
    return [
        {
            "code": r["code"],
            "name": r["name"],
            "runs": r["catalog_version"],
            "holds": r["catalog_held"],
            "local": bool(r["catalog_local"]),
        }
        for r in rows
    ]


SERVICE_COUNTS = ("visits", "called", "within_target", "served", "no_show")
MEANS = ("wait_mean_s", "service_mean_s")
# Services are read from the records themselves: a month of 78 centers is 2,400 of them.
MAX_SERVICE_DAYS = 31


def _count(value: Any) -> float:
    """Return a figure from a record's services (not checked at intake), or 0 if it is none."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not value >= 0:
        return 0
    return value


def services_nationwide(conn: SqlConnection, first: str, last: str) -> list[dict[str, Any]]:
    """Return each service's figures over every center and day of a range, by national code.

    The code is the catalog's (HQ publishes one for all centers), so the sums add up. Most
    visits first; a service's name is the one a center sent last, for a code HQ never published.
    """
    sums: dict[str, dict[str, Any]] = {}
    for center, payload in conn.execute(
        "SELECT center, payload FROM day_records WHERE day BETWEEN ? AND ?", (first, last)
    ):
        services = orjson.loads(payload).get("services")
        for service in services if isinstance(services, list) else ():
            if not isinstance(service, dict) or not isinstance(service.get("code"), str | int):
                continue
            total = sums.setdefault(
                str(service["code"]),
                {"centers": set(), "wait_sum_s": 0.0, "service_sum_s": 0.0,
                 **dict.fromkeys(SERVICE_COUNTS, 0)},
            )  # fmt: skip
            if isinstance(service.get("name"), str):
                total["sent_name"] = service["name"]
            figure = {key: _count(service.get(key)) for key in (*SERVICE_COUNTS, *MEANS)}
            for key in SERVICE_COUNTS:
                total[key] += int(figure[key])
            total["wait_sum_s"] += figure["wait_mean_s"] * figure["called"]
            total["service_sum_s"] += figure["service_mean_s"] * figure["served"]
            total["centers"].add(center)
    rows = []
    for code, total in sums.items():
        called, served = total["called"], total["served"]
        rows.append(
            {
                "code": code,
                "sent_name": total.get("sent_name"),
                "centers": len(total["centers"]),
                **{key: total[key] for key in SERVICE_COUNTS},
                "no_show_percent": round(100 * total["no_show"] / called, 1) if called else None,
                "within_target_percent": (
                    round(100 * total["within_target"] / called, 1) if called else None
                ),
                "wait_mean_s": round(total["wait_sum_s"] / called, 1) if called else None,
                "service_mean_s": round(total["service_sum_s"] / served, 1) if served else None,
            }
        )
    return sorted(rows, key=lambda row: (-row["visits"], row["code"]))


def trend(conn: SqlConnection, center: str, first: str, last: str) -> list[dict[str, Any]]:
    """Return one center's figures day by day."""
    rows = conn.execute(
        f"SELECT r.day, r.revision, r.final, {SUMS} FROM day_records r "  # noqa: S608
        "WHERE r.center = ? AND r.day BETWEEN ? AND ? GROUP BY r.day, r.revision, r.final "
        "ORDER BY r.day",
        (center, first, last),
    ).fetchall()
    return [
        {"day": r["day"], "revision": r["revision"], "final": bool(r["final"]), **_figures(r)}
        for r in rows
    ]


def store_now(conn: SqlConnection, center: str, now: dict[str, Any], received_at: float) -> bool:
    """Keep a center's hall as it stands, unless HQ holds a newer look; False if it did."""
    cursor = conn.execute(
        "INSERT INTO center_now (center, at, received_at, payload) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (center) DO UPDATE SET at = excluded.at, received_at = excluded.received_at, "
        "payload = excluded.payload WHERE center_now.at < excluded.at",
        (center, now["at"], received_at, orjson.dumps(now).decode()),
    )
    return bool(cursor.rowcount == 1)


def live_waits(conn: SqlConnection, now: float, stale_after_s: float) -> list[dict[str, Any]]:
    """Return every active center's hall for the public page; stale ones without figures.

    ``state``: "open" or "closed" as the center said, or "no_data" when it said nothing for
    ``stale_after_s`` (then only ``since`` is given: a stale number is never shown).
    """
    rows = conn.execute(
        "SELECT c.code, c.name, n.received_at, n.payload FROM centers c "
        "LEFT JOIN center_now n ON n.center = c.code WHERE c.active = 1 ORDER BY c.name"
    ).fetchall()
    centers = []
    for row in rows:
        center: dict[str, Any] = {"code": row["code"], "name": row["name"]}
        if row["received_at"] is None or now - row["received_at"] > stale_after_s:
            center.update(state="no_data", since=row["received_at"], areas=[])
        else:
            hall = orjson.loads(row["payload"])
            center.update(
                state="open" if hall["open"] else "closed",
                since=row["received_at"],
                areas=[
                    {"name": a["name"], "waiting": a["waiting"], "wait_min": a["wait_min"]}
                    for a in hall["areas"]
                ],
            )
        centers.append(center)
    return centers
