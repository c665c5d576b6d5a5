"""The clerk's counter page: one page for a whole day of calls, served by the JSON API."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, redirect, render_template, url_for
from werkzeug.wrappers import Response

from server.office.catalog import read_catalog
from server.web.auth import COUNTER_ROLES, user_required
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
