"""Run the center under gunicorn (gthread worker), the production server, from ``dostq serve``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication


class CenterServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn with our app object and options, no config file or argv parsing."""

    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Return the WSGI app (already built)."""
        return self.application


def gunicorn_options(host: str, port: int, tls_dir: Path | None, threads: int) -> dict[str, Any]:
    """Options for one worker process: Socket.IO without a message queue needs exactly one."""
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": 1,
        "worker_class": "gthread",
        # Each open WebSocket holds one thread for its lifetime: displays + counters + kiosks.
        "threads": threads,
        "worker_connections": max(1000, threads * 2),
        "timeout": 0,  # long-lived WebSockets must not be killed as "silent" workers
        "graceful_timeout": 5,
        "accesslog": "-",
        "errorlog": "-",
        "loglevel": "info",
    }
    if tls_dir is not None:
        options["certfile"] = str(tls_dir / "cert.pem")
        options["keyfile"] = str(tls_dir / "key.pem")
    return options


def serve(app: Flask, host: str, port: int, tls_dir: Path | None, threads: int = 200) -> None:
    """Serve ``app`` until stopped."""
    CenterServer(app, gunicorn_options(host, port, tls_dir, threads)).run()
