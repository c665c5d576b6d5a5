"""The waiting-room display: every call shown large and announced, in its zone."""

from __future__ import annotations

import re

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

from display.announcement import announcement
from hardware.voice import VoiceUnavailable, chime_wav, speech_wav
from server.queue.errors import NotFound
from server.queue.storage import get_setting
from server.queue.ticket_views import called_today
from server.queue.views import counter_row
from server.settings import LANGUAGES
from server.web.enrolment import enrol_view
from server.web.wiring import center

# A ticket label as issued (A-001 … Z-9999) and a counter id, in ASCII digits only.
LABEL = re.compile(r"[A-Z]-[0-9]{1,4}")
COUNTER = re.compile(r"[0-9]{1,9}")
bp = Blueprint(
    "display", __name__, url_prefix="/display", template_folder="templates", static_folder="static"
)


def _screen_or_staff() -> None:
    if g.user is None and (g.device is None or g.device.kind != "display"):
        abort(403)


@bp.get("/")
def index() -> str | Response:
    """Show the display page to an enrolled display browser (others go to enrolment)."""
    if g.device is None or g.device.kind != "display":
        return redirect(url_for("display.enrol"))
    with center().store.read() as conn:
        languages = get_setting(conn, "announce_languages", ["az"])
    return render_template("display/index.html", device=g.device, languages=",".join(languages))


@bp.route("/enrol", methods=["GET", "POST"])
def enrol() -> str | Response:
    """Enrol this browser as a display once, with the token `dostq enrol-device` printed."""
    return enrol_view("display", "display.index")


@bp.get("/notices")
def notices() -> Response:
    """Return the center's notices for the ticker, per language."""
    _screen_or_staff()
    with center().store.read() as conn:
        return jsonify(get_setting(conn, "notices", {}))


@bp.get("/chime.wav")
def chime() -> Response:
    """Return the chime played before each call."""
    return Response(chime_wav(), mimetype="audio/wav", headers={"Cache-Control": "max-age=86400"})


@bp.get("/voice.wav")
def voice() -> Response:
    """Return the spoken call for ?label=A-042&counter=<id>&lang=az (synthesised once)."""
    _screen_or_staff()
    label, language = request.args.get("label", ""), request.args.get("lang", "az")
    counter = request.args.get("counter", "")
    if language not in LANGUAGES or not LABEL.fullmatch(label) or not COUNTER.fullmatch(counter):
        abort(400)
    c = center()
    try:
        with c.store.read() as conn:
            row = counter_row(conn, int(counter))
            # Only a number called today is spoken: nothing else fills the cache.
            called = called_today(conn, c.day(c.now()), label)
    except NotFound:
        abort(404)
    if not called:
        abort(404)
    # DATA_DIR is absolute (server.settings): send_file reads a relative path against the
    # app's package folder, not the working directory, and answered 500 for every call.
    cache = current_app.config["DATA_DIR"] / "voice"
    try:
        spoken = announcement(label, row["name"], language, row["number"])
        path = speech_wav(spoken, language, cache)
    except VoiceUnavailable:
        abort(503)
    return send_file(path, mimetype="audio/wav", max_age=86400)
