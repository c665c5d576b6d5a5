"""Upgrades keep every row: a database at each earlier schema version, filled, then migrated.

For each version the test applies the migrations up to it, fills the database with a real
day (the demo center, its staff and devices, a day of visits with their events and ratings)
projected onto that version's tables, migrates it to the newest, and checks that every row of
every table is still there with the same values. A database from a newer version is refused
untouched, and ``dostq serve`` backs up a database before it migrates it.
"""

import os
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hq import catalog
from hq.schema import HQ_MIGRATIONS
from hq.storage import add_center, apply_records, remember_signature, store_now
from server.cli import main
from server.office import backups
from server.office.accounts import authenticate, create_user
from server.office.catalog_files import default_catalog_path, load_catalog
from server.office.demo import DEMO_LOGINS, seed_demo
from server.office.floor import record_printer_status, request_assistance, resolve_assistance
from server.office.history import generate
from server.queue import calls, desk, visits
from server.queue.actors import device_from_row
from server.queue.center import Center
from server.queue.schema import MIGRATIONS
from server.queue.storage import NewerSchema, Store, audit, put_setting, schema_version
from tests.live import _serve as serve_center
from tests.live import free_port
from tests.test_sync import record

TIMEZONE = ZoneInfo("Asia/Baku")
# Values a later migration changes on purpose, by (table, column): not a loss.
REWRITTEN = {
    # Migration 14 tells the visitor's own cancels (event reason "visitor") from the staff's.
    ("tickets", "outcome"),
}
# Tables a later migration folds into another, and where their rows are read from there.
# HQ's migration 5 moves arrivals by hour onto each day's row; a day's record, stored whole in
# its payload, keeps every hour's arrived and served.
HOURS_IN_PAYLOAD = (
    "SELECT r.center, r.day, json_extract(h.value, '$.hour'), json_extract(h.value, '$.arrived'), "
    "json_extract(h.value, '$.served') FROM day_records r, json_each(r.payload, '$.hours') h"
)
MOVED = {"day_hours": (("center", "day", "hour", "arrived", "served"), HOURS_IN_PAYLOAD)}


def filled_center(path):
    """The newest schema holding real days: the demo center, two days of visits, and today's
    work done through the queue's own operations (calls, finishes, a transfer, a no-show,
    a cancel, a printer fault, a call for help), so every table has rows."""
    store = Store(path)
    with store.write() as conn:
        seed_demo(conn, time.time())
        generate(conn, date(2026, 3, 2), 2, TIMEZONE, seed=7)
        put_setting(conn, "hq", {"url": "https://hq.example", "center": "baku-1"})
        clerk = authenticate(conn, "clerk1", DEMO_LOGINS["clerk1"])
        manager = authenticate(conn, "manager", DEMO_LOGINS["manager"])
        kiosk = conn.execute("SELECT * FROM devices WHERE kind = 'kiosk'").fetchone()
    center = Center(store, timezone=TIMEZONE)
    kiosk = device_from_row(kiosk)
    desk.sign_in(center, 1, clerk)
    for number in range(6):
        visits.issue_ticket(center, "4.4", device=None, idempotency_key=f"kiosk-{number}")
    calls.call_next(center, 1, clerk, idempotency_key="call-1")
    desk.start_service(center, 1, clerk)
    desk.finish(center, 1, clerk, ["4.4"])
    calls.call_next(center, 1, clerk)
    desk.start_service(center, 1, clerk)
    desk.transfer(center, 1, clerk, service_code="4.1")
    calls.call_next(center, 1, clerk)
    desk.mark_no_show(center, 1, clerk)
    waiting = visits.issue_ticket(center, "2.1", device=None)[0]
    visits.cancel_ticket(center, waiting["id"], manager, "duplicate")
    record_printer_status(center, kiosk, "paper_out", "Kağız qurtarıb")
    request_id, _ = request_assistance(center, kiosk)
    resolve_assistance(center, request_id, manager)
    with store.write() as conn:  # a booking heard from HQ (schema 16 on)
        conn.execute(
            "INSERT INTO bookings (code, service_id, slot_at, state, heard_at) "
            "VALUES ('AAAABBBBCCCCDDDDEEEE', 7, 1795400000, 'booked', 1.0)"
        )
    store.close()
    return path


