"""Backups taken while the center issues tickets, checked; restored only while it is stopped."""

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.office import backups
from server.settings import secret_key
from tests.conftest import login
from tests.live import HTTP_TIMEOUT_S, start_live_center

DOSTQ = [sys.executable, "-m", "server"]


def dostq(*args):
    return subprocess.run([*DOSTQ, *args], capture_output=True, text=True, timeout=120)


def labels_in(database):
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("SELECT day || ' ' || label FROM tickets")}


@pytest.mark.live
def test_a_backup_taken_under_load_holds_every_ticket_acknowledged_before_it(tmp_path):
    live = start_live_center(tmp_path / "center", settings={"KIOSK_TICKETS_PER_MINUTE": "100000"})
    acknowledged, stop = [], threading.Event()

    def kiosk():
        http = live.kiosk()
        while not stop.is_set():
            answer = http.post(
                f"{live.url}/api/v1/tickets",
                json={"service": "4.4", "print": False},
                timeout=HTTP_TIMEOUT_S,
            )
            answer.raise_for_status()
            ticket = answer.json()
            acknowledged.append(f"{ticket['day']} {ticket['label']}")

    issuing = [threading.Thread(target=kiosk) for _ in range(3)]
    try:
        for thread in issuing:
            thread.start()
        while len(acknowledged) < 30:
            stop.wait(0.05)
        before = list(acknowledged)
        taken = dostq("backup", "--data-dir", str(live.data_dir), "--to", str(tmp_path / "b"))
        during = len(acknowledged) - len(before)
    finally:
        stop.set()
        for thread in issuing:
            thread.join(timeout=30)
        live.stop()
    assert taken.returncode == 0, taken.stderr
    (copy,) = backups.backups_in(tmp_path / "b")
    assert copy.stat().st_mode & 0o777 == 0o600
    assert set(before) <= labels_in(copy)
    assert during > 0  # the kiosks really went on issuing while the copy was taken
    assert backups.check(copy).rows["tickets"] >= len(before)
    assert "tickets" in taken.stdout and str(copy) in taken.stdout


@pytest.mark.live
def test_restore_waits_for_the_server_to_stop_and_keeps_what_it_replaces(tmp_path):
    live = start_live_center(tmp_path / "center")
    try:
        kiosk = live.kiosk()
        issue = {"service": "4.4", "print": False}
        first = kiosk.post(f"{live.url}/api/v1/tickets", json=issue, timeout=HTTP_TIMEOUT_S)
        taken = dostq("backup", "--data-dir", str(live.data_dir))
        assert taken.returncode == 0, taken.stderr
        (copy,) = backups.backups_in(live.data_dir / "backups")
        kiosk.post(f"{live.url}/api/v1/tickets", json=issue, timeout=HTTP_TIMEOUT_S)  # after it
        refused = dostq("restore", "--data-dir", str(live.data_dir), str(copy))
        assert refused.returncode == 1 and "running" in refused.stderr
        second = dostq("serve", "--data-dir", str(live.data_dir), "--port", "1")
        assert second.returncode == 1 and "already running" in second.stderr
        assert "Center at" not in second.stderr  # it said so before it refused
    finally:
        live.stop()
    restored = dostq("restore", "--data-dir", str(live.data_dir), str(copy))
    assert restored.returncode == 0, restored.stderr
    database = live.data_dir / "dostq.db"
    assert labels_in(database) == {f"{first.json()['day']} {first.json()['label']}"}
    (aside,) = live.data_dir.glob("dostq.db.replaced-*")
    assert len(labels_in(aside)) == 2  # the replaced day is kept, the ticket after the backup too
    assert database.stat().st_mode & 0o777 == 0o600
    live.restart()  # the restored center serves
    live.stop()


