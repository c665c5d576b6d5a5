"""python -m bench [--json PATH]: start a real center and print its figures."""

from __future__ import annotations

import argparse
import json
import operator
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import (
    day_simulator,
    display_page,
    floor,
    hq,
    phone_relay,
    planner,
    printing,
    realtime,
    reports,
    statements,
    voice,
)

# Targets from the issues, on the 2-core reference machine: (key, comparison, bound); a
# bound that is a string names another figure, times the factor after it.
TARGETS: dict[str, tuple[str, Any]] = {
    "tickets_per_s": (">=", 1000),
    "issue_p99_ms": ("<=", 30),
    "call_to_display_p99_ms": ("<=", 50),
    "calls_lost": ("==", 0),
    "sockets_held": (">=", 2000),
    "http_p99_ms_at_max_sockets": ("<=", ("http_p99_ms_idle", 2)),
    "refused_cleanly": ("==", True),
    "call_to_display_page_p99_ms": ("<", 100),
    "ticket_bytes_text_worst": ("<=", 600),
    "ticket_bytes_raster_worst": ("<=", 15_000),
    "report_day_ms": ("<", 100),
    "report_month_ms": ("<", 1000),
    "hq_records_per_s": (">=", 2000),
    "hq_dashboard_year_ms": ("<=", 100),
    "hq_trend_ms": ("<=", 50),
    **printing.targets(),  # each printer model's worst ticket in each mode
    # The wait told at issue against the wait had, simulated days (bench/day_simulator.py).
    "wait_estimate_within_5min_normal": (">=", 80),
    "wait_estimate_p90_abs_error_min_normal": ("<=", 8),
    "wait_estimate_bias_min_normal": ("abs<=", 1),
    "wait_longer_than_told_5min_normal": ("<=", 10),
    "wait_told_soon_waited_over_5min_normal": ("<=", 5),
    "wait_estimate_within_10min_heavy": (">=", 90),
    "wait_replay_ms_max_record": ("<=", 50),
    "wait_band_held_record": (">=", 80),
    "wait_not_reached_told_record": (">=", 85),
    "wait_not_today_false_alarm_record": ("<=", 1),
    "planner_record_day_s": ("<=", 5),
    # Statements per operation, counted (bench/statements.py): the real-time issue's targets.
    "sql_per_ticket": ("<=", 12),
    "sql_per_call": ("<=", 20),
    "call_to_voice_ms": ("<=", 950),
}


def _within(value: float, bound: float) -> bool:
    return abs(value) <= bound


def verdict(key: str, value: Any, figures: dict[str, Any]) -> str:
    """Say whether a figure met its target ("" when it has none)."""
    if key not in TARGETS:
        return ""
    op, bound = TARGETS[key]
    if isinstance(bound, tuple):
        other, factor = bound
        bound = round(float(figures[other]) * factor, 2)
    compare = {">=": operator.ge, "<=": operator.le, "<": operator.lt, "==": operator.eq,
               "abs<=": _within}[op]  # fmt: skip
    met = compare(value, bound)
    return f"   target {op} {bound}: {'met' if met else 'NOT met'}"


def main() -> None:
    """Run every benchmark section and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dostq-bench-") as work:
        figures = realtime.run(Path(work))
        figures.update(floor.run(Path(work)))
        figures.update(display_page.run(Path(work)))
        figures.update(reports.run(Path(work)))
        figures.update(hq.run(Path(work)))
        figures.update(day_simulator.run(Path(work)))
        figures.update(planner.run(Path(work)))
        figures.update(phone_relay.run(Path(work)))
        figures.update(statements.run(Path(work)))
        figures.update(voice.run(Path(work)))
    figures.update(printing.run())
    figures["bench_wall_s"] = round(time.perf_counter() - started, 1)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        print(f"{key:<{width}}  {value!s:>10}{verdict(key, value, figures)}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
