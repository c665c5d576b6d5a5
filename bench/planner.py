"""The staffing planner's time: a day's forecast and advice over the demo center's history.

Sixty working days of generated history at the demo center (its five counters), then
tomorrow's forecast and the advice for it, as a manager opens the planner; and the same for
a record day (the forecast scaled to 1,646 visitors).
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from server.office import history, planner
from server.office.catalog import (
    default_priority_categories,
    import_catalog,
    import_priority_categories,
)
from server.office.catalog_files import default_catalog_path, load_catalog
from server.office.demo import seed_demo
from server.queue.storage import Store

BAKU = ZoneInfo("Asia/Baku")
DAY = date(2026, 12, 8)  # a Tuesday
RECORD_VISITS = 1646


def run(work: Path) -> dict[str, float]:
    """Return the planner's seconds for a normal and a record day, and its demo advice."""
    store = Store(work / "planner" / "dostq.db")
    with store.write() as conn:
        import_catalog(conn, load_catalog(default_catalog_path()))
        import_priority_categories(conn, default_priority_categories())
        seed_demo(conn, time.time())
        history.generate(conn, history.working_days_before(DAY, 60), 60, BAKU)
    figures: dict[str, float] = {}
    with store.read() as conn:
        started = time.perf_counter()
        forecast = planner.forecast_day(conn, DAY, BAKU)
        plan = planner.current_plan(conn, (9, 18))
        advised, day = planner.advise(forecast, plan, (9, 18), BAKU, 20, 80)
        figures["planner_normal_day_s"] = round(time.perf_counter() - started, 2)
    figures["planner_demo_visits_expected"] = round(sum(forecast.arrivals.values()))
    figures["planner_demo_counters_now"] = len(plan)
    figures["planner_demo_counters_advised_peak"] = max(h.counters for h in day)
    figures["planner_demo_within_goal_min_percent"] = min(
        h.within_goal_percent for h in day if h.within_goal_percent is not None
    )
    scale = RECORD_VISITS / sum(forecast.arrivals.values())
    record = replace(forecast, arrivals={k: v * scale for k, v in forecast.arrivals.items()})
    started = time.perf_counter()
    planner.advise(record, plan, (9, 18), BAKU, 20, 80)
    figures["planner_record_day_s"] = round(time.perf_counter() - started, 2)
    store.close()
    return figures


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print(run(Path(folder)))
