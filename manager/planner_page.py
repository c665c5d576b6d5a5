"""The staffing planner's page and its CSV: thin over server/office/staffing.py."""

from __future__ import annotations

from datetime import date, time, timedelta
from typing import Any

from flask import flash, jsonify, render_template, request
from werkzeug.wrappers import Response

from manager import STAFF_ROLES, bp
from server.office import next_day, staffing
from server.queue.errors import Invalid
from server.web import exports, language
from server.web.auth import user_required
from server.web.charts import bar_chart
from server.web.language import refusal, text
from server.web.wiring import center


def _asked() -> tuple[date, staffing.WhatIf | None]:
    """Read the day (tomorrow by default) and the what-if from the query string."""
    c = center()
    tomorrow = date.fromisoformat(c.day(c.now())) + timedelta(days=1)
    try:
        day = date.fromisoformat(request.args.get("day") or tomorrow.isoformat())
        counters = int(request.args.get("add") or 0)
        first, last = int(request.args.get("from") or 0), int(request.args.get("to") or 24)
    except ValueError as exc:
        raise Invalid("bad_plan", "A day is YYYY-MM-DD; counters and hours are numbers.") from exc
    if not -20 <= counters <= 20 or not 0 <= first < last <= 24:
        raise Invalid("bad_plan", "Add or take away up to 20 counters, for hours within the day.")
    area = request.args.get("area") or None
    pooled, any_category = "pooled" in request.args, "any_category" in request.args
    widened, wave_moved = _widened(), _wave_moved()
    if not (counters or pooled or any_category or widened or wave_moved):
        return day, None
    return day, staffing.WhatIf(counters, area, (first, last), pooled, any_category, widened,
                                wave_moved)  # fmt: skip


def _widened() -> tuple[int, str] | None:
    """Read "this counter serves that area too" (counter id, area letter), if asked."""
    counter, area = request.args.get("widen"), request.args.get("widen_area")
    if not counter or not area:
        return None
    if not counter.isdigit():
        raise Invalid("bad_plan", "Choose a counter and an area.")
    return int(counter), area


def _wave_moved() -> tuple[int, str] | None:
    """Read "this break wave starts then" (its position, HH:MM), if asked."""
    wave, starts = request.args.get("wave"), request.args.get("wave_at")
    if not wave or not starts:
        return None
    try:
        time.fromisoformat(starts)
    except ValueError as exc:
        raise Invalid("bad_break_start", "Write the start as HH:MM, e.g. 12:30.") from exc
    if not wave.isdigit():
        raise Invalid("bad_plan", "Choose a break wave.")
    return int(wave), starts


def _plan() -> dict[str, Any]:
    c = center()
    try:
        day, what_if = _asked()
    except Invalid as error:
        flash(refusal(error), "error")
        day, what_if = date.fromisoformat(c.day(c.now())) + timedelta(days=1), None
    with c.store.read() as conn:
        return staffing.day_plan(c, conn, day, what_if)


@bp.get("/planner")
@user_required(*STAFF_ROLES)
def staffing_planner() -> str:
    """Show the day forecast, simulated with today's counters, the advice and a what-if."""
    plan = _plan()
    # The share called within the goal, per hour of arrival: a mean wait leaves out the
    # visitors the day never reaches, and so looked better the fewer it reached.
    series = [("plan", text("planner.with_plan", minutes=plan["goal_min"]),
               [round(r["plan"].within_goal_percent or 0) for r in plan["rows"]])]  # fmt: skip
    if plan["what_if"]:
        series.append(("what-if", text("planner.with_what_if"),
                       [round(r["what_if"].within_goal_percent or 0)
                        for r in plan["rows"]]))  # fmt: skip
    labels = [f"{r['plan'].hour:02d}" for r in plan["rows"]]
    return render_template("manager/planner.html", plan=plan, chart=bar_chart(labels, series))


@bp.get("/floor/next-day.json")
@user_required(*STAFF_ROLES)
def next_day_json() -> Response:
    """Return the advice for the next open day once today's last ticket is out (else null)."""
    c = center()
    advice = next_day.next_day_advice(c, c.now())
    return jsonify({"advice": advice and {**advice, "day_label": language.day(advice["day"])}})


@bp.get("/planner.csv")
@user_required(*STAFF_ROLES)
def staffing_planner_csv() -> Response:
    """Download the plan of the day hour by hour."""
    plan = _plan()
    header = ["hour", "arrivals", "counters", "mean_wait_min", "p90_wait_min",
              "within_goal_percent", "not_reached", "advised_counters",
              "advised_within_goal_percent", "advised_added", "erlang_c_pooled"]  # fmt: skip
    rows = [
        [f"{r['plan'].hour:02d}:00", r["plan"].arrivals, r["plan"].counters,
         r["plan"].mean_wait_min, r["plan"].p90_wait_min, r["plan"].within_goal_percent,
         r["plan"].not_reached, r["advice"].counters, r["advice"].within_goal_percent,
         "; ".join(f"{n} × {skill}" for skill, n in r["added"]), r["erlang_c"]]
        for r in plan["rows"]
    ]  # fmt: skip
    return exports.attachment(exports.table_csv(header, rows), f"dostq-plan-{plan['day']}.csv")
