"""The clerk's counter page: one page for a whole day of calls, served by the JSON API."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from server.office.catalog import read_catalog
from server.queue.feedback import REASONS
from server.queue.views import counter_row
from server.settings import LANGUAGES
from server.web.auth import COUNTER_ROLES, user_required
from server.web.enrolment import enrol_view
from server.web.language import catalog as texts_in
from server.web.wiring import center

bp = Blueprint(
    "counter", __name__, url_prefix="/counter", template_folder="templates", static_folder="static"
)


@bp.get("/")
@user_required()
def index() -> str | Response:
    """Show the counter page to a signed-in member of staff (a volunteer goes to reception)."""
    if g.user.role not in COUNTER_ROLES:
        return redirect(url_for("reception.index"))
    return render_template("counter/index.html")


@bp.get("/catalog")
@user_required()
def catalog() -> Response:
    """Return the catalog the page needs to name services and categories."""
    with center().store.read() as conn:
        return jsonify(read_catalog(conn))


@bp.get("/feedback")
def feedback_tablet() -> str | Response:
    """Show the feedback tablet of a counter: idle, then the question after each finished visit.

    The visitor answers in the language they chose at the kiosk, so the page carries the
    question in all three.
    """
    if g.device is None or g.device.kind != "feedback" or g.device.counter_id is None:
        return redirect(url_for("counter.enrol_feedback_tablet"))
    with center().store.read() as conn:
        counter = counter_row(conn, g.device.counter_id)
    texts = {
        language: {k: v for k, v in texts_in(language).items() if k.startswith("feedback.")}
        for language in LANGUAGES
    }
    return render_template(
        "counter/feedback.html", counter=counter["name"], reasons=REASONS, texts=texts
    )


@bp.route("/feedback/enrol", methods=["GET", "POST"])
def enrol_feedback_tablet() -> str | Response:
    """Enrol this browser as a counter's feedback tablet, with its token."""
    return enrol_view("feedback", "counter.feedback_tablet")
