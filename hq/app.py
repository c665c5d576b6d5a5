"""The HQ application's factory: settings, database, keys and the blueprints of hq/web/."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, jsonify, redirect, url_for
from prometheus_client import CollectorRegistry
from werkzeug.wrappers import Response

from hq.database import open_database
from hq.keys import CenterKeys
from hq.shared_limits import DatabaseFailures, health_probe
from hq.sms import sender_from as sms_sender_from
from hq.sms_outbox import SmsWorker
from hq.web import (
    booking_pages,
    catalog_pages,
    dashboard,
    signed_api,
    signin,
    ticket_page,
    waits_page,
)
from hq.web.context import identify
from hq.web.metrics import HqMetrics
from server import settings
from server.web import health, language, security
from server.web.shell import behind_proxies, build_app


def create_hq_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the HQ app; ``config`` overrides defaults and ``DOSTQ_HQ_*`` variables."""
    values = settings.resolve(settings.HQ_SETTINGS, config)
    data_dir = values["HQ_DATA_DIR"]
    timezone = ZoneInfo(values["HQ_TIMEZONE"])
    hq_store = open_database(data_dir, values["HQ_DATABASE"])
    # Sign-in failures in the database: every HQ process behind a balancer sees them.
    app = build_app(__name__, values, data_dir, "dostq_hq", "/hq/api/", timezone,
                    failures=DatabaseFailures(hq_store))  # fmt: skip
    app.config.update(CENTER_NAME="DOST HQ", MAX_CONTENT_LENGTH=int(values["HQ_MAX_BATCH_BYTES"]))
    metrics = CollectorRegistry()
    # First: it times (and with ACCESS_LOG logs) every request.
    health.init_app(app, metrics, values["METRICS_TOKEN"], bool(values["ACCESS_LOG"]))
    metrics.register(HqMetrics(hq_store, data_dir))
    center_keys = CenterKeys.in_folder(data_dir)
    with hq_store.write() as conn:
        center_keys.seal_plain_keys(conn)
    app.extensions["dostq.hq_store"] = hq_store
    sender = sms_sender_from(values)
    if sender is not None:  # SMS to visitors who leave a number on a relayed ticket's page
        app.extensions["dostq.sms_worker"] = SmsWorker(
            hq_store, sender, timezone
        )  # `hq serve` starts it
    app.extensions["dostq.hq_keys"] = center_keys
    app.before_request(identify)
    app.before_request(security.protect_from_csrf)
    language.init_app(app, lambda: hq_store, "/hq/language")
    for blueprint in (
        signed_api.api,
        signin.auth,
        dashboard.dashboard,
        catalog_pages.catalog_pages,
        waits_page.waits_page,
        booking_pages.bp,
        ticket_page.ticket_page,
    ):
        app.register_blueprint(blueprint)

    @app.get("/")
    def home() -> Response:
        return redirect(url_for("hq.centers"))

    @app.get("/healthz")
    def healthz() -> tuple[Response, int]:
        body, status = health.health(hq_store, data_dir, health_probe)
        return jsonify(body), status

    behind_proxies(app, int(values["PROXY_HOPS"]))
    return app
