"""Administration pages: catalog, counters, staff and devices, rules. Thin forms over server.admin.

Every change runs in one transaction with its audit row; a refused change comes back to the
same page with the reason, and the page keeps what was stored.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import wraps
from typing import Any, TypeVar

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers import Response

from hardware.profiles import PROFILE_NAMES
from server.hq_link.sync import link
from server.live.printing import check_printer
from server.office import accounts, admin, appointments, holidays, national_catalog
from server.office.catalog import (
    catalog_change,
    import_catalog,
    parse_catalog_text,
    parse_catalog_upload,
)
from server.queue.errors import Invalid, QueueError
from server.queue.facts import DeviceRevoked, QueueChanged, SerialLinesChanged, SessionsEnded
from server.queue.storage import audit
from server.web.auth import user_required
from server.web.language import refusal, text, weekdays
from server.web.wiring import center, counter_devices, publish

bp = Blueprint("admin", __name__, url_prefix="/manager/admin", template_folder="templates")
F = TypeVar("F", bound=Callable[..., Any])


def change(page: str) -> Callable[[F], F]:
    """Run a form's change for managers and admins; on refusal, flash why and show ``page``."""

    def decorator(view: F) -> F:
        @wraps(view)
        @user_required("manager", "admin")
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                message = view(*args, **kwargs)
            except QueueError as error:
                flash(text("admin.not_changed", why=refusal(error)), "error")
                return redirect(url_for(page))
            if isinstance(message, str):
                flash(message, "done")
                return redirect(url_for(page))
            return message

        return wrapped  # type: ignore[return-value]

    return decorator


@contextmanager
def _audited(action: str, detail: dict[str, Any]) -> Iterator[sqlite3.Connection]:
    """Run a change as one transaction that also writes its audit row (none if it fails)."""
    with center().transaction() as (conn, now):
        yield conn
        audit(conn, action, now, user_id=g.user.id, detail=detail, remote_addr=request.remote_addr)


def _form() -> dict[str, Any]:
    """Return the submitted fields fit for the audit log: no CSRF token, no password."""
    return {
        key: values if len(values) > 1 else values[0]
        for key, values in request.form.lists()
        if key not in ("csrf_token", "password")
    }


def _names(prefix: str = "name") -> dict[str, str]:
    return {lang: request.form.get(f"{prefix}_{lang}", "") for lang in ("az", "ru", "en")}


def _int(field: str) -> int:
    try:
        return int(request.form.get(field, ""))
    except ValueError as exc:
        raise Invalid("not_a_number", f"{field} must be a whole number.", field) from exc


def _weight(code: str) -> float:
    raw = request.form.get(f"weight_{code}") or "1"
    try:
        return float(raw)
    except ValueError as exc:
        raise Invalid("bad_weight", f"The weight of {code} must be a number.") from exc


def _weights(conn: sqlite3.Connection) -> dict[str, float]:
    """Read what a counter serves: the ticked services with their weights, and whole areas.

    Ticking an area (or "all services") that was not ticked adds all its services; unticking
    one that was removes them; otherwise each service's own box decides, so a service of an
    area served whole can still be left out (an exception).
    """
    weights = {code: _weight(code) for code in request.form.getlist("service")}
    areas = admin.services_by_area(conn)
    groups = {f"area_{code}": codes for code, codes in areas.items()}
    groups["all"] = [code for codes in areas.values() for code in codes]
    ticked = set(request.form.getlist("group"))
    for group, codes in groups.items():
        was = request.form.get(f"was_{group}") == "1"
        if group in ticked and not was:
            weights.update({code: weights.get(code) or _weight(code) for code in codes})
        elif was and group not in ticked:
            for code in codes:
                weights.pop(code, None)
    return weights


# ---- catalog ---------------------------------------------------------------------------------


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
    with _audited("area_changed", {"area": code, **_form()}) as conn:
        admin.update_area(
            conn, code, request.form.get("letter", ""), _names(), "active" in request.form
        )
    return text("done.area_saved", code=code)


