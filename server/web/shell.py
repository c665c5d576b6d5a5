"""The Flask shell the center and HQ share: templates, static files, cookies, errors, filters.

Both factories build their app here, so a page, an error or a cookie rule looks and behaves
the same on a center server and at headquarters.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, abort, jsonify, redirect, render_template, request, send_file, url_for
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from hardware.glyphs import FONTS
from server import VERSION
from server.office import accounts
from server.queue.errors import QueueError
from server.settings import secret_key
from server.web import security
from server.web.language import refusal
from server.web.signin_guard import FailureStore, SignInGuard

WEB_DIR = Path(__file__).parent
FONT_NAME = re.compile(r"DejaVu[A-Za-z-]{0,40}")
log = logging.getLogger("dostq")


def behind_proxies(app: Flask, hops: int) -> None:
    """Read the client's address from X-Forwarded-For/-Proto, set by ``hops`` proxies in front.

    Outermost, after Socket.IO and the socket gate, so every limit, lock and log sees the
    client, not the proxy. With no proxy (0, the default) the headers are never trusted: a
    client could name any address it liked.
    """
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]


def build_app(
    import_name: str,
    values: dict[str, Any],
    data_dir: Path,
    cookie_name: str,
    api_prefix: str,
    timezone: ZoneInfo,
    failures: FailureStore | None = None,
) -> Flask:
    """Return a Flask app with the shared templates and static files, security and errors.

    ``values`` are the resolved settings; ``api_prefix`` is where errors answer in JSON;
    ``failures`` where sign-in failures are kept (this process's memory by default).
    """
    app = Flask(
        import_name,
        template_folder=str(WEB_DIR / "templates"),
        static_folder=str(WEB_DIR / "static"),
    )
    app.config.update(values)
    if not app.config.get("SECRET_KEY"):  # Flask's default is None, so setdefault won't do
        app.config["SECRET_KEY"] = secret_key(data_dir)
    tls = bool(app.config.get("TLS"))
    app.config.update(
        SESSION_COOKIE_NAME=f"__Host-{cookie_name}" if tls else cookie_name,
        SESSION_COOKIE_SECURE=tls,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),  # one working day
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # DefaultJSONProvider's
    security.init_app(app)
    accounts.use_password_profile(values["PASSWORD_PROFILE"])
    app.extensions["dostq.signin_guard"] = SignInGuard(
        int(values["SIGNIN_MAX_FAILURES"]), float(values["SIGNIN_LOCK_S"]), failures=failures
    )
    app.add_template_filter(duration)
    app.add_template_filter(lambda at: local_clock(at, timezone), "clock")
    app.jinja_env.globals["version"] = VERSION  # in every staff page's footer

    def on_refusal(error: QueueError) -> tuple[Response | str, int] | Response:
        if error.status == 401 and not request.path.startswith(api_prefix):
            return redirect(url_for("auth.login", next=request.path))
        if (
            request.method == "GET"
            and request.accept_mimetypes.accept_html
            and not (request.path.startswith(api_prefix) or request.path.endswith(".json"))
        ):  # a page opened in a browser (a clerk at /manager/ saw a bare JSON body)
            return render_template("refused.html", why=refusal(error)), error.status
        return error_json(error)

    def on_http_error(error: HTTPException) -> Response | HTTPException:
        return http_error_json(error) if request.path.startswith(api_prefix) else error

    def on_storage_failure(error: Exception) -> tuple[Response, int]:
        # A full disk, a read-only file, an I/O error: said in the user's language, logged
        # once with the cause; never Flask's English 500 page. Nothing was acknowledged.
        log.error("The database refused a request (%s %s): %s", request.method,
                  request.path, error)  # fmt: skip
        refused = StorageUnavailable(
            "storage_unavailable", "The center cannot save right now: try again in a minute."
        )
        if request.path.startswith(api_prefix):
            return error_json(refused)
        return Response(refusal(refused), mimetype="text/plain"), refused.status

    # The bundled DejaVu font, for every page of either app (tokens.css asks /fonts/…): no web
    # fonts, and ə renders on every screen. HQ's pages asked for it and got 404.
    @app.get("/fonts/<name>.ttf")
    def font(name: str) -> Response:
        path = FONTS / f"{name}.ttf"
        if not FONT_NAME.fullmatch(name) or not path.is_file():
            abort(404)
        return send_file(path, mimetype="font/ttf", max_age=86400)

    app.register_error_handler(QueueError, on_refusal)
    app.register_error_handler(HTTPException, on_http_error)
    app.register_error_handler(sqlite3.OperationalError, on_storage_failure)
    return app


class StorageUnavailable(QueueError):
    """The database takes no writes now (disk full, read-only, I/O error)."""

    status = 503


def duration(seconds: float | None) -> str:
    """Show a span of seconds as m:ss, or h:mm:ss from an hour on (– for none)."""
    if seconds is None:
        return "–"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def local_clock(at: float, timezone: ZoneInfo) -> str:
    """Show an epoch time as the local date and time."""
    return datetime.fromtimestamp(at, timezone).strftime("%Y-%m-%d %H:%M")


def error_json(error: QueueError) -> tuple[Response, int]:
    """Answer a refused request as ``{"error": {code, message, field}}`` with its status.

    ``detail`` is added when the refusal has facts a screen shows in its own words.
    """
    body: dict[str, Any] = {"code": error.code, "message": error.message, "field": error.field}
    if error.detail:
        body["detail"] = error.detail
    return jsonify({"error": body}), error.status


def http_error_json(error: HTTPException) -> Response:
    """Answer an HTTP error (404, 405, 413...) in the same JSON shape as a refusal."""
    response = error.get_response()
    response.data = jsonify(
        {
            "error": {
                "code": (error.name or "error").lower().replace(" ", "_"),
                "message": error.description or error.name,
                "field": None,
            }
        }
    ).get_data()
    response.content_type = "application/json"
    return response
