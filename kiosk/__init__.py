"""The visitor's touchscreen kiosk: enrolment of the kiosk browser, and its one page."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from server.office.catalog import read_catalog, service_availability, service_use
from server.queue.visits import issuing_opens_at
from server.web.enrolment import enrol_view
from server.web.wiring import center

# An area lists its most used services of this many days first.
USE_WINDOW_S = 30 * 24 * 3600
bp = Blueprint(
    "kiosk", __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static"
)


@bp.get("/")
def index() -> str | Response:
    """Show the kiosk page to an enrolled kiosk browser (others go to enrolment)."""
    if g.device is None or g.device.kind != "kiosk":
        return redirect(url_for("kiosk.enrol"))
    return render_template(
        "kiosk/index.html", device=g.device, idle_s=current_app.config["KIOSK_IDLE_S"]
    )


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> str | Response:
    """Enrol this browser as a kiosk once, with the token `dostq enrol-device` printed."""
    return enrol_view("kiosk", "kiosk.index")


@bp.get("/state")
def state() -> Response:
    """Return the catalog with what is open now, for the kiosk page."""
    c = center()
    now = c.now()
    with c.store.read() as conn:
        catalog = read_catalog(conn)
        availability = service_availability(conn)
        uses = service_use(conn, c.day(now - USE_WINDOW_S))
        opens = issuing_opens_at(c, c.opening_hours(conn), now)
    for area in catalog["areas"]:
        for service in area["services"]:
            service.update(availability.get(service["code"], {"counters": 0, "open": 0}))
            service["uses"] = uses.get(service["code"], 0)
    catalog["center"] = current_app.config["CENTER_NAME"]
    catalog["opens_at"] = opens.strftime("%d.%m %H:%M") if opens else None
    return jsonify(catalog)
