"""Enrolling a kiosk or display browser: its device token becomes a long-lived cookie."""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from server.office import accounts
from server.settings import DEVICE_COOKIE
from server.web.security import csrf
from server.web.wiring import center

TEN_YEARS_S = 10 * 365 * 24 * 3600


def enrol_view(kind: str, home_endpoint: str) -> str | Response:
    """Show the enrolment form; on a valid token of ``kind``, set the cookie and go home."""
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
            if device is not None and device.kind == kind:
                response = redirect(url_for(home_endpoint))
                # HttpOnly: page scripts never see it; Strict: no other site can send it.
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
    return render_template("enrol.html", kind=kind, error=error)