@bp.post("/services/<code>")
@change("admin.catalog")
def update_service(code: str) -> str:
    """Save one service's names, target time and whether it is open."""
    with _audited("service_changed", {"service": code, **_form()}) as conn:
        admin.update_service(conn, code, _names(), _int("target_minutes"), "active" in request.form)
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
    with _audited("catalog_imported", {"file": filename}) as conn:
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
    with _audited("hours_changed", _form()) as conn:
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
    with _audited("calendar_changed", _form()) as conn:
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
    with _audited("calendar_changed", {"removed": day}) as conn:
        holidays.remove_special_day(conn, day)
    return text("done.day_ordinary", day=day)


@bp.post("/calendar/public-holidays")
@change("admin.catalog")
def add_public_holidays() -> str:
    """Add a year's fixed public holidays (the movable ones are entered by hand)."""
    year = _int("year")
    if not 2000 <= year <= 2999:
        raise Invalid("bad_year", "A year such as 2027.", "year")
    with _audited("calendar_changed", {"public_holidays": year}) as conn:
        added = holidays.add_public_holidays(conn, year)
    return text("done.holidays_added", year=year, count=added)


# ---- counters --------------------------------------------------------------------------------


@bp.get("/counters")
@user_required("manager", "admin")
def counters() -> str:
    """Show each counter, its hall, the services it serves with weights, and its categories."""
    with center().store.read() as conn:
        page = admin.counters_page(conn)
    return render_template("manager/admin_counters.html", **page)


@bp.post("/counters")
@change("admin.counters")
def create_counter() -> str:
    """Create a counter serving the ticked services."""
    name = request.form.get("name", "").strip()
    if not name:
        raise Invalid("name_required", "A counter needs a name.", "name")
    with _audited("counter_created", {"name": name}) as conn:
        weights = _weights(conn)
        if not weights:
            raise Invalid("no_services", "A counter serves at least one service.")
        accounts.create_counter(conn, name, weights, request.form.get("zone") or "main")
    return text("done.counter_created", name=name)


@bp.post("/counters/<id:counter_id>")
@change("admin.counters")
def update_counter(counter_id: int) -> str:
    """Save a counter's hall, services with weights and categories."""
    categories = request.form.getlist("category") or None
    with _audited("counter_changed", {"counter": counter_id, **_form()}) as conn:
        admin.set_counter(
            conn, counter_id, request.form.get("zone", ""), _weights(conn), categories
        )
    return text("done.counter_saved")


# ---- staff and devices -----------------------------------------------------------------------


@bp.get("/people")
@user_required("manager", "admin")
def people() -> str:
    """Show staff accounts and enrolled devices."""
    with center().store.read() as conn:
        page = admin.people_page(conn)
    return render_template(
        "manager/admin_people.html",
        **page,
        roles=accounts.ROLES,
        device_kinds=accounts.DEVICE_KINDS,
        profiles=PROFILE_NAMES,
    )


def _may_manage(role: str, user_id: int | None = None) -> None:
    with center().store.read() as conn:
        admin.check_may_manage(conn, g.user, role, user_id)


@bp.post("/users")
@change("admin.people")
def create_user() -> str:
    """Create a staff account."""
    username, role = request.form.get("username", ""), request.form.get("role", "")
    _may_manage(role)
    with _audited("user_created", {"username": username, "role": role}) as conn:
        accounts.create_user(
            conn,
            username,
            request.form.get("password", ""),
            role,
            center().now(),
            request.form.get("display_name") or None,
        )
    return text("done.user_created", username=username)


@bp.post("/users/<id:user_id>")
@change("admin.people")
def update_user(user_id: int) -> str:
    """Save a staff member's name, role and whether they may sign in."""
    role = request.form.get("role", "")
    _may_manage(role, user_id)
    detail = {"user": user_id, "role": role, "active": "active" in request.form}
    with _audited("user_changed", detail) as conn:
        facts = admin.update_user(
            conn, user_id, request.form.get("display_name", ""), role, "active" in request.form
        )
    publish(facts)  # a changed role or a disabled user: their open sockets close now
    return text("done.user_saved")


