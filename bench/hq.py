"""HQ at national scale: 78 centers' five years arriving at an empty HQ, then its dashboard.

The same case twice: two HQ processes sharing a PostgreSQL database (a throw-away server of
Debian's, tests/postgres.py), then one HQ process on its SQLite file. Centers send over the
real signed HTTP API, SENDERS processes at once, each center to one of the HQ processes in
turn (as a load balancer would hand them out). A center's record is the real one of a
generated year (every service, hour and counter), sent again for each year with its day moved.
The dashboard's queries are timed after the first year and after the fifth: they must stay flat
as the years grow.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import date, timedelta
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import psutil
import psycopg
import requests

from hq import storage
from hq.database import open_database
from server.hq_link import signing, sync
from server.office import history
from server.office.catalog import import_catalog
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue.center import Center
from server.queue.storage import Database, Store
from tests.live import LiveHq, start_hq
from tests.postgres import Cluster

CENTERS = 78
YEARS = 5
DAYS = 365
FIRST_DAY = date(2021, 1, 1)
BATCH_DAYS = 30
SENDERS = 8  # centers sending at the same time
RUNS = 7
TREND_CENTER = "center-01"


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


def _moved(records: list[dict[str, Any]], year: int) -> list[dict[str, Any]]:
    """Return the year's records moved ``year`` years on (the same figures, later days)."""
    shift = timedelta(days=DAYS * year)
    return [{**r, "day": (date.fromisoformat(r["day"]) + shift).isoformat()} for r in records]


# A sender process's batches, each year's records already JSON (the senders share HQ's two
# cores: what they spend encoding the same records again is taken from HQ's figure).
_chunks: dict[int, list[bytes]] = {}


def _year_chunks(source: Path, year: int) -> list[bytes]:
    if year not in _chunks:
        moved = _moved(json.loads(source.read_text()), year)
        # UTF-8 as the center sends it (server/hq_link/sync.post_signed): escaped to ASCII,
        # the services' Cyrillic names made a record half again as long to decode.
        _chunks[year] = [
            json.dumps(moved[start : start + BATCH_DAYS], ensure_ascii=False).encode()
            for start in range(0, len(moved), BATCH_DAYS)
        ]
    return _chunks[year]


def _send_years(url: str, code: str, key: str, source: Path, years: list[int]) -> int:
    """Send one center's records of ``years`` as its sender would; return the records stored."""
    session = requests.Session()
    sent = 0
    for year in years:
        for chunk in _year_chunks(source, year):
            body = b'{"center": "%s", "pending": 0, "records": %s}' % (code.encode(), chunk)
            headers = signing.signed_headers(key, code, int(time.time()), "POST", sync.PATH, body)
            headers["Content-Type"] = "application/json"
            answer = session.post(url + sync.PATH, data=body, headers=headers, timeout=120)
            answer.raise_for_status()
            sent += answer.json()["applied"]
    return sent


def _prepare(source: Path) -> None:
    """Encode every year's batches once, before the clock starts."""
    for year in range(YEARS):
        _year_chunks(source, year)


def _load(pool: Any, hqs: list[LiveHq], keys: dict[str, str], source: Path,
          years: list[int]) -> tuple[int, float]:  # fmt: skip
    """Send ``years`` of every center, SENDERS at once; return records stored and seconds."""
    jobs = [
        (hqs[n % len(hqs)].url, code, key, source, years)
        for n, (code, key) in enumerate(keys.items())
    ]
    started = time.perf_counter()
    stored = sum(pool.starmap(_send_years, jobs))
    return stored, time.perf_counter() - started


def _vacuum(database: str) -> None:
    """Do what PostgreSQL's autovacuum does within a minute of a bulk load.

    Statistics for the planner, the visibility map for index-only reads: timed before it, the
    first year's dashboard took 113-128 ms against 42-63 after the fifth.
    """
    if database:
        with psycopg.connect(database, autocommit=True) as conn:  # VACUUM: no transaction
            conn.execute("VACUUM ANALYZE day_records")


def _cpu_s(pids: list[int]) -> float:
    """Return the CPU seconds (user and system) these processes and their children used."""
    total = 0.0
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for process in (root, *root.children(recursive=True)):
                times = process.cpu_times()
                total += times.user + times.system
        except psutil.NoSuchProcess:  # a worker that ended: its seconds are not counted
            continue
    return total


