"""HQ at national scale: 31 centers' years arriving at an empty HQ, and its dashboard query."""

from __future__ import annotations

import json
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import requests

from hq import storage
from server.hq_link import signing, sync
from server.office import history
from server.office.catalog import default_catalog_path, import_catalog, load_catalog
from server.queue.center import Center
from server.queue.storage import Store
from tests.live import start_hq

CENTERS = 31
DAYS = 365
FIRST_DAY = date(2025, 1, 1)
BATCH_DAYS = 30
SENDERS = 8  # centers sending at the same time
RUNS = 7


def _year_of_records(work: Path) -> list[dict[str, Any]]:
    """Build the 365 day records of one generated center (every day open, for a full year)."""
    center = Center(Store(work / "source" / "dostq.db"))
    with center.store.write() as conn:
        import_catalog(conn, load_catalog(default_catalog_path()))
        history.generate(conn, FIRST_DAY, DAYS, center.timezone, weekdays=frozenset(range(7)))
    with center.store.read() as conn:
        records = [
            sync.day_record(center, conn, day, revision)
            for day, revision in sync.pending_days(conn, DAYS)
        ]
    center.store.close()
    return records


def _send_year(url: str, code: str, key: str, records: list[dict[str, Any]]) -> int:
    """Send one center's year as a center's sender would; return the bytes sent."""
    session = requests.Session()
    sent = 0
    for start in range(0, len(records), BATCH_DAYS):
        chunk = records[start : start + BATCH_DAYS]
        pending = len(records) - start - len(chunk)
        body = json.dumps({"center": code, "pending": pending, "records": chunk}).encode()
        headers = signing.signed_headers(key, code, int(time.time()), "POST", sync.PATH, body)
        headers["Content-Type"] = "application/json"
        session.post(url + sync.PATH, data=body, headers=headers, timeout=60).raise_for_status()
        sent += len(body)
    return sent


def run(work: Path) -> dict[str, Any]:
    """Sync 31 centers x 365 days into an empty HQ process; time the dashboard's main query."""
    records = _year_of_records(work)
    hq = start_hq(work / "hq", serve=False)
    keys = {f"center-{n:02d}": signing.new_key() for n in range(1, CENTERS + 1)}
    store = Store(hq.data_dir / "hq.db", storage.HQ_MIGRATIONS)
    with store.write() as conn:
        for code, key in keys.items():
            storage.add_center(conn, code, code, key, time.time())
    hq.start()
    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(SENDERS) as pool:
            sent = sum(pool.map(lambda c: _send_year(hq.url, c, keys[c], records), keys))
        sync_s = time.perf_counter() - started
    finally:
        hq.stop()
    first, last = FIRST_DAY.isoformat(), records[-1]["day"]
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with store.read() as conn:
            rows = storage.side_by_side(conn, first, last)
        times.append((time.perf_counter() - started) * 1000)
    with store.read() as conn:
        stored = conn.execute("SELECT count(*) FROM day_records").fetchone()[0]
    store.close()
    assert len(rows) == CENTERS and stored == CENTERS * len(records)  # noqa: S101
    return {
        "hq_records": stored,
        "hq_sync_s": round(sync_s, 1),
        "hq_record_bytes": round(sent / stored),
        "hq_query_ms": round(statistics.median(times), 1),
    }
