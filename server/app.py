"""The application factory: the one place that knows every part and wires them together."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, g, jsonify, redirect, render_template, url_for
from flask_socketio import SocketIO
from prometheus_client import CollectorRegistry
from werkzeug.wrappers import Response

from counter import bp as counter_bp
from display import bp as display_bp
from kiosk import bp as kiosk_bp
from manager import bp as manager_bp
from manager.admin import bp as admin_bp
from reception import bp as reception_bp
from server import settings
from server.hq_link.phones import PhoneRelay
from server.hq_link.worker import SyncWorker
from server.live.catalog_day import CatalogAtDayStart
from server.live.closing import DayCloser
from server.live.counter_devices import CounterDevices
from server.live.limit import SocketLimit, StrangerReaper, count_sessions
from server.live.nightly import NightlyBackup
from server.live.phones import Phones
from server.live.printing import PrintService
from server.live.publisher import Publisher
from server.live.queue_log import QueueLog
from server.live.ratelimit import RateLimit
from server.live.sockets import Sockets
from server.live.whole_frames import WholeFrames
from server.office import floor
from server.queue.appointments import CheckInWindow
from server.queue.center import Center
from server.queue.facts import (
    Called,
    CounterFreed,
    DeviceChanged,
    DeviceRevoked,
    PrintingChanged,
    QueueChanged,
    ScreenOnline,
    VisitFinished,
    VisitRated,
)
from server.queue.storage import Store, put_setting
from server.web import auth, health, language, logs, security, validation
from server.web.api import bp as api_bp
from server.web.center_metrics import CenterMetrics
from server.web.counter_api import counter_api
from server.web.device_tokens import DeviceTokens
from server.web.pages import bp as pages_bp
from server.web.pages import ticket_page_url
from server.web.shell import behind_proxies, build_app


def health_probe(conn: sqlite3.Connection) -> None:
    """Write one setting: ``/healthz`` proves the database commits a real write."""
    put_setting(conn, "healthz_written_at", time.time())


def disk_thread(worker: str) -> Callable[[Callable[[], Any]], Any] | None:
    """Under gevent, run what waits on the disk in a real thread of the hub's pool."""
    if worker != "gevent":
        return None
    import gevent

    def in_thread(call: Callable[[], Any]) -> Any:
        return gevent.get_hub().threadpool.apply(call)

    return in_thread


