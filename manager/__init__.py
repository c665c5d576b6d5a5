"""The manager's pages: the live floor, reports over any range of days, and their exports."""

from __future__ import annotations

from datetime import date, timedelta

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from hardware import voice
from server.hq_link.sync import floor_status
from server.office import appointments, backups, reports
from server.office import floor as floor_ops
from server.queue import closing, counter_release
from server.queue.errors import Invalid
from server.queue.feedback import REASONS
from server.settings import backup_folder
from server.web import exports
from server.web.auth import user_required
from server.web.charts import hours_chart
from server.web.language import current as language
from server.web.language import refusal, text
from server.web.wiring import center, counter_devices, publish, sockets

bp = Blueprint(
    "manager", __name__, url_prefix="/manager", template_folder="templates", static_folder="static"
)
STAFF_ROLES = ("manager", "admin")


def _range() -> tuple[str, str]:
    c = center()
    return reports.parse_range(request.args.get("from"), request.args.get("to"), c.day(c.now()))


@bp.get("/")
@user_required(*STAFF_ROLES)
def floor() -> str:
    """Show the live floor view."""
    return render_template("manager/floor.html")


@bp.get("/floor.json")
@user_required(*STAFF_ROLES)
def floor_json() -> Response:
    """Return the live floor; the page reads it again whenever a socket says something moved."""
    c = center()
    with c.store.read() as conn:
        hq_sync = floor_status(conn)
    live = sockets()
    lines = counter_devices().lines_status()
    view = floor_ops.floor_view(c, live.screens_online(), hq_sync, live.summary(), lines)
    view["backup"] = backups.status(backup_folder(current_app.config), c.now())
    view["voice_missing"] = voice.engine_missing()  # the TVs play the chime alone
    return jsonify(view)


@bp.post("/assistance/<id:request_id>/resolve")
@user_required(*STAFF_ROLES)
def resolve_assistance(request_id: int) -> Response:
    """Mark a kiosk's call for help as answered."""
    publish(floor_ops.resolve_assistance(center(), request_id, g.user))
    return jsonify({"resolved": request_id})


@bp.post("/counters/<id:counter_id>/release")
@user_required(*STAFF_ROLES)
def release_counter(counter_id: int) -> Response:
    """Free a counter whose clerk is away: closed, its clerk out, its visitor back in line."""
    done = counter_release.release_by_manager(center(), counter_id, g.user)
    publish(done.facts)
    return jsonify(done.answer)


@bp.post("/close-day")
@user_required(*STAFF_ROLES)
def close_day() -> Response:
    """Close today's tickets still waiting, called or on hold as unserved (asked to confirm)."""
    if request.form.get("confirm") != "yes":
        flash(text("floor.close_unconfirmed"), "error")
        return redirect(url_for("manager.floor"))
    c = center()
    done = closing.close_day(c, c.day(c.now()), reason="manager", day_over=False, user=g.user)
    publish(done.facts)
    flash(text("floor.day_closed", count=done.answer["closed"]), "done")
    return redirect(url_for("manager.floor"))


@bp.get("/report")
@user_required(*STAFF_ROLES)
def report() -> str:
    """Show the report of a day or range (today by default)."""
    c = center()
    try:
        first, last = _range()
    except Invalid as error:
        flash(refusal(error), "error")
        first = last = c.day(c.now())
    with c.store.read() as conn:
        figures = reports.report(conn, first, last, c.timezone)
        booked = appointments.report(
            conn, first, last, c.timezone, c.now(), current_app.extensions["dostq.check_in_window"]
        )
    day = date.fromisoformat(first)
    return render_template(
        "manager/report.html",
        report=figures,
        booked=booked,
        chart=hours_chart(figures["hours"], text("report.arrived"), text("report.served")),
        reasons=REASONS,
        previous=(day - timedelta(days=1)).isoformat(),
        following=(day + timedelta(days=1)).isoformat(),
    )


@bp.get("/report.<any(csv, xlsx):kind>")
@user_required(*STAFF_ROLES)
def report_export(kind: str) -> Response:
    """Download the report of a range as CSV or XLSX."""
    first, last = _range()
    c = center()
    with c.store.read() as conn:
        figures = reports.report(conn, first, last, c.timezone)
    write = exports.report_csv if kind == "csv" else exports.report_xlsx
    return exports.attachment(write(figures), f"dostq-report-{first}-{last}.{kind}")


@bp.get("/visits.<any(csv, xlsx):kind>")
@user_required(*STAFF_ROLES)
def visits_export(kind: str) -> Response:
    """Download every visit of a range, one row each, as CSV or XLSX."""
    first, last = _range()
    c = center()
    with c.store.read() as conn:
        rows = list(reports.visit_rows(reports.visits(conn, first, last), c.timezone, language()))
    write = exports.table_csv if kind == "csv" else exports.table_xlsx
    name = f"dostq-visits-{first}-{last}.{kind}"
    return exports.attachment(write(reports.VISIT_COLUMNS, rows), name)


# The planner's routes live in their own module, registered on this blueprint.
from manager import planner_page  # noqa: E402, F401
