"""The application factory: the one place that knows every part and wires them together."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, jsonify, redirect, render_template, request, url_for
from flask_socketio import SocketIO
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from counter import bp as counter_bp
from display import bp as display_bp
from kiosk import bp as kiosk_bp
from manager import bp as manager_bp
from manager.admin import bp as admin_bp
from server.hq_link.sync import SyncWorker
from server.live.counter_devices import CounterDevices
from server.live.events import Events, register_handlers
from server.live.printing import PrintService
from server.queue.center import Center
from server.queue.engine import QueueError
from server.queue.storage import Store
from server.web import auth, security
from server.web.api import bp as api_bp
from server.web.pages import bp as pages_bp
from server.web.ratelimit import RateLimit

# Every setting, its default and what it means (also listed in README "Configuration").
DEFAULTS: dict[str, Any] = {
    "DATA_DIR": "data",  # where dostq.db and secret_key live
    "CENTER_NAME": "DOST",  # shown on pages and tickets
    "TIMEZONE": "Asia/Baku",  # the center's day starts at local midnight
    "TLS": False,  # serving HTTPS: cookies become Secure and __Host- prefixed
    "UNCONFIRMED_AFTER_S": 120,  # flag a ticket never confirmed printed after this long
    "KIOSK_TICKETS_PER_MINUTE": 20,  # more from one kiosk is a stuck screen or a prank
    "KIOSK_IDLE_S": 30,  # a kiosk screen left untouched this long goes back to the start
    "PRINT_GIVE_UP_S": 20,  # how long a job waits for a printer that is down
    "HQ_SYNC_POLL_S": 15,  # how often the HQ sender looks for changed days when idle
    "HQ_RETRY_MAX_S": 300,  # the longest wait between tries while HQ is unreachable
    "HQ_SYNC_BATCH_DAYS": 30,  # days per request to HQ (a day is ~10 KB)
}


def secret_key(data_dir: Path) -> str:
    """Return the center's session-signing key, created once (mode 0600) in the data dir."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a center server app; ``config`` overrides defaults and ``DOSTQ_*`` variables."""
    app = Flask(__name__, template_folder="web/templates", static_folder="web/static")
    app.config.update(DEFAULTS)
    app.config.from_prefixed_env("DOSTQ")
    app.config.update(config or {})
    data_dir = Path(app.config["DATA_DIR"]).resolve()
    tls = bool(app.config["TLS"])
    if not app.config.get("SECRET_KEY"):  # Flask's default is None, so setdefault won't do
        app.config["SECRET_KEY"] = secret_key(data_dir)
    app.config.update(
        SESSION_COOKIE_NAME="__Host-dostq" if tls else "dostq",
        SESSION_COOKIE_SECURE=tls,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),  # one working day
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        JSON_AS_ASCII=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]

    center = Center(
        Store(data_dir / "dostq.db"),
        timezone=ZoneInfo(app.config["TIMEZONE"]),
        unconfirmed_after_s=float(app.config["UNCONFIRMED_AFTER_S"]),
    )
    # threading mode under gunicorn's gthread worker: no monkey patching, and an SQLite fsync
    # blocks only its own thread (shared/notes/realtime.md). Pinned, never auto-detected.
    socketio = SocketIO(app, async_mode="threading")
    events = Events(center, socketio)
    register_handlers(events)
    app.extensions["dostq.center"] = center
    app.extensions["dostq.events"] = events
    devices = CounterDevices(center, events)
    app.extensions["dostq.counter_devices"] = devices
    # Device threads start with the first request: gunicorn builds the app before it forks
    # its worker, and threads do not survive a fork.
    app.before_request(devices.start)
    printing = PrintService(
        center,
        events,
        app.config["CENTER_NAME"],
        data_dir,
        give_up_after_s=float(app.config["PRINT_GIVE_UP_S"]),
    )
    app.extensions["dostq.printing"] = printing
    app.extensions["dostq.kiosk_limit"] = RateLimit(int(app.config["KIOSK_TICKETS_PER_MINUTE"]), 60)
    app.before_request(printing.start)
    hq_sync = SyncWorker(
        center,
        data_dir,
        idle_poll_s=float(app.config["HQ_SYNC_POLL_S"]),
        retry_max_s=float(app.config["HQ_RETRY_MAX_S"]),
        batch_days=int(app.config["HQ_SYNC_BATCH_DAYS"]),
    )
    app.extensions["dostq.hq_sync"] = hq_sync
    app.before_request(hq_sync.start)

    security.init_app(app)
    app.before_request(auth.identify_request)
    app.before_request(security.protect_from_csrf)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api_bp)
    app.register_blueprint(pages_bp)
    app.register_blueprint(kiosk_bp)
    app.register_blueprint(display_bp)
    app.register_blueprint(counter_bp)
    app.register_blueprint(manager_bp)
    app.register_blueprint(admin_bp)
    app.add_template_filter(duration)
    app.add_template_filter(lambda at: local_clock(at, center.timezone), "clock")
    app.register_error_handler(QueueError, _queue_error)
    app.register_error_handler(HTTPException, _http_error)

    @app.get("/")
    def home() -> str | Response:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return render_template("home.html")

    @app.get("/healthz")
    def healthz() -> Response:
        with center.store.read() as conn:
            conn.execute("SELECT 1").fetchone()
        return jsonify({"ok": True})

    return app


def duration(seconds: float | None) -> str:
    """Show a span of seconds as m:ss, or h:mm:ss from an hour on (– for none)."""
    if seconds is None:
        return "–"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{rest:02d}" if hours else f"{minutes}:{rest:02d}"


def local_clock(at: float, timezone: ZoneInfo) -> str:
    """Show an epoch time as the center's local date and time."""
    return datetime.fromtimestamp(at, timezone).strftime("%Y-%m-%d %H:%M")


def error_json(error: QueueError) -> tuple[Response, int]:
    """Answer a refused request as ``{"error": {code, message, field}}`` with its status."""
    return jsonify(
        {"error": {"code": error.code, "message": error.message, "field": error.field}}
    ), error.status


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


def _queue_error(error: QueueError) -> tuple[Response, int] | Response:
    if error.status == 401 and not request.path.startswith("/api/"):
        return redirect(url_for("auth.login", next=request.path))
    return error_json(error)


def _http_error(error: HTTPException) -> Response | HTTPException:
    return http_error_json(error) if request.path.startswith("/api/") else error
