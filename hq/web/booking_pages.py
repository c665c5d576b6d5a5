"""HQ's public booking pages: choose a center, a service and a time; cancel or move by code.

No sign-in and no script: each step is a plain page a phone shows well (center, then
service, then a day's free times and the phone number), and the booking's own page
(``/hq/book/<code>``) shows the code and its QR, which the center's kiosk reads. Every form
carries a CSRF token, and one address books at most ``HQ_BOOKINGS_PER_HOUR`` times an hour,
so nobody empties a center's slots by script.
"""

from __future__ import annotations

import time
from datetime import datetime
from itertools import groupby
from typing import Any
from zoneinfo import ZoneInfo

import qrcode
import qrcode.image.svg
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask.blueprints import BlueprintSetupState
from werkzeug.wrappers import Response

from hq import bookings
from hq.shared_limits import DatabaseRateLimit
from hq.web.context import center_key, store
from server.queue.booking_codes import pretty
from server.queue.errors import QueueError
from server.web.language import current as current_language
from server.web.language import refusal
from server.web.security import require_csrf_token

bp = Blueprint("book", __name__, url_prefix="/hq/book", template_folder="templates")


@bp.record_once
def _limit_bookings(state: BlueprintSetupState) -> None:
    # Counted in the database, so every HQ process behind a balancer counts the same.
    store = state.app.extensions["dostq.hq_store"]
    per_hour = int(state.app.config["HQ_BOOKINGS_PER_HOUR"])
    state.app.extensions["dostq.booking_limit"] = DatabaseRateLimit(store, "book", per_hour, 3600)
    per_minute = int(state.app.config["HQ_LOOKUPS_PER_MINUTE"])
    state.app.extensions["dostq.lookup_limit"] = DatabaseRateLimit(store, "look", per_minute, 60)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["HQ_TIMEZONE"])


def _days(slots: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """Group free slots by local day, each with its local time."""
    zone = _zone()
    shaped = [{**slot, "local": datetime.fromtimestamp(slot["slot_at"], zone)} for slot in slots]
    return [
        (day, list(group))
        for day, group in groupby(shaped, key=lambda s: s["local"].date().isoformat())
    ]


def _lead_s() -> float:
    """Return how long before a slot's start it can still be booked."""
    return float(current_app.config["HQ_BOOK_BEFORE_MIN"]) * 60


def _refuse_fast_booker() -> None:
    """Count a booking, move or cancel against this address's hour (each changes seats)."""
    wait_s = current_app.extensions["dostq.booking_limit"].allow(request.remote_addr)
    if wait_s:
        raise QueueError(
            "too_many_bookings", f"Too many bookings from here: try again in {wait_s:.0f} s."
        )


def _refuse_fast_lookups() -> None:
    """Count a look at a booking by its code (719 guesses a second once went unchecked)."""
    wait_s = current_app.extensions["dostq.lookup_limit"].allow(request.remote_addr)
    if wait_s:
        raise TooManyLookups(
            "too_many_lookups", f"Too many bookings looked up from here: wait {wait_s:.0f} s."
        )


class TooManyLookups(QueueError):
    """One address asks for more bookings by code than a visitor could."""

    status = 429


@bp.get("")
def choose() -> str:
    """Show the booking step the query has reached: the center, the service, then a time."""
    now = time.time()
    center, service = request.args.get("center"), request.args.get("service")
    with store().read() as conn:
        if not center:
            return render_template(
                "hq/book.html",
                step="center",
                centers=bookings.centers_taking_bookings(conn, now, _lead_s()),
            )
        name = bookings.center_name(conn, center)
        offered = bookings.services_offered(conn, center, now, _lead_s())
        chosen = next((s for s in offered if s["code"] == service), None)
        if chosen is None:
            areas = groupby(offered, key=lambda s: s["area"].get("az", ""))
            return render_template(
                "hq/book.html",
                step="service",
                center={"code": center, "name": name},
                areas=[(list(group)) for _area, group in areas],
            )
        days = _days(bookings.free_slots(conn, center, chosen["code"], now, _lead_s()))
    return render_template(
        "hq/book.html",
        step="slot",
        center={"code": center, "name": name},
        service=chosen,
        days=days,
    )


@bp.post("")
def make() -> Response:
    """Book the chosen slot for the phone number given; show the booking's code."""
    require_csrf_token()
    form = request.form
    center, service = form.get("center", ""), form.get("service", "")
    back = url_for("book.choose", center=center, service=service)
    try:
        slot_at = int(form.get("slot", ""))
    except ValueError:
        flash(refusal(QueueError("choose_slot", "Choose a time.")), "error")
        return redirect(back)
    try:
        _refuse_fast_booker()
        with store().write() as conn:
            bookings.center_name(conn, center)
            code = bookings.book(
                conn, center_key(conn, center), center, service, slot_at,
                form.get("phone", ""), time.time(), lead_s=_lead_s(), language=current_language(),
            )  # fmt: skip
    except QueueError as error:
        flash(refusal(error), "error")
        return redirect(back)
    return redirect(url_for("book.show", code=code))


@bp.get("/<code>")
def show(code: str) -> str:
    """Show a booking: its center, service, time, code and QR; cancel or move it."""
    _refuse_fast_lookups()
    now = time.time()
    with store().read() as conn:
        found = bookings.booking(conn, code)
        slots = (
            bookings.free_slots(conn, found["center"], found["service"], now, _lead_s())
            if found["state"] == "booked" and found["slot_at"] > now
            else []
        )
    return render_template(
        "hq/booking.html",
        booking=found,
        pretty_code=pretty(found["code"]),
        when=datetime.fromtimestamp(found["slot_at"], _zone()),
        days=_days([s for s in slots if s["slot_at"] != found["slot_at"]]),
    )


@bp.get("/<code>/qr.svg")
def qr(code: str) -> Response:
    """Draw a booking's QR: its page's address, which ends in the code a kiosk reads."""
    _refuse_fast_lookups()
    with store().read() as conn:
        found = bookings.booking(conn, code)
    image = qrcode.make(
        url_for("book.show", code=found["code"], _external=True),
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
    )
    return Response(image.to_string(), mimetype="image/svg+xml")


@bp.post("/<code>/cancel")
def cancel(code: str) -> Response:
    """Cancel a booking; its seat is free again."""
    require_csrf_token()
    try:
        _refuse_fast_booker()
        with store().write() as conn:
            found = bookings.cancel(conn, code, time.time())
    except QueueError as error:
        flash(refusal(error), "error")
        return redirect(url_for("book.show", code=code))
    return redirect(url_for("book.show", code=found["code"]))


@bp.post("/<code>/move")
def move(code: str) -> Response:
    """Move a booking to another free time of its service: a new code, the old cancelled."""
    require_csrf_token()
    try:
        slot_at = int(request.form.get("slot", ""))
    except ValueError:
        flash(refusal(QueueError("choose_slot", "Choose a time.")), "error")
        return redirect(url_for("book.show", code=code))
    try:
        _refuse_fast_booker()
        with store().write() as conn:
            found = bookings.booking(conn, code)
            new_code = bookings.move(
                conn,
                center_key(conn, found["center"]),
                code,
                slot_at,
                time.time(),
                lead_s=_lead_s(),
            )
    except QueueError as error:
        flash(refusal(error), "error")
        return redirect(url_for("book.show", code=code))
    return redirect(url_for("book.show", code=new_code))
