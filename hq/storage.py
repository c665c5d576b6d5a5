"""Headquarters' database: centers and their keys, one row per center and day, analysts.

HQ reads and writes only through the functions below, in one SQL that SQLite and PostgreSQL
both run (hq/database.py chooses which). A day arrives as a record with a revision: the newest
revision wins, so a record sent twice, late, out of order, or to two HQ processes at once
changes nothing (the upsert itself compares revisions).
"""

from __future__ import annotations

from typing import Any

import orjson

from server.queue.storage import AUDIT_LOG_TABLE, USERS_TABLE, SqlConnection

HQ_SCHEMA = """
        CREATE TABLE centers (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            key TEXT NOT NULL,  -- the center's HMAC key, sealed under the key file (hq/keys.py)
            active INTEGER NOT NULL DEFAULT 1,
            created_at REAL NOT NULL,
            last_sync_at REAL,
            pending INTEGER  -- days the center said it still had to send, at its last batch
        );
        CREATE TABLE day_records (
            center TEXT NOT NULL REFERENCES centers(code),
            day TEXT NOT NULL,
            revision INTEGER NOT NULL,
            final INTEGER NOT NULL,
            visits INTEGER NOT NULL, served INTEGER NOT NULL, no_show INTEGER NOT NULL,
            transferred INTEGER NOT NULL, priority INTEGER NOT NULL,
            called INTEGER NOT NULL, within_target INTEGER NOT NULL,
            wait_sum_s REAL NOT NULL, service_sum_s REAL NOT NULL,  -- over called, over served
            payload TEXT NOT NULL,
            received_at REAL NOT NULL,
            PRIMARY KEY (center, day)
        );
        CREATE INDEX day_records_day ON day_records (day, center);
        CREATE TABLE day_hours (
            center TEXT NOT NULL, day TEXT NOT NULL, hour INTEGER NOT NULL,
            arrived INTEGER NOT NULL, served INTEGER NOT NULL,
            PRIMARY KEY (center, day, hour)
        );
        CREATE TABLE seen_signatures (signature TEXT PRIMARY KEY, at REAL NOT NULL);
"""
# Analysts sign in like a center's staff; their sign-ins are audited the same way.
# Each analyst reads HQ's pages in their own language.
HQ_USERS_LANGUAGE = """
        ALTER TABLE users ADD COLUMN language TEXT NOT NULL DEFAULT 'az'
            CHECK (language IN ('az', 'ru', 'en'));
"""

# Visitors' ratings beside throughput: how many rated, how many gave 4 or 5, and the sum of
# the ratings (their mean times their count), read from the records already held.
HQ_SATISFACTION = """
        ALTER TABLE day_records ADD COLUMN rated INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN satisfied INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN rating_sum REAL NOT NULL DEFAULT 0;
        UPDATE day_records SET
            rated = coalesce(json_extract(payload, '$.totals.rated'), 0),
            satisfied = coalesce(json_extract(payload, '$.totals.satisfied'), 0),
            rating_sum = coalesce(json_extract(payload, '$.totals.rating_mean'), 0)
                * coalesce(json_extract(payload, '$.totals.rated'), 0);
"""

# The dost-queue version each center last synced with, for upgrades rolled out center by center.
HQ_CENTER_VERSION = "ALTER TABLE centers ADD COLUMN version TEXT;"