@bp.post("/users/<id:user_id>/password")
@change("admin.people")
def reset_password(user_id: int) -> str:
    """Give a staff member a new password (their open sessions end)."""
    _may_manage("", user_id)
    with _audited("password_reset", {"user": user_id}) as conn:
        accounts.set_password(conn, user_id, request.form.get("password", ""))
    publish([SessionsEnded(user_id)])
    return text("done.password_changed")


@bp.post("/users/<id:user_id>/unlock")
@change("admin.people")
def unlock_sign_in(user_id: int) -> str:
    """Let a member of staff locked out by wrong passwords sign in again at once."""
    _may_manage("", user_id)
    with _audited("sign_in_unlocked", {"user": user_id}) as conn:
        username = accounts.username_of(conn, user_id)
        current_app.extensions["dostq.signin_guard"].unlock(username)
    return text("done.unlocked", username=username)


@bp.post("/devices")
@change("admin.people")
def enrol_device() -> Response:
    """Enrol a kiosk, display or feedback tablet and show its token this once."""
    name, kind = request.form.get("name", "").strip(), request.form.get("kind", "")
    counter = request.form.get("counter", "")
    if not name:
        raise Invalid("name_required", "A device needs a name.", "name")
    printer, profile = request.form.get("printer") or None, request.form.get("profile", "TM-T20II")
    check_printer(printer, profile, current_app.config["DATA_DIR"])
    with _audited("device_enrolled", {"name": name, "kind": kind}) as conn:
        token = accounts.enrol_device(
            conn,
            name,
            kind,
            center().now(),
            request.form.get("zone") or None,
            prints="prints" in request.form,
            printer=printer,
            print_mode=request.form.get("print_mode") or "text",
            printer_profile=profile,
            # A feedback tablet's counter; the form sends one with every kind.
            counter_id=int(counter) if kind == "feedback" and counter.isdigit() else None,
        )
    return make_response(render_template("manager/admin_token.html", name=name, token=token))


@bp.post("/devices/<id:device_id>")
@change("admin.people")
def update_device(device_id: int) -> str:
    """Move a device to another hall, or revoke its token."""
    detail = {"device": device_id, **_form()}
    with _audited("device_changed", detail) as conn:
        facts = admin.update_device(
            conn,
            device_id,
            request.form.get("name", ""),
            request.form.get("zone"),
            "active" in request.form,
        )
    publish(facts)  # revoked (or moved): its open sockets close now
    return text("done.device_saved")


@bp.post("/devices/<id:device_id>/token")
@change("admin.people")
def replace_device_token(device_id: int) -> Response:
    """Issue a new token for a device (a replaced PC); the old one stops working at once."""
    with _audited("device_token_replaced", {"device": device_id}) as conn:
        token, name = accounts.replace_device_token(conn, device_id)
    publish([DeviceRevoked(device_id)])  # the old token's sockets close now
    return make_response(render_template("manager/admin_token.html", name=name, token=token))


# ---- rules -----------------------------------------------------------------------------------


@bp.get("/rules")
@user_required("manager", "admin")
def rules() -> str:
    """Show priority categories, the fairness rule, the service level and the display notice."""
    c = center()
    with c.store.read() as conn:
        page = admin.rules_page(conn, c.fairness(conn))
    return render_template("manager/admin_rules.html", **page)


@bp.post("/categories")
@change("admin.rules")
def set_category() -> str:
    """Add or change a priority category."""
    code = request.form.get("code", "")
    with _audited("category_changed", {"code": code, **_form()}) as conn:
        admin.set_priority_category(conn, code, _names(), "active" in request.form)
    return text("done.category_saved", code=code)


@bp.post("/fairness")
@change("admin.rules")
def set_fairness() -> str:
    """Save the fairness rule."""
    with _audited("fairness_changed", _form()) as conn:
        admin.set_fairness(conn, _int("priority_streak_limit"), _int("overdue_minutes"))
    return text("done.fairness_saved")


@bp.post("/service-level")
@change("admin.rules")
def set_service_level() -> str:
    """Save the service-level target the reports measure."""
    with _audited("service_level_changed", _form()) as conn:
        admin.set_service_level(conn, _int("target_minutes"), _int("goal_percent"))
    return text("done.service_level_saved")


