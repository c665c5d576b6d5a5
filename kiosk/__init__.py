"""The visitor's touchscreen kiosk: enrolment of the kiosk browser, and its one page."""

from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from werkzeug.wrappers import Response

from hardware.voice import VoiceUnavailable, speech_wav
from kiosk.speech import MAX_PHRASE, may_speak, plain, spoken_ticket
from server.hq_link.phones import sms_offered
from server.hq_link.sync import link
from server.office import appointments, holidays
from server.office.catalog import read_catalog, service_availability, service_use
from server.queue.errors import NotFound
from server.queue.ticket_views import find_ticket
from server.queue.views import not_reached_today
from server.queue.visits import issuing_opens_at
from server.settings import LANGUAGES
from server.web.auth import device_required
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
@device_required("kiosk")
def state() -> Response:
    """Return the catalog with what is open now, for an enrolled kiosk's page (L1: no one else).

    It tells how much each service was used these 30 days: the kiosk's order, nobody's figures.
    """
    c = center()
    now = c.now()
    with c.store.read() as conn:
        catalog = read_catalog(conn)
        availability = service_availability(conn)
        late = not_reached_today(c, conn, now)
        uses = service_use(conn, c.day(now - USE_WINDOW_S))
        opens = issuing_opens_at(c, c.opening_hours(conn), now)
        today = c.day(now)
        holiday = holidays.closed_for(conn, today)
        linked = link(conn, current_app.config["DATA_DIR"]) is not None
        takes_bookings = bool(appointments.rules(conn) and linked)
        offers_sms = sms_offered(conn, current_app.config["DATA_DIR"],
                                 current_app.config["HQ_PUBLIC_URL"])  # fmt: skip
    for area in catalog["areas"]:
        for service in area["services"]:
            service.update(availability.get(service["code"], {"counters": 0, "open": 0}))
            service["uses"] = uses.get(service["code"], 0)
            service["not_today"] = service["code"] in late  # the day ends before its turn
    catalog["center"] = current_app.config["CENTER_NAME"]
    catalog["opens_at"] = opens.strftime("%d.%m %H:%M") if opens else None
    # Why not now, in words: "closed today: Novruz" beside "from 09:00"; a day's own hours
    # (a shortened day) are not a closure.
    catalog["opens_today"] = bool(opens and opens.date().isoformat() == today)
    catalog["holiday"] = holiday
    # "I have a booking" shows where bookings can exist: HQ is linked and hours are set.
    catalog["bookings"] = takes_bookings
    catalog["sms"] = offers_sms
    return jsonify(catalog)


@bp.get("/speech.wav")
def speech() -> Response:
    """Return ?text= spoken in ?lang= for the audio-guided kiosk (synthesised once, cached).

    Only for an enrolled kiosk, and only a phrase the kiosk shows (kiosk/speech.py): its own
    words, a name of the catalog, a key of its keyboard, or the sentence of a ticket it issued
    today.
    """
    if g.device is None or g.device.kind != "kiosk":
        abort(403)
    text, language = request.args.get("text", ""), request.args.get("lang", "az")
    if language not in LANGUAGES or not text.strip() or len(text) > MAX_PHRASE:
        abort(400)
    c = center()
    with c.store.read() as conn:
        allowed = may_speak(text, language, read_catalog(conn))
        label = None if allowed else spoken_ticket(text, language)
        if label is not None:
            try:
                find_ticket(conn, c.day(c.now()), label)
                allowed = True
            except NotFound:
                allowed = False
    if not allowed:
        abort(404)
    try:
        path = speech_wav(plain(text), language, current_app.config["DATA_DIR"] / "voice")
    except VoiceUnavailable:
        abort(503)
    return send_file(path, mimetype="audio/wav", max_age=86400)
