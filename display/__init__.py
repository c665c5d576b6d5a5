"""The waiting-room display: every call shown large and announced, in its zone."""

from __future__ import annotations

from pathlib import Path

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

from display.announcement import LANGUAGES, announcement
from display.voice import VoiceUnavailable, chime_wav, speech_wav
from server.queue.storage import get_setting
from server.web.auth import center
from server.web.enrolment import enrol_view

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
    if language not in LANGUAGES or not label.partition("-")[2].isdigit():
        abort(400)
    with center().store.read() as conn:
        row = conn.execute(
            "SELECT name FROM counters WHERE id = ?", (request.args.get("counter", type=int),)
        ).fetchone()
    if row is None:
        abort(404)
    cache = Path(current_app.config["DATA_DIR"]) / "voice"
    try:
        path = speech_wav(announcement(label, row["name"], language), language, cache)
    except VoiceUnavailable:
        abort(503)
    return send_file(path, mimetype="audio/wav", max_age=86400)
