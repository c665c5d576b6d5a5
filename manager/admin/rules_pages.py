"""Administration of the rules, serial lines and appointment hours."""

from __future__ import annotations

from flask import (
    current_app,
    render_template,
    request,
)

from manager.admin.forms import (
    audited,
    bp,
    change,
    form_fields,
    names_given,
    whole_number,
)
from server.hq_link.sync import link
from server.live.counter_devices import check_line
from server.office import admin, appointments, serial_lines
from server.queue.errors import QueueError
from server.queue.facts import SerialLinesChanged
from server.settings import host_list
from server.web.auth import user_required
from server.web.language import text, weekdays
from server.web.wiring import center, counter_devices, publish


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
    with audited("category_changed", {"code": code, **form_fields()}) as conn:
        admin.set_priority_category(conn, code, names_given(), "active" in request.form)
    return text("done.category_saved", code=code)


@bp.post("/fairness")
@change("admin.rules")
def set_fairness() -> str:
    """Save the fairness rule."""
    with audited("fairness_changed", form_fields()) as conn:
        admin.set_fairness(
            conn, whole_number("priority_streak_limit"), whole_number("overdue_minutes")
        )
    return text("done.fairness_saved")


@bp.post("/service-level")
@change("admin.rules")
def set_service_level() -> str:
    """Save the service-level target the reports measure."""
    with audited("service_level_changed", form_fields()) as conn:
        admin.set_service_level(conn, whole_number("target_minutes"), whole_number("goal_percent"))
    return text("done.service_level_saved")


@bp.post("/announce")
@change("admin.rules")
def set_announce_languages() -> str:
    """Save the languages calls are spoken in."""
    languages = request.form.getlist("language")
    with audited("announce_languages_changed", {"languages": languages}) as conn:
        admin.set_announce_languages(conn, languages)
    return text("done.announce_saved")


@bp.post("/notice")
@change("admin.rules")
def set_notice() -> str:
    """Save the notice the displays scroll."""
    texts = {lang: request.form.get(f"notice_{lang}", "") for lang in ("az", "ru", "en")}
    with audited("notice_changed", texts) as conn:
        admin.set_notice(conn, texts)
    return text("done.notice_saved")


# ---- serial lines ----------------------------------------------------------------------------


@bp.get("/lines")
@user_required("manager", "admin")
def lines() -> str:
    """Show the serial lines of counter LED displays and keypads, each with its state."""
    states = {line["url"]: line for line in counter_devices().lines_status()}
    with center().store.read() as conn:
        configured = serial_lines.serial_lines(conn)
    return render_template(
        "manager/admin_lines.html",
        lines=[{**line, **states.get(line["url"], {})} for line in configured],
        bauds=serial_lines.SERIAL_BAUDS,
    )


@bp.post("/lines")
@change("admin.lines")
def add_line() -> str:
    """Add a serial line (or change its rate) and open it now."""
    with audited("serial_line_added", form_fields()) as conn:
        line = serial_lines.add_serial_line(
            conn, request.form.get("url", ""), whole_number("baudrate")
        )
        check_line(line["url"], host_list(current_app.config["SERIAL_HOSTS"]))
    publish([SerialLinesChanged()])
    return text("done.line_added", url=line["url"])


@bp.post("/lines/remove")
@change("admin.lines")
def remove_line() -> str:
    """Remove a serial line and close it now."""
    url = request.form.get("url", "")
    with audited("serial_line_removed", {"url": url}) as conn:
        serial_lines.remove_serial_line(conn, url)
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
    with audited("appointment_hours_added", form_fields()) as conn:
        appointments.add_rule(conn, rule)
    return text("done.appointment_hours_saved")


@bp.post("/appointments/<int:index>/remove")
@change("admin.appointment_hours")
def remove_appointment_hours(index: int) -> str:
    """Remove a row of appointment hours; bookings already made stay valid."""
    with audited("appointment_hours_removed", {"row": index}) as conn:
        appointments.remove_rule(conn, index)
    return text("done.appointment_hours_removed")