@bp.post("/announce")
@change("admin.rules")
def set_announce_languages() -> str:
    """Save the languages calls are spoken in."""
    languages = request.form.getlist("language")
    with _audited("announce_languages_changed", {"languages": languages}) as conn:
        admin.set_announce_languages(conn, languages)
    return text("done.announce_saved")


@bp.post("/notice")
@change("admin.rules")
def set_notice() -> str:
    """Save the notice the displays scroll."""
    texts = {lang: request.form.get(f"notice_{lang}", "") for lang in ("az", "ru", "en")}
    with _audited("notice_changed", texts) as conn:
        admin.set_notice(conn, texts)
    return text("done.notice_saved")


# ---- serial lines ----------------------------------------------------------------------------


@bp.get("/lines")
@user_required("manager", "admin")
def lines() -> str:
    """Show the serial lines of counter LED displays and keypads, each with its state."""
    states = {line["url"]: line for line in counter_devices().lines_status()}
    with center().store.read() as conn:
        configured = admin.serial_lines(conn)
    return render_template(
        "manager/admin_lines.html",
        lines=[{**line, **states.get(line["url"], {})} for line in configured],
        bauds=admin.SERIAL_BAUDS,
    )


@bp.post("/lines")
@change("admin.lines")
def add_line() -> str:
    """Add a serial line (or change its rate) and open it now."""
    with _audited("serial_line_added", _form()) as conn:
        line = admin.add_serial_line(conn, request.form.get("url", ""), _int("baudrate"))
    publish([SerialLinesChanged()])
    return text("done.line_added", url=line["url"])


@bp.post("/lines/remove")
@change("admin.lines")
def remove_line() -> str:
    """Remove a serial line and close it now."""
    url = request.form.get("url", "")
    with _audited("serial_line_removed", {"url": url}) as conn:
        admin.remove_serial_line(conn, url)
    publish([SerialLinesChanged()])
    return text("done.line_removed", url=url)


@bp.post("/lines/test")
@change("admin.lines")
def test_line() -> str:
    """Show 888 on every counter's LED display of a line, to see each one lights up."""
    url = request.form.get("url", "")
    with center().store.read() as conn:
        counter_ids = [row[0] for row in conn.execute("SELECT id FROM counters ORDER BY id")]
    if not counter_devices().test_line(url, counter_ids):
        raise QueueError("line_not_open", f"The line {url[:200]} is not open now.", "url")
    return text("done.line_tested", url=url, count=len(counter_ids))


# ---- appointments ----------------------------------------------------------------------------


@bp.get("/appointments")
@user_required("manager", "admin")
def appointment_hours() -> str:
    """Show the hours each service takes appointments, and the slots they give HQ to book."""
    c = center()
    now = c.now()
    with c.store.read() as conn:
        rows = appointments.rules(conn)
        offered = appointments.slots(conn, c.opening_hours(conn), c.timezone, now)
        linked = link(conn, current_app.config["DATA_DIR"]) is not None
        services = admin.services_by_area(conn)
    return render_template(
        "manager/admin_appointments.html",
        rows=rows,
        slots=len(offered),
        seats=sum(slot["seats"] for slot in offered),
        linked=linked,
        services=[code for codes in services.values() for code in codes],
        weekday_names=weekdays(),
    )


@bp.post("/appointments")
@change("admin.appointment_hours")
def add_appointment_hours() -> str:
    """Add hours in which a service takes appointments."""
    rule = {
        "service": request.form.get("service", ""),
        "weekdays": request.form.getlist("weekday"),
        "from": request.form.get("from", ""),
        "until": request.form.get("until", ""),
        "slot_min": request.form.get("slot_min", ""),
        "seats": request.form.get("seats", ""),
    }
    with _audited("appointment_hours_added", _form()) as conn:
        appointments.add_rule(conn, rule)
    return text("done.appointment_hours_saved")


@bp.post("/appointments/<int:index>/remove")
@change("admin.appointment_hours")
def remove_appointment_hours(index: int) -> str:
    """Remove a row of appointment hours; bookings already made stay valid."""
    with _audited("appointment_hours_removed", {"row": index}) as conn:
        appointments.remove_rule(conn, index)
    return text("done.appointment_hours_removed")