def test_a_damaged_or_newer_file_is_never_restored(tmp_path):
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)
    newer = tmp_path / "newer.db"
    with sqlite3.connect(newer) as db:
        db.execute("CREATE TABLE tickets (id INTEGER)")
        db.execute("PRAGMA user_version = 999")
    for path, why in ((damaged, "not a center database"), (newer, "schema version 999")):
        refused = dostq("restore", "--data-dir", str(tmp_path / "data"), str(path))
        assert refused.returncode == 1 and why in refused.stderr
    assert not (tmp_path / "data" / "dostq.db").exists()


def test_rotation_keeps_14_days_and_8_weeks(tmp_path):
    start = datetime(2026, 9, 1, 19, 0)
    for day in range(90):
        for hour in (0, 3):  # two a day: the newest of each day is the one kept
            at = start + timedelta(days=day, hours=hour)
            (tmp_path / f"dostq-{at:%Y%m%d-%H%M%S}.db").write_bytes(b"")
    (tmp_path / "someone-elses.db").write_bytes(b"")
    (tmp_path / f"dostq-{start:%Y%m%d-%H%M%S}.keys").write_bytes(b"")  # the oldest one's keys
    deleted = backups.rotate(tmp_path, daily=14, weekly=8)
    assert not (tmp_path / f"dostq-{start:%Y%m%d-%H%M%S}.keys").exists()  # gone with its .db
    kept = backups.backups_in(tmp_path)
    days = {p.name[6:14] for p in kept}
    assert len(days) == len(kept)  # one per day at most, the newest
    assert len(kept) == 14 + 6  # 14 days span 2-3 weeks; 8 weeks in all reach 6 more backups
    assert len(deleted) == 180 - len(kept)
    assert (tmp_path / "someone-elses.db").exists()


def test_a_backup_carries_the_key_files_and_a_restore_on_a_new_disk_puts_them_back(tmp_path):
    old = tmp_path / "old"
    assert dostq("init", "--data-dir", str(old)).returncode == 0
    assert dostq("cert", "--data-dir", str(old), "--ip", "192.168.1.10").returncode == 0
    (old / "hq_key").write_text("k" * 43)  # as `dostq sync --key-file` leaves it
    secret_key(old)  # made at the first start
    taken = dostq("backup", "--data-dir", str(old), "--to", str(tmp_path / "usb"))
    assert taken.returncode == 0, taken.stderr
    (copy,) = backups.backups_in(tmp_path / "usb")
    keys = copy.with_suffix(".keys")
    assert keys.stat().st_mode & 0o777 == 0o600
    assert "secret_key, hq_key, tls/key.pem, tls/cert.pem" in taken.stdout
    # A plain file: no -wal/-shm (or .part-*) orphans left beside the backups.
    assert sorted(p.name for p in (tmp_path / "usb").iterdir()) == [copy.name, keys.name]

    new = tmp_path / "new-disk" / "data"
    restored = dostq("restore", "--data-dir", str(new), str(copy))
    assert restored.returncode == 0, restored.stderr
    assert "Key files put back" in restored.stdout
    for name in ("secret_key", "hq_key", "tls/key.pem", "tls/cert.pem"):
        assert (new / name).read_bytes() == (old / name).read_bytes(), name
        assert (new / name).stat().st_mode & 0o777 == 0o600


