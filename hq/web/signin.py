"""HQ's sign-in and sign-out for analysts and admins."""

from __future__ import annotations

import time

from flask import Blueprint, flash, g, redirect, render_template, request, session, url_for
from werkzeug.wrappers import Response

from hq.web.context import store
from server.office import accounts
from server.web.auth import TooManyAttempts, safe_next, sign_in_to
from server.web.language import refusal, text

# Named "auth" so the center's CSRF rule for sign-in forms covers this one too.
auth = Blueprint("auth", __name__, url_prefix="/hq")


@auth.route("/login", methods=["GET", "POST"])
def login() -> str | tuple[str, int] | Response:
    """Analysts' sign-in; an analyst already signed in goes on to the dashboard."""
    if request.method == "GET" and g.user is not None and g.user.role in ("manager", "admin"):
        return redirect(safe_next(url_for("hq.centers")))
    if request.method == "POST":
        form = request.form
        try:
            user = sign_in_to(
                store(), time.time(), form.get("username", ""), form.get("password", "")
            )
        except TooManyAttempts as refused:
            flash(refusal(refused), "error")
            return render_template("login.html", layout="hq/_base.html"), 429
        if user is not None:
            return redirect(safe_next(url_for("hq.centers")))
        flash(text("login.wrong"), "error")
    return render_template("login.html", layout="hq/_base.html")


@auth.post("/logout")
def logout() -> Response:
    """Sign out everywhere."""
    if g.user is not None:
        with store().write() as conn:
            accounts.end_sessions(conn, g.user.id)
    session.clear()
    return redirect(url_for("auth.login"))