# Arrivals by hour of day on the day's own row, one column per hour: a range's busiest hour
# is then part of the one scan of the days. day_hours, a row per hour, made the year's
# dashboard of 16 centers read 70,000 rows, and its delete and 24 inserts cost each record
# as much as the record's own upsert; served per hour stays in each record's payload.
HOURS = range(24)
ARRIVED_BY_HOUR = tuple(f"arrived_h{hour:02d}" for hour in HOURS)
HQ_ARRIVALS_BY_HOUR = """
        ALTER TABLE day_records ADD COLUMN arrived_h00 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h01 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h02 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h03 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h04 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h05 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h06 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h07 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h08 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h09 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h10 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h11 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h12 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h13 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h14 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h15 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h16 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h17 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h18 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h19 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h20 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h21 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h22 INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE day_records ADD COLUMN arrived_h23 INTEGER NOT NULL DEFAULT 0;
        UPDATE day_records SET
            arrived_h00 = coalesce(b.h00, 0),
            arrived_h01 = coalesce(b.h01, 0),
            arrived_h02 = coalesce(b.h02, 0),
            arrived_h03 = coalesce(b.h03, 0),
            arrived_h04 = coalesce(b.h04, 0),
            arrived_h05 = coalesce(b.h05, 0),
            arrived_h06 = coalesce(b.h06, 0),
            arrived_h07 = coalesce(b.h07, 0),
            arrived_h08 = coalesce(b.h08, 0),
            arrived_h09 = coalesce(b.h09, 0),
            arrived_h10 = coalesce(b.h10, 0),
            arrived_h11 = coalesce(b.h11, 0),
            arrived_h12 = coalesce(b.h12, 0),
            arrived_h13 = coalesce(b.h13, 0),
            arrived_h14 = coalesce(b.h14, 0),
            arrived_h15 = coalesce(b.h15, 0),
            arrived_h16 = coalesce(b.h16, 0),
            arrived_h17 = coalesce(b.h17, 0),
            arrived_h18 = coalesce(b.h18, 0),
            arrived_h19 = coalesce(b.h19, 0),
            arrived_h20 = coalesce(b.h20, 0),
            arrived_h21 = coalesce(b.h21, 0),
            arrived_h22 = coalesce(b.h22, 0),
            arrived_h23 = coalesce(b.h23, 0)
        FROM (
            SELECT center, day,
                sum(arrived) FILTER (WHERE hour = 0) AS h00,
                sum(arrived) FILTER (WHERE hour = 1) AS h01,
                sum(arrived) FILTER (WHERE hour = 2) AS h02,
                sum(arrived) FILTER (WHERE hour = 3) AS h03,
                sum(arrived) FILTER (WHERE hour = 4) AS h04,
                sum(arrived) FILTER (WHERE hour = 5) AS h05,
                sum(arrived) FILTER (WHERE hour = 6) AS h06,
                sum(arrived) FILTER (WHERE hour = 7) AS h07,
                sum(arrived) FILTER (WHERE hour = 8) AS h08,
                sum(arrived) FILTER (WHERE hour = 9) AS h09,
                sum(arrived) FILTER (WHERE hour = 10) AS h10,
                sum(arrived) FILTER (WHERE hour = 11) AS h11,
                sum(arrived) FILTER (WHERE hour = 12) AS h12,
                sum(arrived) FILTER (WHERE hour = 13) AS h13,
                sum(arrived) FILTER (WHERE hour = 14) AS h14,
                sum(arrived) FILTER (WHERE hour = 15) AS h15,
                sum(arrived) FILTER (WHERE hour = 16) AS h16,
                sum(arrived) FILTER (WHERE hour = 17) AS h17,
                sum(arrived) FILTER (WHERE hour = 18) AS h18,
                sum(arrived) FILTER (WHERE hour = 19) AS h19,
                sum(arrived) FILTER (WHERE hour = 20) AS h20,
                sum(arrived) FILTER (WHERE hour = 21) AS h21,
                sum(arrived) FILTER (WHERE hour = 22) AS h22,
                sum(arrived) FILTER (WHERE hour = 23) AS h23
            FROM day_hours GROUP BY center, day
        ) AS b
        WHERE b.center = day_records.center AND b.day = day_records.day;
        DROP TABLE day_hours;
"""

# Each center's hall now (per area: waiting and the wait a new ticket would have), the newest
# only: the public page of waits across centers reads it. No personal data. One statement for
# both databases (PostgreSQL's "real" is a 4-byte float: a timestamp needs "double precision").
HQ_CENTER_NOW = """
        CREATE TABLE center_now (
            center text PRIMARY KEY REFERENCES centers(code),
            at double precision NOT NULL,  -- the center's clock when it looked
            received_at double precision NOT NULL,  -- HQ's: "no data since" counts from it
            payload text NOT NULL
        );
"""

