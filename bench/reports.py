"""Report speed over a year of generated history: one day and one month, as a manager asks."""

from __future__ import annotations

import statistics
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from server.office import history, reports
from server.office.catalog import (
    default_priority_categories,
    import_catalog,
    import_priority_categories,
)
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue.storage import Store

TIMEZONE = ZoneInfo("Asia/Baku")
FIRST_DAY = date(2025, 1, 6)  # a Monday; 261 working days make a year
WORKING_DAYS = 261
RUNS = 7


def _median_ms(build: Any) -> float:
    """Time ``build`` RUNS times and return the median in milliseconds."""
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        build()
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def run(work: Path) -> dict[str, Any]:
    """Generate a year of visits on disk, then time a day's and a month's report."""
    store = Store(work / "reports" / "dostq.db")
    with store.write() as conn:
        import_catalog(conn, load_catalog(default_catalog_path()))
        import_priority_categories(conn, default_priority_categories())
        started = time.perf_counter()
        visits = history.generate(conn, FIRST_DAY, WORKING_DAYS, TIMEZONE)
        generated_s = time.perf_counter() - started
    busiest_day = ""
    with store.read() as conn:
        busiest_day = conn.execute(
            "SELECT day FROM tickets GROUP BY day ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()[0]
    month_first = date(2025, 6, 1)
    month_last = month_first + timedelta(days=29)

    def report(first: str, last: str) -> None:
        with store.read() as conn:
            reports.report(conn, first, last, TIMEZONE)

    figures = {
        "history_visits": visits,
        "history_generate_s": round(generated_s, 2),
        "report_day_ms": _median_ms(lambda: report(busiest_day, busiest_day)),
        "report_month_ms": _median_ms(
            lambda: report(month_first.isoformat(), month_last.isoformat())
        ),
    }
    store.close()
    return figures