def _median_ms(database: Database, query: Any) -> float:
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        with database.read() as conn:
            query(conn)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def _queries(database: Database, last_year: int) -> dict[str, float]:
    """Time the dashboard's year of all centers side by side, one center's year, and the
    year's last week by service over all centers (read from the records' own services).
    """
    first = (FIRST_DAY + timedelta(days=DAYS * last_year)).isoformat()
    last = (FIRST_DAY + timedelta(days=DAYS * (last_year + 1) - 1)).isoformat()
    rows: list[Any] = []
    dashboard = _median_ms(
        database, lambda conn: rows.extend(storage.side_by_side(conn, first, last))
    )
    trend = _median_ms(database, lambda conn: storage.trend(conn, TREND_CENTER, first, last))
    assert len(rows) == CENTERS * RUNS and all(r["days"] == DAYS for r in rows)  # noqa: S101
    week = (date.fromisoformat(last) - timedelta(days=6)).isoformat()
    services = _median_ms(database, lambda conn: storage.services_nationwide(conn, week, last))
    return {"dashboard": dashboard, "trend": trend, "services": services}


def _measure(
    work: Path, source: Path, database: str, processes: int, server_pid: int | None = None
) -> dict[str, Any]:
    """Load five years into a new HQ on ``database``; return its figures.

    Besides the rate, the CPU each record cost HQ's processes and the database server
    (``server_pid``, PostgreSQL's postmaster): on this machine the senders share the cores,
    so these say what a server with cores of its own would take.
    """
    # One HQ folder (the keys' file, the secret) for every process, each on its own port.
    hq_data = work / "hq"
    hqs = [start_hq(hq_data, serve=False, database=database) for _ in range(processes)]
    keys = {f"center-{n:02d}": signing.new_key() for n in range(1, CENTERS + 1)}
    store = open_database(hq_data, database)
    with store.write() as conn:
        for code, key in keys.items():
            storage.add_center(conn, code, code, key, time.time())
    for hq in hqs:
        hq.start()
    try:
        with get_context("spawn").Pool(SENDERS, _prepare, (source,)) as pool:
            pool.map(time.sleep, [0.5] * SENDERS)  # every sender ready, its batches encoded
            hq_pids = [process.pid for hq in hqs for process in hq.processes]
            server_pids = [server_pid] if server_pid else []
            cpu_before = _cpu_s(hq_pids), _cpu_s(server_pids)
            first = _load(pool, hqs, keys, source, [0])
            _vacuum(database)
            one_year = _queries(store, 0)
            rest = _load(pool, hqs, keys, source, list(range(1, YEARS)))
            cpu_after = _cpu_s(hq_pids), _cpu_s(server_pids)
            _vacuum(database)
            five_years = _queries(store, YEARS - 1)
    finally:
        for hq in hqs:
            hq.stop()
    with store.read() as conn:
        stored = conn.execute("SELECT count(*) FROM day_records").fetchone()[0]
        if database:
            size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    store.close()  # SQLite: checkpointed, every byte in hq.db
    if not database:
        size = (hq_data / "hq.db").stat().st_size
    assert stored == CENTERS * DAYS * YEARS  # noqa: S101
    rate = (first[0] + rest[0]) / (first[1] + rest[1])
    return {
        "db_mb": round(size / 2**20),
        "records": stored,
        "records_per_s": round(rate),
        "cpu_ms_per_record": round(1000 * (cpu_after[0] - cpu_before[0]) / stored, 2),
        "db_cpu_ms_per_record": round(1000 * (cpu_after[1] - cpu_before[1]) / stored, 2),
        "dashboard_year_ms_1y": one_year["dashboard"],
        "dashboard_year_ms": five_years["dashboard"],
        "trend_ms_1y": one_year["trend"],
        "trend_ms": five_years["trend"],
        "services_week_ms": five_years["services"],
    }


def run(work: Path) -> dict[str, Any]:
    """Measure HQ on PostgreSQL (two processes), then on SQLite (one); return the figures."""
    records = _year_of_records(work)
    source = work / "year.json"
    source.write_text(json.dumps(records))
    cluster = Cluster(durable=True)  # as a ministry's server runs: every commit on disk
    try:
        url = cluster.new_database()
        postmaster = int((cluster.folder / "data" / "postmaster.pid").read_text().split()[0])
        postgres = _measure(work / "postgresql", source, url, processes=2, server_pid=postmaster)
    finally:
        cluster.stop()
    sqlite = _measure(work / "sqlite", source, "", processes=1)
    figures: dict[str, Any] = {
        "hq_centers": CENTERS,
        "hq_years": YEARS,
        "hq_record_bytes": round(len(json.dumps(records[-1], ensure_ascii=False).encode())),
    }
    for key, value in postgres.items():
        figures[f"hq_{key}"] = value
    for key, value in sqlite.items():
        figures[f"hq_{key}_sqlite"] = value
    return figures