def check_in_window(values: dict[str, Any]) -> CheckInWindow:
    """Return how early and late around its slot a booking checks in, from the settings."""
    return CheckInWindow(
        float(values["APPOINTMENT_EARLY_MIN"]) * 60, float(values["APPOINTMENT_LATE_MIN"]) * 60
    )


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build a center server app; ``config`` overrides defaults and ``DOSTQ_*`` variables."""
    values = settings.resolve(settings.CENTER_SETTINGS, config)
    data_dir = values["DATA_DIR"]
    timezone = ZoneInfo(values["TIMEZONE"])
    app = build_app(__name__, values, data_dir, "dostq", "/api/", timezone)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    metrics = CollectorRegistry()
    # First: it times (and with ACCESS_LOG logs) every request.
    health.init_app(app, metrics, values["METRICS_TOKEN"], bool(values["ACCESS_LOG"]))

    center = Center(
        Store(data_dir / "dostq.db", blocking=disk_thread(values["WORKER"])),
        timezone=timezone,
        unconfirmed_after_s=float(values["UNCONFIRMED_AFTER_S"]),
    )
    # Pinned to the worker `dostq serve` runs, never auto-detected: under gevent an idle socket
    # is a greenlet, not a thread (shared/notes/realtime.md); "threads" is gthread's model.
    socketio = SocketIO(
        app,
        async_mode="gevent" if values["WORKER"] == "gevent" else "threading",
        ping_interval=float(values["SOCKET_PING_INTERVAL_S"]),
        ping_timeout=float(values["SOCKET_PING_TIMEOUT_S"]),
    )
    logs.through_our_handlers("engineio.server", "socketio.server")
    # Outside Flask-SocketIO's own middleware, so a refused handshake costs no session.
    strangers = StrangerReaper(socketio, float(values["SOCKET_SIGN_IN_S"]))
    app.wsgi_app = SocketLimit(  # type: ignore[method-assign]
        app.wsgi_app,
        int(values["MAX_SOCKETS"]),
        lambda: count_sessions(socketio),
        on_handshake=strangers.start,
    )
    app.wsgi_app = WholeFrames(app.wsgi_app)  # type: ignore[method-assign]
    publisher = Publisher(center, socketio)
    QueueLog(center, publisher)
    device_tokens = DeviceTokens(center.store)
    for changed in (DeviceRevoked, DeviceChanged, PrintingChanged):
        publisher.subscribe(changed, device_tokens.forget)
    # A display's or kiosk's last sign of life: the floor alerts one that was on and went away.
    publisher.subscribe(ScreenOnline, lambda fact: floor.screen_seen(center, fact.device))
    phones = Phones(publisher)
    sockets = Sockets(
        publisher,
        int(values["MAX_SOCKETS"]),
        phones,
        RateLimit(int(values["PHONE_SOCKETS_PER_MINUTE"]), 60),
    )
    sockets.register_handlers()
    devices = CounterDevices(center, publisher, settings.host_list(values["SERIAL_HOSTS"]))
    printing = PrintService(
        center,
        publisher,
        values["CENTER_NAME"],
        data_dir,
        status_url=ticket_page_url,
        give_up_after_s=float(values["PRINT_GIVE_UP_S"]),
    )
    national_catalog = CatalogAtDayStart(center, publisher)
    hq_sync = SyncWorker(
        center,
        data_dir,
        idle_poll_s=float(values["HQ_SYNC_POLL_S"]),
        retry_max_s=float(values["HQ_RETRY_MAX_S"]),
        batch_days=int(values["HQ_SYNC_BATCH_DAYS"]),
        now_every_s=float(values["HQ_NOW_EVERY_S"]),
        catalog_every_s=float(values["HQ_CATALOG_EVERY_S"]),
        # A version that takes effect today, fetched before today's first ticket, applies now.
        on_catalog=national_catalog.wake,
        window=check_in_window(values),
        relay=PhoneRelay(center, publisher.publish) if values["HQ_PUBLIC_URL"] else None,
        phones_every_s=float(values["HQ_PHONES_EVERY_S"]),
    )
    for moved in (QueueChanged, Called, CounterFreed, VisitFinished, VisitRated):
        publisher.subscribe(moved, hq_sync.queue_moved)
    closer = DayCloser(center, publisher)
    nightly = NightlyBackup(
        center,
        data_dir / "dostq.db",
        settings.backup_folder(values),
        int(values["BACKUP_HOUR"]),
        (int(values["BACKUP_KEEP_DAILY"]), int(values["BACKUP_KEEP_WEEKLY"])),
    )
    metrics.register(
        CenterMetrics(center, sockets, devices, settings.backup_folder(values), data_dir)
    )
    app.extensions.update(
        {
            "dostq.center": center,
            "dostq.publisher": publisher,
            "dostq.sockets": sockets,
            "dostq.counter_devices": devices,
            "dostq.day_closer": closer,
            "dostq.national_catalog": national_catalog,
            "dostq.hq_sync": hq_sync,
            "dostq.nightly_backup": nightly,
            "dostq.phones": phones,
            "dostq.device_tokens": device_tokens,
            "dostq.strangers": strangers,
            "dostq.check_in_window": check_in_window(values),
            "dostq.kiosk_limit": RateLimit(int(values["KIOSK_TICKETS_PER_MINUTE"]), 60),
            "dostq.phone_cancel_limit": RateLimit(int(values["PHONE_CANCELS_PER_MINUTE"]), 60),
            "dostq.rating_limit": RateLimit(int(values["PHONE_RATINGS_PER_MINUTE"]), 60),
        }
    )
    # The device, sync and backup threads start when the worker has built the app
    # (server/cli/gunicorn.py calls this): before, they waited for the first request, and a
    # center nobody opened after a night's restart neither synced nor backed up. Each start
    # is idempotent, and is asked again before each request: `dostq sync --hq` may set HQ up
    # while the server runs, and in-process tests never pass through gunicorn.
    services = (devices, printing, hq_sync, closer, national_catalog, phones, nightly)

    def start_services() -> None:
        for service in services:
            service.start()

    app.extensions["dostq.start_services"] = start_services
    for service in services:
        app.before_request(service.start)

    app.before_request(auth.identify_request)
    app.after_request(auth.renew_device_cookie)
    app.before_request(security.protect_from_csrf)
    language.init_app(app, lambda: center.store, "/language")
    # The API's schemas are read now, not by the first ticket after a restart (0.3-0.4 s).
    validation.openapi_document()
    for blueprint in (
        auth.bp, api_bp, counter_api, pages_bp, kiosk_bp, display_bp, counter_bp, manager_bp,
        admin_bp, reception_bp,
    ):  # fmt: skip
        app.register_blueprint(blueprint)

    @app.get("/")
    def home() -> str | Response:
        if g.user is None:
            return redirect(url_for("auth.login"))
        return render_template("home.html")

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        body, status = health.health(center.store, data_dir, health_probe)
        return jsonify(body), status

    behind_proxies(app, int(values["PROXY_HOPS"]))
    return app