# The national catalog, one row per publication (hq/catalog.py), and which version each
# center runs and holds, as it last said when it asked for a newer one.
HQ_CATALOG_VERSIONS = """
        CREATE TABLE catalog_versions (
            version integer PRIMARY KEY,
            effective_day text NOT NULL,  -- centers apply it at the start of this day or later
            published_at double precision NOT NULL,
            published_by integer,
            catalog text NOT NULL,  -- canonical JSON, as server/office/catalog.py reads it
            digest text NOT NULL,  -- sha256 of ``catalog``: the center checks what it got
            areas integer NOT NULL,
            services integer NOT NULL
        );
        ALTER TABLE centers ADD COLUMN catalog_version integer;
        ALTER TABLE centers ADD COLUMN catalog_held integer;
        ALTER TABLE centers ADD COLUMN catalog_local integer NOT NULL DEFAULT 0;
"""

# Appointments (hq/bookings.py): the slots each center offers and the bookings made in them.
# The same SQL on both databases.
HQ_BOOKINGS = """
        CREATE TABLE booking_slots (
            center text NOT NULL REFERENCES centers(code),
            service text NOT NULL,
            service_id integer NOT NULL,  -- the center's own id: its codes carry it
            slot_at bigint NOT NULL,
            seats integer NOT NULL,  -- as the center last offered it; 0: no longer offered
            booked integer NOT NULL DEFAULT 0,  -- bookings standing
            made integer NOT NULL DEFAULT 0,  -- bookings ever made: the next one's seat number
            PRIMARY KEY (center, service, slot_at)
        );
        CREATE TABLE bookings (
            code text PRIMARY KEY,
            center text NOT NULL REFERENCES centers(code),
            service text NOT NULL,
            service_id integer NOT NULL,
            slot_at bigint NOT NULL,
            phone text NOT NULL,  -- for reminders; never sent to the center
            state text NOT NULL,  -- booked, cancelled, checked_in, no_show
            made_at double precision NOT NULL,
            made_by text NOT NULL,  -- web, or the partner system that booked it
            changed_at double precision,
            called_after_s integer  -- the first call's time minus the slot's start
        );
        CREATE INDEX bookings_center_slot ON bookings (center, slot_at);
        CREATE INDEX bookings_slot ON bookings (slot_at);
        -- Other state systems (e-Social) that book through the signed API, each with its key.
        CREATE TABLE partners (
            name text PRIMARY KEY,
            key text NOT NULL,  -- sealed like a center's key (hq/keys.py)
            active integer NOT NULL DEFAULT 1,
            created_at double precision NOT NULL
        );
        ALTER TABLE centers ADD COLUMN slots_digest text;
        ALTER TABLE centers ADD COLUMN booking_services text;
        ALTER TABLE centers ADD COLUMN booking_window text;  -- check-in: minutes early, late
        ALTER TABLE centers ADD COLUMN appointments_at double precision;
"""

HQ_MIGRATIONS: tuple[str, ...] = (
    HQ_SCHEMA + USERS_TABLE + AUDIT_LOG_TABLE,
    HQ_USERS_LANGUAGE,
    HQ_SATISFACTION,
    HQ_CENTER_VERSION,
    HQ_ARRIVALS_BY_HOUR,
    HQ_CENTER_NOW,
    HQ_CATALOG_VERSIONS,
    HQ_BOOKINGS,
)