def filled_hq(path):
    store = Store(path, HQ_MIGRATIONS)
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", "sealed-key", time.time())
        apply_records(conn, "baku-1", [record("2026-03-02"), record("2026-03-03", 2)], 0, 1.0)
        remember_signature(conn, "a-signature", time.time(), 300)
        create_user(conn, "analyst", "kölgə-dağ-ürək-sərin-47", "manager", time.time())
        audit(conn, "center_added", time.time(), detail={"code": "baku-1"})
        hall = {"center": "baku-1", "at": 1.0, "open": True, "open_counters": 1, "areas": []}
        store_now(conn, "baku-1", hall, 1.0)
        catalog.publish(conn, load_catalog(default_catalog_path()), "2026-03-02", 0, None, 1.0)
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'bookings'").fetchone():
            conn.execute(
                "INSERT INTO booking_slots (center, service, service_id, slot_at, seats, booked, "
                "made) VALUES ('baku-1', '2.1', 7, 1795400000, 4, 1, 1)"
            )
            conn.execute(
                "INSERT INTO bookings (code, center, service, service_id, slot_at, phone, state, "
                "made_at, made_by) VALUES ('AAAABBBBCCCC', 'baku-1', '2.1', 7, 1795400000, "
                "'+994501234567', 'booked', 1.0, 'web')"
            )
            conn.execute("INSERT INTO partners (name, key, created_at) VALUES ('e-social', 'k', 1)")
        conn.execute("INSERT INTO signin_failures (key, count, last_at) VALUES ('analyst', 2, 1)")
        conn.execute("INSERT INTO rate_events (bucket, key, at) VALUES ('book', '10.0.0.9', 1)")
        conn.execute(
            "INSERT INTO public_tickets (id, center, day, status, at, received_at) "
            "VALUES (?, 'baku-1', '2026-03-03', '{}', 1, 1)",
            ("a" * 64,),
        )
        conn.execute(
            "INSERT INTO ticket_requests (ticket, center, kind, detail, made_at) "
            "VALUES (?, 'baku-1', 'cancel', '{}', 1)",
            ("a" * 64,),
        )
    store.close()
    return path


def tables(conn, schema="main"):
    return {
        name: [row[1] for row in conn.execute(f"PRAGMA {schema}.table_info({name})")]
        for (name,) in conn.execute(
            f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table' "  # noqa: S608
            "AND name NOT LIKE 'sqlite_%'"
        )
    }


def rows(conn, table, columns):
    if (
        table in MOVED
        and not conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    ):
        moved_columns, query = MOVED[table]
        return Counter(
            tuple(row[moved_columns.index(c)] for c in columns) for row in conn.execute(query)
        )
    listed = ", ".join(columns)
    return Counter(conn.execute(f"SELECT {listed} FROM {table}"))  # noqa: S608


def at_version(path, migrations, version, filled):
    """Build a database at ``version`` and copy into it what ``filled`` holds that fits.

    Returns each table's columns at that version and its rows, counted.
    """
    Store(path, migrations[:version]).close()
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("ATTACH ? AS filled", (str(filled),))
    newest = tables(conn, "filled")
    conn.execute("BEGIN")
    for table, columns in tables(conn).items():
        shared = [c for c in columns if c in newest.get(table, [])]
        if shared:
            listed = ", ".join(shared)
            # OR IGNORE: rows this version's constraints cannot hold (a device kind added later)
            conn.execute(
                f"INSERT OR IGNORE INTO {table} ({listed}) SELECT {listed} FROM filled.{table}"  # noqa: S608
            )
    for table, (columns, query) in MOVED.items():  # gone from the newest: rebuilt from there
        if table in tables(conn) and table not in newest:
            listed = ", ".join(columns)
            moved = query.replace("day_records r", "filled.day_records r")
            conn.execute(f"INSERT INTO {table} ({listed}) {moved}")  # noqa: S608
    conn.execute("COMMIT")
    conn.execute("DETACH filled")
    before = {
        table: (columns, rows(conn, table, columns)) for table, columns in tables(conn).items()
    }
    conn.close()
    return before