def test_a_manual_backup_is_named_on_the_centers_clock_as_the_nightly_one(tmp_path):
    # Named on the PC's clock (UTC) while the nightly one used Baku's, a manual backup taken
    # after the night's sorted before it, and rotation deleted the newer copy.
    data = tmp_path / "data"
    assert dostq("init", "--data-dir", str(data)).returncode == 0
    zone = "Pacific/Kiritimati"  # UTC+14: never the PC's own hour
    env = {**os.environ, "DOSTQ_TIMEZONE": zone}
    made = subprocess.run([*DOSTQ, "backup", "--data-dir", str(data)], capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip
    assert made.returncode == 0, made.stderr
    (copy,) = backups.backups_in(data / "backups")
    now = datetime.now(ZoneInfo(zone))
    assert copy.name.startswith(f"dostq-{now:%Y%m%d-%H}") or copy.name.startswith(
        f"dostq-{now - timedelta(minutes=1):%Y%m%d-%H}"
    )


def test_a_keys_archive_puts_back_only_the_files_it_is_for(tmp_path):
    import io
    import tarfile

    from server.office import key_files

    archive = tmp_path / "dostq-20261207-210000.keys"
    with tarfile.open(archive, "w") as tar:
        for name, content in (("secret_key", b"s"), ("../escaped", b"x"), ("dostq.db", b"x")):
            member = tarfile.TarInfo(name)
            member.size = len(content)
            tar.addfile(member, io.BytesIO(content))
    data = tmp_path / "data"
    data.mkdir()
    (data / "secret_key").write_text("older")
    put = key_files.put_back(archive, data, key_files.CENTER_KEYS, datetime(2026, 12, 7))
    assert put == ["secret_key"]
    assert sorted(p.name for p in data.iterdir()) == [
        "secret_key", "secret_key.replaced-20261207-000000"
    ]  # fmt: skip
    assert not (tmp_path / "escaped").exists()


BAKU = ZoneInfo("Asia/Baku")


@pytest.mark.parametrize(
    ("last", "now", "is_due"),
    [
        (None, "2026-12-02 20:59", False),  # a new center: its first backup tonight
        (None, "2026-12-02 21:00", True),
        ("2026-12-01 21:01", "2026-12-02 20:00", False),  # last night's holds until tonight
        ("2026-12-01 21:01", "2026-12-02 21:01", True),
        ("2026-12-02 10:00", "2026-12-02 21:30", True),  # a morning's manual one is not tonight's
        ("2026-12-02 21:01", "2026-12-02 23:00", False),  # tonight's is taken
        ("2026-11-30 20:00", "2026-12-02 09:00", True),  # the PC was off: catch up at once
    ],
)
def test_the_nights_backup_is_due_once_after_its_hour(last, now, is_due):
    def local(text):
        return datetime.fromisoformat(text).replace(tzinfo=BAKU)

    taken = local(last).timestamp() if last else None
    assert backups.due(taken, local(now), hour=21) is is_due


def test_the_server_takes_the_nights_backup_and_the_floor_shows_its_age(app_center):
    center = app_center.app.extensions["dostq.center"]
    nightly = app_center.app.extensions["dostq.nightly_backup"]
    folder = nightly.folder
    manager = app_center.app.test_client()
    login(manager, "manager", "floor-boss-secret")
    assert manager.get("/manager/floor.json").get_json()["backup"] == {
        "last_at": None,
        "late": True,
    }
    app_center.clock.now = datetime(2026, 12, 2, 21, 5, tzinfo=BAKU).timestamp()
    taken = nightly.check()
    assert taken is not None and taken.parent == folder and nightly.check() is None
    assert backups.check(taken).rows["users"] == 3
    # The age is the file's own (written just now), read against the server's clock.
    app_center.clock.now = time.time()
    assert manager.get("/manager/floor.json").get_json()["backup"]["late"] is False
    assert center.store.path.parent / "backups" == folder


@pytest.mark.live
def test_the_night_backup_runs_after_a_restart_that_no_one_opened(tmp_path):
    # The threads started with the first request: after a night's restart nobody opened,
    # the center took no backup (and sent nothing to HQ). No request is made here.
    from tests.live import free_port

    data = tmp_path / "center"
    assert dostq("init", "--data-dir", str(data)).returncode == 0
    env = {**os.environ, "DOSTQ_BACKUP_HOUR": "0"}  # due at once
    server = subprocess.Popen(
        [*DOSTQ, "serve", "--data-dir", str(data), "--port", str(free_port())],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not backups.backups_in(data / "backups") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert backups.backups_in(data / "backups"), "no backup without a request"
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
