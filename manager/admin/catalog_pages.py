"""Administration of the catalog: areas, services, imports, hours and the calendar."""

from __future__ import annotations

from flask import (
    g,
    make_response,
    render_template,
    request,
)
from werkzeug.wrappers import Response

from manager.admin.forms import (
    audited,
    bp,
    change,
    form_fields,
    names_given,
    whole_number,
)
from server.office import admin, holidays, national_catalog
from server.office.catalog import catalog_change, import_catalog
from server.office.catalog_files import parse_catalog_text, parse_catalog_upload
from server.queue.errors import Invalid
from server.queue.facts import QueueChanged
from server.queue.storage import audit
from server.web.auth import user_required
from server.web.language import text, weekdays
from server.web.wiring import center, publish


@bp.get("/")
@bp.get("/catalog")
@user_required("manager", "admin")
def catalog() -> str:
    """Show areas, services and opening hours, each editable."""
    with center().store.read() as conn:
        page = admin.catalog_page(conn)
        national = national_catalog.page(conn)
    c = center()
    this_year = int(c.day(c.now())[:4])
    return render_template(
        "manager/admin_catalog.html",
        **page,
        national=national,
        weekdays=weekdays(),
        this_year=this_year,
    )


@bp.post("/areas/<code>")
@change("admin.catalog")
def update_area(code: str) -> str:
    """Save one area's letter, names and whether it is open."""
    with audited("area_changed", {"area": code, **form_fields()}) as conn:
        admin.update_area(
            conn, code, request.form.get("letter", ""), names_given(), "active" in request.form
        )
    return text("done.area_saved", code=code)


@bp.post("/services/<code>")
@change("admin.catalog")
def update_service(code: str) -> str:
    """Save one service's names, target time and whether it is open."""
    with audited("service_changed", {"service": code, **form_fields()}) as conn:
        admin.update_service(
            conn, code, names_given(), whole_number("target_minutes"), "active" in request.form
        )
    return text("done.service_saved", code=code)


@bp.post("/catalog/import")
@change("admin.catalog")
def import_catalog_file() -> Response:
    """Check a full catalog (JSON or CSV) and show what importing it would change."""
    upload = request.files.get("catalog")
    filename = upload.filename if upload else None
    text, areas = parse_catalog_upload(filename, upload.read() if upload else b"")
    with center().store.read() as conn:
        change_ = catalog_change(conn, areas)
    return make_response(
        render_template(
            "manager/admin_catalog_change.html",
            change=change_,
            text=text,
            filename=filename,
        )
    )


@bp.post("/catalog/import/confirm")
@change("admin.catalog")
def confirm_catalog_import() -> str:
    """Import the catalog the admin has seen the change of; what it drops is closed."""
    filename = request.form.get("filename", "catalog.json")
    areas = parse_catalog_text(request.form.get("catalog", ""), filename)
    with audited("catalog_imported", {"file": filename}) as conn:
        done = import_catalog(conn, areas, force=request.form.get("force") == "1")
        national_catalog.imported_locally(conn)
        audit(conn, "catalog_change", center().now(), user_id=g.user.id, detail=done.counts())
    return text(
        "done.catalog_imported",
        areas=done.areas,
        services=done.services,
        added=len(done.added),
        renamed=len(done.renamed),
        closed=len(done.deactivated),
    )


@bp.post("/hours")
@change("admin.catalog")
def set_hours() -> str:
    """Save when kiosks issue tickets (the daily cut-off is the last ticket)."""
    weekdays = [int(d) for d in request.form.getlist("weekday") if d.isdigit()]
    with audited("hours_changed", form_fields()) as conn:
        value = admin.set_hours(
            conn,
            request.form.get("opens", ""),
            request.form.get("last_ticket", ""),
            weekdays,
            request.form.get("closes", ""),
        )
    return text("done.hours_saved" if value else "done.hours_any_time")


@bp.post("/catalog/national/apply")
@change("admin.catalog")
def apply_national_catalog() -> str:
    """Apply the national catalog version HQ published now, not at the next day's start."""
    with center().transaction() as (conn, now):
        version = national_catalog.ask(conn)["holds"]
        done = national_catalog.apply_held(
            conn, now, user_id=g.user.id, force=request.form.get("force") == "1"
        )
    publish((QueueChanged(),))
    return text(
        "done.national_catalog_applied",
        version=version,
        added=len(done.added),
        renamed=len(done.renamed),
        closed=len(done.deactivated),
    )


@bp.post("/calendar")
@change("admin.catalog")
def set_special_day() -> str:
    """Mark a day closed (a holiday), or give it hours of its own (a shortened day)."""
    day = request.form.get("day", "")
    with audited("calendar_changed", form_fields()) as conn:
        holidays.set_special_day(
            conn,
            day,
            request.form.get("name", ""),
            closed="closed" in request.form,
            opens=request.form.get("opens", ""),
            last_ticket=request.form.get("last_ticket", ""),
            closes=request.form.get("closes", ""),
        )
    return text("done.day_saved", day=day)


@bp.post("/calendar/<day>/remove")
@change("admin.catalog")
def remove_special_day(day: str) -> str:
    """Make a special day an ordinary one again."""
    with audited("calendar_changed", {"removed": day}) as conn:
        holidays.remove_special_day(conn, day)
    return text("done.day_ordinary", day=day)


@bp.post("/calendar/public-holidays")
@change("admin.catalog")
def add_public_holidays() -> str:
    """Add a year's fixed public holidays (the movable ones are entered by hand)."""
    year = whole_number("year")
    if not 2000 <= year <= 2999:
        raise Invalid("bad_year", "A year such as 2027.", "year")
    with audited("calendar_changed", {"public_holidays": year}) as conn:
        added = holidays.add_public_holidays(conn, year)
    return text("done.holidays_added", year=year, count=added)