CASES = [
    pytest.param(MIGRATIONS, filled_center, "center", version, id=f"center-{version}")
    for version in range(1, len(MIGRATIONS))
] + [
    pytest.param(HQ_MIGRATIONS, filled_hq, "hq", version, id=f"hq-{version}")
    for version in range(1, len(HQ_MIGRATIONS))
]


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    folder = tmp_path_factory.mktemp("filled")
    return {
        "center": filled_center(folder / "dostq.db"),
        "hq": filled_hq(folder / "hq.db"),
    }


@pytest.mark.parametrize(("migrations", "fill", "kind", "version"), CASES)
def test_every_row_of_every_earlier_version_survives_the_upgrade(
    tmp_path, filled, migrations, fill, kind, version
):
    path = tmp_path / "old.db"
    before = at_version(path, migrations, version, filled[kind])
    empty = [table for table, (_, counted) in before.items() if not counted]
    assert not empty, f"nothing to lose in {empty}: the test would pass vacuously"
    if kind == "center" and version >= 3:
        assert sum(before["tickets"][1].values()) > 100  # real days, not an empty shell

    Store(path, migrations).close()  # the upgrade, as every start runs it

    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(migrations)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    for table, (columns, counted) in before.items():
        kept = [i for i, c in enumerate(columns) if (table, c) not in REWRITTEN]
        projected = Counter()
        for row, count in counted.items():
            projected[tuple(row[i] for i in kept)] += count
        lost = projected - rows(conn, table, [columns[i] for i in kept])
        assert not lost, f"{table} lost {sum(lost.values())} row(s) at schema {version}"
    conn.close()


def test_a_database_from_a_newer_version_is_refused_untouched(tmp_path):
    data_dir = tmp_path / "data"
    Store(data_dir / "dostq.db").close()
    with sqlite3.connect(data_dir / "dostq.db") as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    before = (data_dir / "dostq.db").read_bytes()

    with pytest.raises(NewerSchema, match="newer dost-queue"):
        Store(data_dir / "dostq.db")
    result = CliRunner().invoke(main, ["sync", "--status", "--data-dir", str(data_dir)])
    assert result.exit_code == 1 and "written by a newer dost-queue" in result.output
    assert "Traceback" not in result.output
    served = subprocess.run(
        [sys.executable, "-m", "server", "serve", "--data-dir", str(data_dir), "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert served.returncode == 1 and "newer dost-queue" in served.stderr
    assert "Traceback" not in served.stderr
    assert (data_dir / "dostq.db").read_bytes() == before


@pytest.mark.live
def test_serve_backs_up_a_database_before_it_migrates_it(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    older = len(MIGRATIONS) - 1
    at_version(data_dir / "dostq.db", MIGRATIONS, older, filled_center(tmp_path / "filled.db"))

    server = serve_center(data_dir, free_port(), dict(os.environ), tls=False)  # `dostq serve`
    server.terminate()
    server.wait(timeout=30)
    (taken,) = backups.backups_in(data_dir / "backups")
    assert taken.name.endswith(f"-before-schema-{len(MIGRATIONS)}.db")
    checked = backups.check(taken)
    assert checked.schema_version == older and checked.rows["tickets"] > 100
    assert schema_version(data_dir / "dostq.db") == len(MIGRATIONS)
    backups.rotate(data_dir / "backups", daily=0, weekly=0)
    assert taken.exists()  # an upgrade's backup is never rotated away

    # Migrated: the next start keeps nothing more; a new center has nothing to keep.
    assert backups.before_upgrade(data_dir / "dostq.db", tmp_path / "b", datetime.now()) is None
    assert backups.before_upgrade(tmp_path / "none.db", tmp_path / "b", datetime.now()) is None
