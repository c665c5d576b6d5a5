"""Is the server healthy: ``/healthz`` for a supervisor, ``/metrics`` for Prometheus.

Both the center and HQ mount them. ``/healthz`` answers 200 while the database takes writes
and the disk has room, 503 (with the reason) when it does not, so systemd's watchdog or a
monitoring probe restarts or pages before a kiosk fails. ``/metrics`` is Prometheus' text
format (the ``prometheus-client`` library): each app adds its own collector, and every route's
latency is measured here. It is served to this machine (a Prometheus or node exporter on the
same PC) or to whoever holds ``METRICS_TOKEN``; anyone else gets 404, as if it were not there.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import shutil
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client import Histogram as RequestHistogram
from prometheus_client.core import GaugeMetricFamily, Metric

from hardware import voice
from server import VERSION
from server.queue.storage import Database

# Below this the server stops being healthy: SQLite needs room for its WAL and checkpoints.
DISK_CRITICAL_BYTES = 64 * 2**20
# Below this /healthz still answers 200 but says so: time to clear space or add a disk.
DISK_LOW_BYTES = 1024 * 2**20
log = logging.getLogger("dostq.access")
LATENCY_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


# Headers a proxy adds: a request that carries one was relayed, whoever sent it first.
RELAYED = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


def from_this_machine() -> bool:
    """Return whether the request came from this machine (127.0.0.0/8 or ::1), unrelayed.

    A proxy on the same host (nginx in front of HQ) connects from loopback too: a request it
    relays is not this machine's own, whatever PROXY_HOPS says.
    """
    if any(header in request.headers for header in RELAYED):
        return False
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


def health(
    store: Database, folder: Path, probe: Callable[[Any], object]
) -> tuple[dict[str, object], int]:
    """Check that the database commits a real write and the disk has room.

    ``probe`` writes one row: an empty ``BEGIN IMMEDIATE`` passed on a read-only file and
    after an I/O error while every ticket failed.
    """
    problems = []
    try:
        with store.write() as conn:
            probe(conn)
        database = "writable"
    except Exception as exc:  # noqa: BLE001  # any failure is the answer, not a 500
        database = f"not writable: {exc}"
        problems.append("database")
    free = shutil.disk_usage(folder).free
    if free < DISK_CRITICAL_BYTES:
        problems.append("disk")
    missing_voice = voice.engine_missing()
    body: dict[str, object] = {
        "ok": not problems,
        "version": VERSION,
        "database": database,
        "disk_free_mb": free // 2**20,
        "disk_low": free < DISK_LOW_BYTES,
        # The TVs then play the chime alone: worth knowing, not worth a restart.
        "voice": missing_voice or "ready",
    }
    if problems:
        body["problems"] = problems
    return body, 200 if not problems else 503


def gauge(name: str, doc: str, labels: Iterable[str] = ()) -> GaugeMetricFamily:
    """Return an empty gauge family (a shorthand for the collectors)."""
    return GaugeMetricFamily(name, doc, labels=list(labels))


def common_gauges(folder: Path) -> list[Metric]:
    """Return the version running and the data disk's free space (center and HQ alike)."""
    info = gauge("dostq_build_info", "The dost-queue version running.", ["version"])
    info.add_metric([VERSION], 1)
    disk = gauge("dostq_disk_free_bytes", "Free space on the data folder's disk.")
    disk.add_metric([], shutil.disk_usage(folder).free)
    return [info, disk]


# A label takes only these: any other method token a client sends is "other", so 20,000
# made-up methods are one series, not 20,000 that the worker keeps for good.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def metric_method(method: str) -> str:
    """Return the request's method as a metrics label: a standard one, or "other"."""
    return method if method in METHODS else "other"


def init_app(app: Flask, registry: CollectorRegistry, token: str, access_log: bool) -> None:
    """Measure every request's latency by route, and serve ``/metrics`` from ``registry``.

    With ``access_log``, each request is also one log line, by its route: a token in a path
    never reaches the log.
    """
    latency = RequestHistogram(
        "dostq_http_request_duration_seconds",
        "Time to answer an HTTP request, by route and method.",
        ["route", "method"],
        buckets=LATENCY_BUCKETS_S,
        registry=registry,
    )

    @app.before_request
    def start_clock() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def measure(response: Response) -> Response:
        started = g.get("request_started")
        if started is not None:
            # The rule, not the path: a ticket's token never becomes a label.
            route = request.url_rule.rule if request.url_rule else "unmatched"
            seconds = time.perf_counter() - started
            latency.labels(route, metric_method(request.method)).observe(seconds)
            if access_log:
                fields = {"method": request.method, "route": route,
                          "status": response.status_code, "ms": round(seconds * 1000, 1),
                          "address": request.remote_addr}  # fmt: skip
                log.info("%s %s %s %.1f ms %s", request.method, route, response.status_code,
                         seconds * 1000, request.remote_addr, extra={"fields": fields})  # fmt: skip
        return response

    @app.get("/metrics")
    def metrics() -> Response:
        given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        allowed = from_this_machine() or (
            bool(token) and hmac.compare_digest(given.encode(), token.encode())
        )
        if not allowed:
            abort(404)
        return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
