"""Administration of counters, staff and devices."""

from __future__ import annotations

from flask import (
    current_app,
    g,
    make_response,
    render_template,
    request,
)
from werkzeug.wrappers import Response

from hardware.profiles import PROFILE_NAMES
from manager.admin.forms import (
    audited,
    bp,
    change,
    counter_weights,
    form_fields,
    whole_number,
)
from server.live.printing import check_printer
from server.office import accounts, admin
from server.queue import breaks
from server.queue.desk import BREAK_MINUTES
from server.queue.errors import Invalid
from server.queue.facts import DeviceRevoked, SessionsEnded
from server.web.auth import user_required
from server.web.language import text
from server.web.wiring import center, publish


@bp.get("/counters")
@user_required("manager", "admin")
def counters() -> str:
    """Show each counter, its hall, the services it serves with weights, and its categories."""
    with center().store.read() as conn:
        page = admin.counters_page(conn)
        page["waves"] = breaks.break_waves(conn)
    return render_template("manager/admin_counters.html", **page, break_minutes=BREAK_MINUTES)


@bp.post("/counters")
@change("admin.counters")
def create_counter() -> str:
    """Create a counter serving the ticked services."""
    name = request.form.get("name", "").strip()
    if not name:
        raise Invalid("name_required", "A counter needs a name.", "name")
    with audited("counter_created", {"name": name}) as conn:
        weights = counter_weights(conn)
        if not weights:
            raise Invalid("no_services", "A counter serves at least one service.")
        accounts.create_counter(conn, name, weights, request.form.get("zone") or "main")
    return text("done.counter_created", name=name)


@bp.post("/counters/<id:counter_id>")
@change("admin.counters")
def update_counter(counter_id: int) -> str:
    """Save a counter's hall, services with weights and categories."""
    categories = request.form.getlist("category") or None
    with audited("counter_changed", {"counter": counter_id, **form_fields()}) as conn:
        number = request.form.get("number", "").strip()
        admin.set_counter(conn, counter_id, request.form.get("zone", ""), counter_weights(conn),
                          categories, whole_number("number") if number else None)  # fmt: skip
    return text("done.counter_saved")


@bp.post("/break-waves")
@change("admin.counters")
def save_break_wave() -> str:
    """Add a break wave, or change the one at ``position``: when, how long, which counters."""
    position = request.form.get("position", "")
    counters = [int(c) for c in request.form.getlist("counter") if c.isdigit()]
    with audited("break_wave_saved", form_fields()) as conn:
        wave = breaks.save_break_wave(conn, whole_number("position") if position else None,
                                      request.form.get("starts", ""), whole_number("minutes"),
                                      counters)  # fmt: skip
    return text("done.break_wave_saved", starts=wave.starts.strftime("%H:%M"))


@bp.post("/break-waves/remove")
@change("admin.counters")
def remove_break_wave() -> str:
    """Remove a break wave."""
    with audited("break_wave_removed", form_fields()) as conn:
        wave = breaks.remove_break_wave(conn, whole_number("position"))
    return text("done.break_wave_removed", starts=wave.starts.strftime("%H:%M"))


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
    with audited("user_created", {"username": username, "role": role}) as conn:
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
    with audited("user_changed", detail) as conn:
        now = center().now()
        facts = admin.update_user(conn, user_id, request.form.get("display_name", ""), role,
                                  "active" in request.form, now, center().day(now))  # fmt: skip
    publish(facts)  # a changed role or a disabled user: their open sockets close now
    return text("done.user_saved")


@bp.post("/users/<id:user_id>/password")
@change("admin.people")
def reset_password(user_id: int) -> str:
    """Give a staff member a new password (their open sessions end)."""
    _may_manage("", user_id)
    with audited("password_reset", {"user": user_id}) as conn:
        accounts.set_password(conn, user_id, request.form.get("password", ""))
    publish([SessionsEnded(user_id)])
    return text("done.password_changed")


@bp.post("/users/<id:user_id>/unlock")
@change("admin.people")
def unlock_sign_in(user_id: int) -> str:
    """Let a member of staff locked out by wrong passwords sign in again at once."""
    _may_manage("", user_id)
    with audited("sign_in_unlocked", {"user": user_id}) as conn:
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
    with audited("device_enrolled", {"name": name, "kind": kind}) as conn:
        token = accounts.enrol_device(
            conn,
            name,
            kind,
            center().now(),
            request.form.get("zone") or None,
            prints="prints" in request.form,
            printer=printer,
            printer_profile=profile,
            # A feedback tablet's counter; the form sends one with every kind.
            counter_id=int(counter) if kind == "feedback" and counter.isdigit() else None,
        )
    return make_response(render_template("manager/admin_token.html", name=name, token=token))


@bp.post("/devices/<id:device_id>")
@change("admin.people")
def update_device(device_id: int) -> str:
    """Move a device to another hall, or revoke its token."""
    detail = {"device": device_id, **form_fields()}
    with audited("device_changed", detail) as conn:
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
    with audited("device_token_replaced", {"device": device_id}) as conn:
        token, name = accounts.replace_device_token(conn, device_id)
    publish([DeviceRevoked(device_id)])  # the old token's sockets close now
    return make_response(render_template("manager/admin_token.html", name=name, token=token))
