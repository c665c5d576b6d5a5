"""HQ's dashboard for analysts: centers side by side, one center's trend, services, bookings."""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, current_app, render_template, request
from werkzeug.wrappers import Response

from hq import booking_report, catalog, sms_outbox, storage
from hq.web.context import analyst_required, store, today
from server.office import reports
from server.queue.errors import NotFound
from server.queue.storage import SqlConnection
from server.web import exports, language
from server.web.charts import bar_chart
from server.web.language import text

# The dashboard dresses like the center's manager pages; HQ's templates and static files are
# served from here for every HQ page.
dashboard = Blueprint(
    "hq",
    __name__,
    url_prefix="/hq",
    template_folder="../templates",
    static_folder="../static",
)


def _range() -> tuple[str, str]:
    last_default = today()
    first_default = last_default - timedelta(days=6)
    return reports.parse_range(
        request.args.get("from") or first_default.isoformat(),
        request.args.get("to") or last_default.isoformat(),
        last_default.isoformat(),
    )


@dashboard.get("/")
@analyst_required
def centers() -> str:
    """All centers side by side for a range (the last seven days by default)."""
    first, last = _range()
    with store().read() as conn:
        rows = _with_sms(conn, storage.side_by_side(conn, first, last), first, last)
    return render_template("hq/centers.html", rows=rows, first=first, last=last, now=time.time())


def _with_sms(
    conn: SqlConnection, rows: list[dict[str, Any]], first: str, last: str
) -> list[dict[str, Any]]:
    """Add the SMS each center's visitors were sent in the range (HQ's local days)."""
    zone = ZoneInfo(current_app.config["HQ_TIMEZONE"])
    start = datetime.combine(date.fromisoformat(first), datetime.min.time(), zone)
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), datetime.min.time(), zone)
    sent = sms_outbox.sent_by_center(conn, start.timestamp(), end.timestamp())
    return [{**row, "sms_sent": sent.get(row["code"], 0)} for row in rows]


@dashboard.get("/appointments")
@analyst_required
def appointments() -> str:
    """Bookings with a slot in a range (the last seven days by default): by center, service, day."""
    first, last = _range()
    zone = ZoneInfo(current_app.config["HQ_TIMEZONE"])
    start = datetime.combine(date.fromisoformat(first), datetime.min.time(), zone)
    end = datetime.combine(date.fromisoformat(last) + timedelta(days=1), datetime.min.time(), zone)
    with store().read() as conn:
        visits = {
            row[0]: int(row[1])
            for row in conn.execute(
                "SELECT center, sum(visits) FROM day_records WHERE day BETWEEN ? AND ? "
                "GROUP BY center",
                (first, last),
            )
        }
        figures = booking_report.report(
            conn,
            start.timestamp(),
            end.timestamp(),
            visits,
            lambda at: datetime.fromtimestamp(at, zone).date().isoformat(),
        )
    return render_template("hq/appointments.html", booked=figures, first=first, last=last)


@dashboard.get("/centers/<code>")
@analyst_required
def center_trend(code: str) -> str:
    """One center's figures day by day (the last 8 weeks by default)."""
    asked = request.args.get("to") or today().isoformat()
    _, last = reports.parse_range(asked, asked, asked)  # a bad "to": 400 before it is used
    last_day, eight_weeks = date.fromisoformat(last), timedelta(weeks=8)
    default_first = last_day - eight_weeks if last_day - date.min > eight_weeks else date.min
    first = request.args.get("from") or default_first.isoformat()
    first, last = reports.parse_range(first, last, last)
    with store().read() as conn:
        name = conn.execute("SELECT name FROM centers WHERE code = ?", (code,)).fetchone()
        days = storage.trend(conn, code, first, last)
    if name is None:
        raise NotFound("unknown_center", f"No center '{code}'.", "code")
    chart = bar_chart(
        [d["day"][5:] for d in days],
        [("arrived", text("report.visits"), [d["visits"] for d in days]),
         ("served", text("report.served"), [d["served"] for d in days])],
    )  # fmt: skip
    return render_template(
        "hq/trend.html", code=code, name=name[0], days=days, chart=chart, first=first, last=last
    )


EXPORT_COLUMNS = (
    "code", "name", "days", "visits", "served", "no_show", "no_show_percent", "transfer_percent",
    "priority_percent", "within_target_percent", "wait_mean_s", "service_mean_s", "busiest_hour",
    "rated", "satisfied_percent", "rating_mean", "told", "told_within_5min_percent",
    "told_5min_longer_percent", "sms_sent", "last_sync_at", "pending", "version",
    "catalog_version",
)  # fmt: skip


@dashboard.get("/centers.<any(csv, xlsx):kind>")
@analyst_required
def centers_export(kind: str) -> Response:
    """Download the side-by-side table as CSV or XLSX."""
    first, last = _range()
    zone = ZoneInfo(current_app.config["HQ_TIMEZONE"])
    with store().read() as conn:
        rows = [
            [_exported(c, row[c], zone) for c in EXPORT_COLUMNS]
            for row in _with_sms(conn, storage.side_by_side(conn, first, last), first, last)
        ]
    write = exports.table_csv if kind == "csv" else exports.table_xlsx
    return exports.attachment(write(EXPORT_COLUMNS, rows), f"dostq-hq-{first}-{last}.{kind}")


def _exported(column: str, value: Any, zone: ZoneInfo) -> Any:
    """Return a cell as a spreadsheet reads it: a sync time as local ISO time, not epoch."""
    if column == "last_sync_at" and value is not None:
        return datetime.fromtimestamp(value, zone).isoformat(timespec="seconds")
    return value


SERVICE_COLUMNS = (
    "code", "name", "centers", "visits", "served", "no_show_percent", "within_target_percent",
    "wait_mean_s", "service_mean_s",
)  # fmt: skip


def _services_range() -> tuple[str, str, bool]:
    """Return the range by service, cut to its last MAX_SERVICE_DAYS; True if it was cut."""
    first, last = _range()
    last_day = date.fromisoformat(last)
    if (last_day - date.fromisoformat(first)).days < storage.MAX_SERVICE_DAYS:
        return first, last, False
    return (last_day - timedelta(days=storage.MAX_SERVICE_DAYS - 1)).isoformat(), last, True


def _services(first: str, last: str) -> list[dict[str, Any]]:
    """Return every service's figures over all centers, named in the page's language."""
    with store().read() as conn:
        rows = storage.services_nationwide(conn, first, last)
        names = {s.code: s.name for area in catalog.newest_areas(conn) for s in area.services}
    shown = language.current()
    for row in rows:
        national = names.get(row["code"], {})
        row["name"] = national.get(shown) or national.get("az") or row["sent_name"] or ""
        row["national"] = bool(national) or not names  # before the first version: all are
    return rows


@dashboard.get("/services")
@analyst_required
def services() -> str:
    """Every service over all centers for a range: national codes make the sums add up."""
    first, last, cut = _services_range()
    return render_template(
        "hq/services.html", rows=_services(first, last), first=first, last=last, cut=cut
    )


@dashboard.get("/services.<any(csv, xlsx):kind>")
@analyst_required
def services_export(kind: str) -> Response:
    """Download the table by service as CSV or XLSX."""
    first, last, _ = _services_range()
    rows = [[row[c] for c in SERVICE_COLUMNS] for row in _services(first, last)]
    write = exports.table_csv if kind == "csv" else exports.table_xlsx
    name = f"dostq-hq-services-{first}-{last}.{kind}"
    return exports.attachment(write(SERVICE_COLUMNS, rows), name)
