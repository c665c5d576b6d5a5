"""Run the center under gunicorn, the production server, from ``dostq serve``.

One worker process (Socket.IO without a message queue needs exactly one). With the gevent
worker, the default, every request and socket is a greenlet: an idle screen costs memory, not
a thread, and thousands can stay connected. The app is built inside the worker, after
gunicorn's gevent worker has patched the standard library, so every lock it makes is one
that greenlets understand.
"""

from __future__ import annotations

import gc
import logging
import resource
import ssl
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from server.web import logs

# Connections the worker takes beyond the socket limit, so HTTP is served at the limit too.
HTTP_HEADROOM = 1000


class CenterServer(BaseApplication):  # type: ignore[misc]
    """Gunicorn with our app factory and options, no config file or argv parsing."""

    def __init__(self, build_app: Callable[[], Flask], options: dict[str, Any]) -> None:
        self.build_app = build_app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        """Apply our options to gunicorn's settings."""
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        """Build the WSGI app, in the worker process, and take it out of the collector's sight.

        Python's full garbage collection walks every object the process holds; with the app,
        its catalogs and thousands of sockets that is a pause of 50-150 ms in which no call
        reaches any display (measured in bench/realtime.py). What exists once the app is built
        lives as long as the worker, so it is frozen out of every later collection.
        """
        app = self.build_app()
        gc.collect()
        gc.freeze()
        log_hub_errors()
        start_services = app.extensions.get("dostq.start_services")
        if start_services is not None:  # the center's threads; HQ has none
            start_services()
        return app


# A client that goes away or speaks plain HTTP to the HTTPS port fails in the handshake: the
# client's doing, said in one line, not a traceback.
CLIENT_FAULTS = (ssl.SSLError, ConnectionError, TimeoutError)
hub_log = logging.getLogger("dostq.server")


def log_hub_errors() -> None:
    """Send what gevent's hub would print to stderr (multi-line) through the log instead.

    Each failed TLS handshake wrote a gevent traceback of a dozen lines, so a JSON log was no
    longer one object a line. Only under the gevent worker: the hub is then this process's.
    """
    if "gevent" not in sys.modules or not sys.modules["gevent.monkey"].is_module_patched("socket"):
        return
    import gevent

    def print_exception(context: object, kind: type, error: BaseException, tb: Any) -> None:
        if isinstance(error, CLIENT_FAULTS):
            hub_log.info("A client's connection failed: %s", error)
        else:
            hub_log.error("%s failed", type(context).__name__, exc_info=(kind, error, tb))

    gevent.get_hub().print_exception = print_exception


class ServerLog(Logger):  # type: ignore[misc]
    """Gunicorn's own lines (start, workers, errors) in the server's format, tokens cut out."""

    log_format = "text"

    def setup(self, cfg: Any) -> None:
        """Set gunicorn's handlers up as usual, then dress them as the server's own."""
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                logs.dress(handler, self.log_format)


def gunicorn_options(
    host: str,
    port: int,
    tls_dir: Path | None,
    worker: str,
    threads: int,
    max_sockets: int,
    log_format: str = "text",
) -> dict[str, Any]:
    """Options for one worker process of the chosen kind.

    Gunicorn's access log stays off: the app logs each request by its route (server.web.health
    with ACCESS_LOG), so a ticket's token in a path never reaches a log line.
    """
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": 1,
        "timeout": 0,  # long-lived WebSockets must not be killed as "silent" workers
        "graceful_timeout": 5,
        "accesslog": None,
        "errorlog": "-",
        "logger_class": type("ServerLog", (ServerLog,), {"log_format": log_format}),
        "loglevel": "info",
        # gunicorn's control socket would be one path in the user's home that every center
        # and HQ instance of that user shares; nothing here uses it.
        "control_socket_disable": True,
    }
    if worker == "gevent":
        options.update(worker_class="gevent", worker_connections=max_sockets + HTTP_HEADROOM)
    else:
        # Each open WebSocket holds one thread for its lifetime: displays + counters + kiosks.
        options.update(
            worker_class="gthread", threads=threads, worker_connections=max(1000, threads * 2)
        )
    if tls_dir is not None:
        options["certfile"] = str(tls_dir / "cert.pem")
        options["keyfile"] = str(tls_dir / "key.pem")
    return options


def raise_open_files(wanted: int) -> str | None:
    """Let this process hold ``wanted`` open files (each socket is one); say why if it can't.

    Debian starts services with a soft limit of 1,024, which would stop a center at about a
    thousand screens with "Too many open files" instead of at its own socket limit.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft >= wanted:
        return None
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(wanted, hard), hard))
    if hard < wanted:
        return (
            f"only {hard} open files are allowed (the socket limit needs {wanted}): "
            "raise LimitNOFILE in the service unit, or lower DOSTQ_MAX_SOCKETS"
        )
    return None


def serve(build_app: Callable[[], Flask], options: dict[str, Any]) -> None:
    """Serve the app ``build_app`` makes until stopped."""
    CenterServer(build_app, options).run()
