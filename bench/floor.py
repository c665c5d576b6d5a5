"""What bounds tickets/s here: the same server doing (almost) nothing, under the same load.

`tickets_per_s` is what a center's whole ticket path gives. Two apps that keep only the
serving stack show how much of that is the stack itself, on whatever machine runs the bench:
- ``empty``: Flask with Flask-SocketIO's middleware under `dostq serve`'s own gunicorn gevent
  worker; the route reads the JSON body and answers 201 with a small JSON, nothing else.
- ``write``: the same route also commits one row through the center's Store (WAL,
  synchronous=FULL, the commit in the hub's disk thread), the one durable write a ticket needs.
Both are hit by the same 8 kiosk processes over keep-alive as the real ticket path.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

FLOOR_SCHEMA = "CREATE TABLE issued (id INTEGER PRIMARY KEY, at REAL NOT NULL, body TEXT)"


def build_app(database: Path | None) -> Any:
    """Return the floor app; with ``database``, each POST commits one row there."""
    from flask import Flask, jsonify, request
    from flask_socketio import SocketIO

    from server.app import disk_thread
    from server.queue.storage import Store

    app = Flask(__name__)
    SocketIO(app, async_mode="gevent")
    store = Store(database, (FLOOR_SCHEMA,), disk_thread("gevent")) if database else None

    @app.get("/healthz")
    def healthz() -> Any:
        return jsonify({"ok": True})

    @app.post("/api/v1/tickets")
    def issue() -> Any:
        body = request.get_json()
        if store is not None:
            with store.write() as conn:
                conn.execute(
                    "INSERT INTO issued (at, body) VALUES (?, ?)", (time.time(), str(body))
                )
        return jsonify({"label": "A-001", "service": body["service"]}), 201

    return app


def serve(port: int, database: Path | None) -> None:
    """Serve the floor app with `dostq serve`'s gunicorn options (one gevent worker)."""
    from server.cli.gunicorn import gunicorn_options
    from server.cli.gunicorn import serve as run_server

    options = gunicorn_options("127.0.0.1", port, None, "gevent", 0, 100)
    run_server(lambda: build_app(database), options)


def measure(work_dir: Path, case: str) -> dict[str, float]:
    """Start the floor app of ``case`` ("empty" or "write") and issue against it."""
    # Imported here: the served app must not load ssl (via requests) before gevent patches it.
    from bench.realtime import KIOSKS, issue_figures
    from tests.live import answers_once_started, free_port

    port = free_port()
    database = work_dir / f"floor-{case}.db" if case == "write" else None
    command = [sys.executable, "-m", "bench.floor", str(port)]
    if database is not None:
        command.append(str(database))
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        if not answers_once_started(f"{url}/healthz"):
            raise RuntimeError(f"the {case} floor app did not start")
        figures = issue_figures(url, process.pid, [f"floor-{i}" for i in range(KIOSKS)])
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        f"floor_{case}_per_s": figures["tickets_per_s"],
        f"floor_{case}_cpu_ms": figures["cpu_per_ticket_ms"],
    }


def run(work_dir: Path) -> dict[str, float]:
    """Measure both floors."""
    return {**measure(work_dir, "empty"), **measure(work_dir, "write")}


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else None)
