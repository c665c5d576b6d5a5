"""Headquarters' tables: the SQLite migrations in order, and PostgreSQL's own list.

A change to HQ's tables adds a step to each list; hq/storage.py holds the queries over them.
"""

from __future__ import annotations

from hq.schema_recent import (
    HQ_HONESTY,
    HQ_POSTGRES_HONESTY,
    HQ_POSTGRES_PUBLIC_TICKETS,
    HQ_POSTGRES_SMS,
    HQ_PUBLIC_TICKETS,
    HQ_SMS,
)
from server.queue.schema import AUDIT_LOG_TABLE, USERS_TABLE

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
            catalog text NOT NULL,  -- canonical JSON, as server/office/catalog_files.py reads it
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

# A phone's bookings of a day, counted at each booking and move (hq/bookings.py).
HQ_BOOKINGS_BY_PHONE = """
        CREATE INDEX bookings_phone ON bookings (phone, center, service, made_at);
"""

# Limits every HQ process shares (hq/shared_limits.py): sign-in failures, public rate limits.
HQ_SHARED_LIMITS = """
        CREATE TABLE signin_failures (
            key text PRIMARY KEY,
            count integer NOT NULL,
            last_at double precision NOT NULL
        );
        CREATE TABLE rate_events (
            bucket text NOT NULL,
            key text NOT NULL,
            at double precision NOT NULL
        );
        CREATE INDEX rate_events_key ON rate_events (bucket, key, at);
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
    HQ_BOOKINGS_BY_PHONE,
    HQ_SHARED_LIMITS,
    HQ_HONESTY,
    HQ_PUBLIC_TICKETS,
    HQ_SMS,
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
    HQ_BOOKINGS_BY_PHONE,
    HQ_SHARED_LIMITS,
    HQ_POSTGRES_HONESTY,
    HQ_POSTGRES_PUBLIC_TICKETS,
    HQ_POSTGRES_SMS,
)