# The same tables on PostgreSQL, which starts at SQLite's newest design; a later change adds
# a step to each list. ``day`` stays ISO text, as in SQLite, so one SQL serves both.
HQ_POSTGRES_MIGRATIONS: tuple[str, ...] = (
    """
        CREATE TABLE centers (
            code text PRIMARY KEY,
            name text NOT NULL,
            key text NOT NULL,
            active integer NOT NULL DEFAULT 1,
            created_at double precision NOT NULL,
            last_sync_at double precision,
            pending integer,
            version text
        );
        CREATE TABLE day_records (
            center text NOT NULL REFERENCES centers(code),
            day text NOT NULL,
            revision integer NOT NULL,
            final integer NOT NULL,
            visits integer NOT NULL, served integer NOT NULL, no_show integer NOT NULL,
            transferred integer NOT NULL, priority integer NOT NULL,
            called integer NOT NULL, within_target integer NOT NULL,
            wait_sum_s double precision NOT NULL, service_sum_s double precision NOT NULL,
            rated integer NOT NULL DEFAULT 0, satisfied integer NOT NULL DEFAULT 0,
            rating_sum double precision NOT NULL DEFAULT 0,
            payload text COMPRESSION lz4 NOT NULL,  -- the whole record: lz4 is pglz's 5x
            received_at double precision NOT NULL,
            arrived_h00 integer NOT NULL DEFAULT 0, arrived_h01 integer NOT NULL DEFAULT 0,
            arrived_h02 integer NOT NULL DEFAULT 0, arrived_h03 integer NOT NULL DEFAULT 0,
            arrived_h04 integer NOT NULL DEFAULT 0, arrived_h05 integer NOT NULL DEFAULT 0,
            arrived_h06 integer NOT NULL DEFAULT 0, arrived_h07 integer NOT NULL DEFAULT 0,
            arrived_h08 integer NOT NULL DEFAULT 0, arrived_h09 integer NOT NULL DEFAULT 0,
            arrived_h10 integer NOT NULL DEFAULT 0, arrived_h11 integer NOT NULL DEFAULT 0,
            arrived_h12 integer NOT NULL DEFAULT 0, arrived_h13 integer NOT NULL DEFAULT 0,
            arrived_h14 integer NOT NULL DEFAULT 0, arrived_h15 integer NOT NULL DEFAULT 0,
            arrived_h16 integer NOT NULL DEFAULT 0, arrived_h17 integer NOT NULL DEFAULT 0,
            arrived_h18 integer NOT NULL DEFAULT 0, arrived_h19 integer NOT NULL DEFAULT 0,
            arrived_h20 integer NOT NULL DEFAULT 0, arrived_h21 integer NOT NULL DEFAULT 0,
            arrived_h22 integer NOT NULL DEFAULT 0, arrived_h23 integer NOT NULL DEFAULT 0,
            PRIMARY KEY (center, day)
        );
        CREATE INDEX day_records_day ON day_records (day, center);
        CREATE TABLE seen_signatures (signature text PRIMARY KEY, at double precision NOT NULL);
        CREATE TABLE users (
            id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            username text NOT NULL UNIQUE,
            display_name text NOT NULL,
            password_hash text NOT NULL,
            role text NOT NULL CHECK (role IN ('clerk', 'manager', 'admin')),
            active integer NOT NULL DEFAULT 1,
            session_version integer NOT NULL DEFAULT 1,
            created_at double precision NOT NULL,
            language text NOT NULL DEFAULT 'az' CHECK (language IN ('az', 'ru', 'en'))
        );
        CREATE TABLE audit_log (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            at double precision NOT NULL,
            user_id integer, device_id integer,
            action text NOT NULL,
            detail text,
            remote_addr text
        );
    """,
    HQ_CENTER_NOW,
    HQ_CATALOG_VERSIONS,
    HQ_BOOKINGS,
)


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
    "rating_sum", "payload", "received_at", *ARRIVED_BY_HOUR,
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
    }


SUMS = (
    "sum(r.visits) AS visits, sum(r.served) AS served, sum(r.no_show) AS no_show, "
    "sum(r.transferred) AS transferred, sum(r.priority) AS priority, sum(r.called) AS called, "
    "sum(r.within_target) AS within_target, sum(r.wait_sum_s) AS wait_sum_s, "
    "sum(r.service_sum_s) AS service_sum_s, sum(r.rated) AS rated, "
    "sum(r.satisfied) AS satisfied, sum(r.rating_sum) AS rating_sum"
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
