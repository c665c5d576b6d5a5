"""HQ's two databases: the same rules on SQLite and on a real PostgreSQL server.

Several HQ processes may share one PostgreSQL database: here each "process" is its own
connection pool (or, on SQLite, its own connection to the file), driven from threads at once.
"""

import random
import subprocess
import sys
import threading
import time

import pytest

from hq import schema, storage
from hq.app import create_hq_app
from hq.database import DatabaseUnavailable, open_database
from server.queue.storage import NewerSchema, Store
from tests.postgres import Cluster

DAY = "2026-11-30"


def record(revision, day=DAY):
    visits = 100 + revision  # each revision its own figures, to see which one was kept
    totals = {"visits": visits, "served": revision, "no_show": 1, "transferred": 0,
              "priority": 0, "called": visits, "within_target": visits,
              "wait_mean_s": 60.0, "service_mean_s": 300.0}  # fmt: skip
    hours = [{"hour": hour, "arrived": revision, "served": revision} for hour in (9, 10, 11)]
    return {"day": day, "revision": revision, "final": False, "totals": totals, "hours": hours}


def test_a_day_sent_to_several_processes_at_once_is_kept_once_at_its_newest_revision(
    tmp_path, hq_database
):
    processes = [open_database(tmp_path, hq_database) for _ in range(3)]
    with processes[0].write() as conn:
        storage.add_center(conn, "baku-1", "Bakı 1", "sealed-key", time.time())
    revisions = list(range(1, 61)) * 2  # every revision twice: a resend lands elsewhere
    random.Random(7).shuffle(revisions)
    results = []

    def sync(database, share):
        for revision in share:
            with database.write() as conn:
                results.append(storage.apply_records(conn, "baku-1", [record(revision)], 0, 1.0))

    threads = [
        threading.Thread(target=sync, args=(database, revisions[i :: len(processes)]))
        for i, database in enumerate(processes)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with processes[1].read() as conn:
        rows = [tuple(r) for r in conn.execute("SELECT revision, visits FROM day_records")]
        hours = tuple(conn.execute("SELECT arrived_h09, arrived_h10, arrived_h11, arrived_h12 "
                                   "FROM day_records").fetchone())  # fmt: skip
    for database in processes:
        database.close()
    assert rows == [(60, 160)]
    assert hours == (60, 60, 60, 0)  # the newest revision's hours, not a mixture
    assert sum(r["applied"] + r["stale"] for r in results) == len(revisions)
    # Revision 60 was applied once; every copy that met a newer or equal one was stale.
    assert 1 <= sum(r["applied"] for r in results) <= 60


def test_processes_starting_at_once_migrate_once(postgres):
    url = postgres.new_database()
    opened, errors = [], []

    def start():
        try:
            opened.append(open_database(postgres.folder, url))
        except Exception as exc:  # noqa: BLE001  # the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with opened[0].read() as conn:
        assert conn.execute("SELECT version FROM hq_schema").fetchall() == [
            (len(schema.HQ_POSTGRES_MIGRATIONS),)
        ]
    for database in opened:
        database.close()


def test_a_database_from_a_newer_hq_is_refused_untouched(postgres, tmp_path):
    url = postgres.new_database()
    open_database(tmp_path, url).close()
    newer = open_database(tmp_path, url)
    with newer.write() as conn:
        conn.execute("UPDATE hq_schema SET version = 99")
    newer.close()
    with pytest.raises(NewerSchema, match="schema 99"):
        open_database(tmp_path, url)
    served = subprocess.run(
        [sys.executable, "-m", "server", "hq", "serve", "--data-dir", str(tmp_path),
         "--database", url, "--port", "1"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert served.returncode == 1 and "newer dost-queue (schema 99" in served.stderr
    assert "Traceback" not in served.stderr


@pytest.mark.parametrize(
    ("database", "words"),
    [
        ("postgresql://dostq@127.0.0.1:1/hq", "HQ cannot reach its database at 127.0.0.1:1/hq"),
        ("mysql://hq", "--database must start with postgresql://"),
    ],
)
def test_a_database_hq_cannot_use_stops_every_hq_command_with_the_reason(tmp_path, database, words):
    for command in (["serve"], ["add-center", "baku-1", "--name", "Bakı 1"]):
        result = subprocess.run(
            [sys.executable, "-m", "server", "hq", *command, "--data-dir", str(tmp_path),
             "--database", database],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 1, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr


@pytest.mark.postgres
def test_a_running_hq_whose_database_stops_answers_503_and_says_so():
    cluster = Cluster()  # its own server: this test stops it
    try:
        app = create_hq_app({"HQ_DATA_DIR": str(cluster.folder / "hq"),
                             "HQ_DATABASE": cluster.new_database(), "TESTING": True})  # fmt: skip
        client = app.test_client()
        assert client.get("/healthz").status_code == 200
        cluster.stop_server()
        health = client.get("/healthz")
        assert health.status_code == 503 and health.get_json()["problems"] == ["database"]
        refused = client.post("/hq/api/v1/records", data=b"{}", headers={"X-Dostq-Center": "x"})
        assert refused.status_code == 503
        assert refused.get_json()["error"]["code"] == "database_unavailable"
        with pytest.raises(DatabaseUnavailable):
            with app.extensions["dostq.hq_store"].read() as conn:
                conn.execute("SELECT 1")
        app.extensions["dostq.hq_store"].close()
    finally:
        cluster.stop()


def test_a_day_from_before_the_hour_columns_keeps_its_busiest_hour(tmp_path):
    older = Store(tmp_path / "hq.db", schema.HQ_MIGRATIONS[:4])
    with older.write() as conn:
        storage.add_center(conn, "baku-1", "Bakı 1", "sealed-key", 1.0)
        conn.execute(
            "INSERT INTO day_records (center, day, revision, final, visits, served, no_show, "
            "transferred, priority, called, within_target, wait_sum_s, service_sum_s, payload, "
            "received_at) VALUES ('baku-1', ?, 1, 1, 30, 20, 1, 0, 0, 25, 20, 0, 0, '{}', 1)",
            (DAY,),
        )
        conn.executemany(
            "INSERT INTO day_hours (center, day, hour, arrived, served) "
            "VALUES ('baku-1', ?, ?, ?, 0)",
            [(DAY, 9, 5), (DAY, 11, 17), (DAY, 14, 8)],
        )
    older.close()
    database = open_database(tmp_path)  # migrated: the hours move onto the day's row
    with database.read() as conn:
        (row,) = storage.side_by_side(conn, DAY, DAY)
        arrived = conn.execute("SELECT arrived_h09, arrived_h11, arrived_h12 FROM day_records")
        assert tuple(arrived.fetchone()) == (5, 17, 0)
    database.close()
    assert row["busiest_hour"] == 11 and row["visits"] == 30


def test_hq_backup_is_checked_and_gives_back_every_record(tmp_path, hq_database, postgres):
    from hq.backups import program

    database = open_database(tmp_path, hq_database)
    with database.write() as conn:
        storage.add_center(conn, "baku-1", "Bakı 1", "sealed-key", 1.0)
        days = [record(1, day=f"2026-11-{day:02d}") for day in range(1, 21)]
        storage.apply_records(conn, "baku-1", days, 0, 1.0)
    database.close()
    (tmp_path / "center_keys.key").write_bytes(b"k" * 44)  # seals every center's key
    folder = tmp_path / "saved"
    for _ in range(3):  # the oldest beyond --keep 2 goes
        made = subprocess.run(
            [sys.executable, "-m", "server", "hq", "backup", "--data-dir", str(tmp_path),
             "--database", hq_database, "--to", str(folder), "--keep", "2"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        time.sleep(1.1)  # one backup a second: the name carries the second
    assert "Rotated away 1 older backup(s)." in made.stdout
    (newest, older) = sorted((p for p in folder.iterdir() if p.suffix != ".keys"), reverse=True)
    assert str(newest) in made.stdout and oct(newest.stat().st_mode & 0o777) == "0o600"
    # Its keys beside it, and rotated with it: without center_keys.key no sync is read again.
    assert sorted(p.name for p in folder.glob("*.keys")) == [
        older.with_suffix(".keys").name, newest.with_suffix(".keys").name
    ]  # fmt: skip
    assert "center_keys.key" in made.stdout
    if hq_database:  # a dump: restored into an empty database with pg_restore
        restored_url = postgres.new_database()
        subprocess.run([program("pg_restore"), "--dbname", restored_url, str(newest)], check=True)
        restored = open_database(tmp_path, restored_url)
    else:
        assert "20 day records" in made.stdout
        restored = Store(newest, schema.HQ_MIGRATIONS)
    with restored.read() as conn:
        assert conn.execute("SELECT count(*), sum(visits) FROM day_records").fetchone()[0] == 20
    restored.close()


def test_a_backup_of_an_unreachable_database_keeps_nothing_and_says_why(tmp_path):
    made = subprocess.run(
        [sys.executable, "-m", "server", "hq", "backup", "--data-dir", str(tmp_path),
         "--database", "postgresql://dostq@127.0.0.1:1/hq", "--to", str(tmp_path / "saved")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 1 and "No backup was kept: pg_dump of 127.0.0.1:1/hq" in made.stderr
    assert list((tmp_path / "saved").iterdir()) == []


def test_days_held_before_the_honesty_columns_get_their_figures(tmp_path, hq_database):
    from hq.database import PostgresDatabase

    before_pg = schema.HQ_POSTGRES_MIGRATIONS.index(schema.HQ_POSTGRES_HONESTY)
    before = schema.HQ_MIGRATIONS.index(schema.HQ_HONESTY)
    older = (
        PostgresDatabase(hq_database, schema.HQ_POSTGRES_MIGRATIONS[:before_pg])
        if hq_database
        else Store(tmp_path / "hq.db", schema.HQ_MIGRATIONS[:before])
    )
    with older.write() as conn:
        storage.add_center(conn, "baku-1", "Bakı 1", "sealed-key", 1.0)
        told = '{"totals": {"told": 40, "told_within_5min": 30, "told_5min_longer": 6}}'
        for day, payload in ((DAY, told), ("2026-11-29", "{}")):  # the second from before 0.2
            conn.execute(
                "INSERT INTO day_records (center, day, revision, final, visits, served, no_show, "
                "transferred, priority, called, within_target, wait_sum_s, service_sum_s, "
                "payload, received_at) VALUES ('baku-1', ?, 1, 1, 50, 40, 1, 0, 0, 45, 40, 0, 0, "
                "?, 1)",
                (day, payload),
            )
    older.close()
    database = open_database(tmp_path, hq_database)  # migrated: read from the records held
    with database.read() as conn:
        (row,) = storage.side_by_side(conn, "2026-11-29", DAY)
    database.close()
    assert (row["told"], row["told_within_5min_percent"], row["told_5min_longer_percent"]) == (
        40, 75.0, 15.0,
    )  # fmt: skip
