"""Enrolling a kiosk or display browser: its device token becomes a long-lived cookie."""

from __future__ import annotations

from flask import redirect, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.wrappers import Response

from server.office import accounts
from server.web.auth import keep_device_cookie
from server.web.security import csrf
from server.web.wiring import center


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
                return keep_device_cookie(response, token)
            error = "token"
    return render_template("enrol.html", kind=kind, error=error)
