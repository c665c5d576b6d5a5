"""Centers and HQ as real processes: history synced through faults, HQ killed, a center offline.

Each runs against HQ on its SQLite file and against two HQ processes on one PostgreSQL
database, the centers' requests handed to each in turn. Every test ends with the same count:
each day of the center exactly once at HQ, at the center's newest revision, with the same
visits, served and no-shows (records lost 0, doubled 0, HQ totals equal to the center's own
report).
"""

import re
import sqlite3
import subprocess
import sys
import time

import pytest
import requests

from server.hq_link import sync
from tests.conftest import wait_until
from tests.fault_proxy import FATES, FaultProxy
from tests.live import start_hq, start_live_center

FAST_SYNC = {"HQ_SYNC_POLL_S": "0.2", "HQ_RETRY_MAX_S": "1", "HQ_SYNC_BATCH_DAYS": "3"}


def center_syncing_to(tmp_path, hq_url, key, history_days, batch_days="3"):
    def set_up(store):
        with store.write() as conn:
            sync.set_up(conn, tmp_path / "center", hq_url, "baku-1", key)

    return start_live_center(
        tmp_path / "center",
        prepare=set_up,
        history_days=history_days,
        settings={**FAST_SYNC, "HQ_SYNC_BATCH_DAYS": batch_days},
    )


def center_days(live):
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        return {
            day: (visits, served, no_show, revision)
            for day, visits, served, no_show, revision in db.execute(
                "SELECT t.day, count(*), sum(t.state = 'done'), sum(t.state = 'no_show'), "
                "o.revision FROM tickets t JOIN hq_outbox o ON o.day = t.day GROUP BY t.day"
            )
        }


def hq_days(hq):
    database = hq.open_database()
    try:
        with database.read() as db:
            return {
                day: (visits, served, no_show, revision)
                for day, visits, served, no_show, revision in db.execute(
                    "SELECT day, visits, served, no_show, revision FROM day_records "
                    "WHERE center = 'baku-1'"
                )
            }
    finally:
        database.close()


def pending(live):
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        return db.execute(
            "SELECT count(*) FROM hq_outbox WHERE revision > sent_revision"
        ).fetchone()[0]


def assert_converged(live, hq, timeout=60):
    assert wait_until(lambda: pending(live) == 0 and hq_days(hq) == center_days(live), timeout)
    at_center, at_hq = center_days(live), hq_days(hq)
    assert sum(v[0] for v in at_hq.values()) == sum(v[0] for v in at_center.values())


def issue_today(live, count):
    kiosk = live.kiosk()
    for _ in range(count):
        kiosk.post(
            f"{live.url}/api/v1/tickets", json={"service": "4.4", "print": False}, timeout=10
        ).raise_for_status()


@pytest.fixture
def hq(tmp_path, hq_database):
    """HQ on its SQLite file, then two HQ processes sharing one PostgreSQL database."""
    live_hq = start_hq(tmp_path / "hq", serve=False, database=hq_database,
                       processes=2 if hq_database else 1)  # fmt: skip
    yield live_hq
    live_hq.stop()


@pytest.mark.live
def test_history_syncs_exactly_once_through_a_faulty_network(tmp_path, hq):
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST")
    hq.start()
    proxy = FaultProxy(hq.url, seed=5)
    live = center_syncing_to(tmp_path, proxy.url, key, history_days=30)
    try:
        issue_today(live, 3)  # today changes while its history is being sent
        assert_converged(live, hq)
        issue_today(live, 2)  # a newer revision of today replaces the older one
        assert_converged(live, hq)
        assert set(proxy.fates) == set(FATES)  # every kind of fault really happened
        assert len(hq_days(hq)) == 31
    finally:
        live.stop()
        proxy.close()


@pytest.mark.live
def test_hq_killed_mid_sync_and_restarted_loses_and_doubles_nothing(tmp_path, hq):
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST")
    hq.start()
    slow = FaultProxy(hq.url, weights=(0, 0, 0, 1, 0, 0))  # every request delayed
    live = center_syncing_to(tmp_path, slow.url, key, history_days=40, batch_days="2")
    try:
        assert wait_until(lambda: len(hq_days(hq)) >= 4, timeout=60)
        hq.kill()
        assert pending(live) > 0
        hq.start()
        assert_converged(live, hq, timeout=90)
    finally:
        live.stop()
        slow.close()


@pytest.mark.live
def test_center_offline_for_fourteen_days_catches_up_and_shows_its_backlog(tmp_path, hq):
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST")  # HQ exists but is not reachable
    live = center_syncing_to(tmp_path, hq.url, key, history_days=14)
    try:
        issue_today(live, 2)
        manager = live.session("manager", "demo-floor-lead")

        def floor_hq():
            return manager.get(f"{live.url}/manager/floor.json", timeout=10).json()["hq"]

        assert wait_until(lambda: floor_hq().get("last_error"), timeout=30)
        state = floor_hq()
        assert state["configured"] and state["pending_days"] == 15
        # The floor says it in words from this kind, not urllib3's "HTTPConnectionPool(…)".
        assert state["last_problem"] in ("unreachable", "http_error")  # a proxy answers 502
        assert state.get("last_success_at") is None
        hq.start()
        assert_converged(live, hq)
        status = subprocess.run(
            [sys.executable, "-m", "server", "sync", "--status", "--data-dir", str(live.data_dir)],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        assert "Days pending: 0" in status and " min ago" in status and "never" not in status
    finally:
        live.stop()


@pytest.mark.live
def test_each_sync_compares_the_clocks_and_hq_learns_the_centers_version(tmp_path, hq, caplog):
    from server import VERSION
    from server.queue.center import Center
    from server.queue.storage import Store
    from server.queue.visits import issue_ticket
    from tests.conftest import FakeClock, seed

    key = hq.add_center("baku-1", "Bakı 1 saylı DOST")
    hq.start()
    store = Store(tmp_path / "center" / "dostq.db")
    seed(store)
    # Five minutes slow: the signatures (real time) pass, the tickets' clock is wrong.
    center = Center(store, clock=FakeClock(time.time() - 300))
    issue_ticket(center, "2.1", device=None)
    with store.write() as conn:
        sync.set_up(conn, tmp_path / "center", hq.url, "baku-1", key)
        link = sync.link(conn, tmp_path / "center")
    with caplog.at_level("WARNING", logger="server.hq_link.sync"):
        assert sync.send_batch(center, link, requests.Session()) == 1
    with store.read() as conn:
        floor = sync.floor_status(conn)
    assert floor["clock_off"] and 295 <= floor["clock_offset_s"] <= 305
    # The fake clock stands still while the request travels: a loaded machine says -301.
    assert re.search(r"clock is -30[0-5] s off HQ's", caplog.text), caplog.text
    database = hq.open_database()
    with database.read() as db:
        assert [tuple(row) for row in db.execute("SELECT version FROM centers")] == [(VERSION,)]
    database.close()

    before = center.day(center.now())
    center.clock.advance(300)  # set right: the warning goes at the next sync
    issue_ticket(center, "2.1", device=None)
    # Run in the five minutes after Baku's midnight, the two tickets fall on two days: the
    # earlier day goes again as final beside the new one.
    days = 1 if center.day(center.now()) == before else 2
    assert sync.send_batch(center, link, requests.Session()) == days
    with store.read() as conn:
        floor = sync.floor_status(conn)
    assert not floor["clock_off"] and abs(floor["clock_offset_s"]) <= 5
