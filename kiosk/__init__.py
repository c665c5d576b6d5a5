"""The visitor's touchscreen kiosk: enrolment of the kiosk browser, and its one page."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, current_app, g, jsonify, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from server import accounts
from server.auth import DEVICE_COOKIE, center
from server.catalog import read_catalog, service_availability
from server.engine import OpeningHours, next_issuing_time
from server.security import csrf
from server.storage import get_setting

bp = Blueprint(
    "kiosk", __name__, url_prefix="/kiosk", template_folder="templates", static_folder="static"
)
LANGUAGES = ("az", "ru", "en")
TEN_YEARS_S = 10 * 365 * 24 * 3600


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
    error = None
    if request.method == "POST":
        try:
            csrf.protect()
        except CSRFError:
            error = "csrf"
        else:
            token = request.form.get("token", "").strip()
            with center().store.read() as conn:
                device = accounts.device_for_token(conn, token) if token else None
            if device is not None and device.kind == "kiosk":
                response = redirect(url_for("kiosk.index"))
                response.set_cookie(
                    DEVICE_COOKIE,
                    token,
                    max_age=TEN_YEARS_S,
                    httponly=True,
                    samesite="Strict",
                    secure=bool(current_app.config["TLS"]),
                )
                return response
            error = "token"
    return render_template("kiosk/enrol.html", error=error)


@bp.get("/state")
def state() -> Response:
    """Return the catalog with what is open now, for the kiosk page."""
    with center().store.read() as conn:
        catalog = read_catalog(conn)
        availability = service_availability(conn)
    for area in catalog["areas"]:
        for service in area["services"]:
            service.update(availability.get(service["code"], {"counters": 0, "open": 0}))
        hours = OpeningHours.from_setting(get_setting(conn, "hours", None))
    opens = next_issuing_time(hours, datetime.fromtimestamp(center().now(), center().timezone))
    catalog["center"] = current_app.config["CENTER_NAME"]
    catalog["opens_at"] = opens.strftime("%d.%m %H:%M") if opens else None
    return jsonify(catalog)
