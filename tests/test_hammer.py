"""Many kiosks and counters at once through the real HTTP server: nothing lost or doubled.

8 kiosks issue 1,000 tickets each while 30 clerks at 30 counters (each serving a random
1-3 of 3 services) call next until the queue is drained. Afterwards the SQLite file must
show: every acknowledged ticket, numbers unique and gap-free per letter, every ticket
called exactly once, and calls first-come-first-served within each service and category.
"""

import random
import sqlite3
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

import pytest
import requests

from server.office import accounts
from tests.live import LiveCenter, start_live_center

KIOSKS, TICKETS_PER_KIOSK, COUNTERS = 8, 1000, 30
SERVICES = ["2.1", "4.4", "6"]


def add_hammer_counters(store):
    rng = random.Random(7)
    with store.write() as conn:
        for n in range(COUNTERS):
            services = rng.sample(SERVICES, rng.randint(1, 3))
            accounts.create_counter(conn, f"Hammer {n}", dict.fromkeys(services, 1.0))
            accounts.create_user(conn, f"hammer{n}", f"hammer-secret-{n}", "clerk", time.time())
        kiosks = [
            accounts.enrol_device(conn, f"hammer-kiosk-{k}", "kiosk", time.time())
            for k in range(KIOSKS)
        ]
    (store.path.parent / "hammer-kiosks.txt").write_text("\n".join(kiosks))


@pytest.fixture
def hammer_center(tmp_path):
    live = start_live_center(
        tmp_path / "center",
        prepare=add_hammer_counters,
        settings={"KIOSK_TICKETS_PER_MINUTE": "1000000"},
    )
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


def run_kiosk(url, token, seed):
    """Issue TICKETS_PER_KIOSK tickets; return the acknowledged ids and any errors."""
    rng = random.Random(seed)
    http = requests.Session()
    http.headers["Authorization"] = f"Device {token}"
    acknowledged, errors = [], []
    for _ in range(TICKETS_PER_KIOSK):
        body = {"service": rng.choice(SERVICES), "print": False}
        if rng.random() < 0.1:
            body["category"] = "elderly"
        response = http.post(f"{url}/api/v1/tickets", json=body, timeout=30)
        if response.status_code == 201:
            acknowledged.append(response.json()["id"])
        else:
            errors.append(response.text)
    return acknowledged, errors


def run_clerk(live, n, kiosks_done):
    """Sign in at counter "Hammer n" and call until the kiosks are done and nobody waits."""
    http = live.session(f"hammer{n}", f"hammer-secret-{n}")
    with sqlite3.connect(live.data_dir / "dostq.db") as db:
        counter_id = db.execute(
            "SELECT id FROM counters WHERE name = ?", (f"Hammer {n}",)
        ).fetchone()[0]
    base = f"{live.url}/api/v1/counters/{counter_id}"
    http.post(f"{base}/session", timeout=30).raise_for_status()
    while True:
        # Read the flag before asking: an empty queue after the last ticket means drained.
        done = kiosks_done.exists()
        response = http.post(f"{base}/call-next", timeout=30)
        if response.status_code == 200:
            http.post(f"{base}/no-show", timeout=30).raise_for_status()
        elif response.json()["error"]["code"] != "queue_empty":
            return [response.text]
        elif done:
            return []
        else:
            time.sleep(0.02)


def run_clerks(live, numbers, kiosks_done):
    with ThreadPoolExecutor(len(numbers)) as pool:
        return [
            e
            for errors in pool.map(lambda n: run_clerk(live, n, kiosks_done), numbers)
            for e in errors
        ]


@pytest.mark.live
@pytest.mark.slow
def test_eight_kiosks_and_thirty_counters_lose_and_double_nothing(hammer_center):
    url = hammer_center.url
    tokens = (hammer_center.data_dir / "hammer-kiosks.txt").read_text().split()
    kiosks_done = hammer_center.data_dir / "kiosks-done"
    acknowledged, errors = [], []
    with ProcessPoolExecutor(KIOSKS + 3, mp_context=get_context("spawn")) as pool:
        live = LiveCenter(hammer_center.url, hammer_center.data_dir, None)
        clerks = [
            pool.submit(run_clerks, live, list(range(p, COUNTERS, 3)), kiosks_done)
            for p in range(3)
        ]
        for job in [pool.submit(run_kiosk, url, token, k) for k, token in enumerate(tokens)]:
            ids, kiosk_errors = job.result()
            acknowledged += ids
            errors += kiosk_errors
        kiosks_done.touch()
        for job in clerks:
            errors += job.result()

    assert errors == []
    db = sqlite3.connect(hammer_center.data_dir / "dostq.db")
    total = KIOSKS * TICKETS_PER_KIOSK
    stored = {r[0] for r in db.execute("SELECT id FROM tickets WHERE device_id IS NOT NULL")}
    assert len(acknowledged) == total and set(acknowledged) <= stored  # 0 lost
    assert len(stored) == total  # nothing extra
    for letter, count, low, high, distinct in db.execute(
        "SELECT letter, count(*), min(number), max(number), count(DISTINCT number) "
        "FROM tickets GROUP BY day, letter"
    ):
        assert (low, high, distinct) == (1, count, count), f"gap or duplicate in {letter}"
    calls = db.execute(
        "SELECT e.ticket_id, t.service_id, t.category, t.arrived_at FROM ticket_events e "
        "JOIN tickets t ON t.id = e.ticket_id WHERE e.action = 'call' ORDER BY e.id"
    ).fetchall()
    called = [c[0] for c in calls]
    assert len(called) == len(set(called)) == total  # each called exactly once
    lines = defaultdict(list)
    for ticket_id, service_id, category, arrived_at in calls:
        lines[(service_id, category)].append((arrived_at, ticket_id))
    fifo_violations = sum(
        1 for line in lines.values() for a, b in zip(line, line[1:], strict=False) if b < a
    )
    assert fifo_violations == 0
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
