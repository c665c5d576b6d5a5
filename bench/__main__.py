"""python -m bench [--json PATH]: start a real center and print its figures."""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from bench import display_page, hq, printing, realtime, reports

# Targets from the issues, on the 2-core reference machine: (key, comparison, bound).
TARGETS = {
    "tickets_per_s": (">=", 500),
    "issue_p99_ms": ("<", 50),
    "call_to_display_p99_ms": ("<", 50),
    "call_to_display_page_p99_ms": ("<", 100),
    "ticket_bytes_text": ("<", 600),
    "ticket_bytes_raster": ("<", 15_000),
    "report_day_ms": ("<", 100),
    "report_month_ms": ("<", 1000),
}


def main() -> None:
    """Run every benchmark section and print (and optionally write) the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="dostq-bench-") as work:
        figures = realtime.run(Path(work))
        figures.update(display_page.run(Path(work)))
        figures.update(reports.run(Path(work)))
        figures.update(hq.run(Path(work)))
    figures.update(printing.run())
    figures["bench_wall_s"] = round(time.perf_counter() - started, 1)
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        target = TARGETS.get(key)
        verdict = ""
        if target:
            op, bound = target
            met = value >= bound if op == ">=" else value < bound
            verdict = f"   target {op} {bound}: {'met' if met else 'NOT met'}"
        print(f"{key:<{width}}  {value:>10}{verdict}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
