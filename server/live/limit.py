"""The socket limit: past ``MAX_SOCKETS`` a new socket is refused at its handshake, cleanly.

A refused screen gets HTTP 503 with the usual JSON error before any Engine.IO session is
made, and retries by itself (the Socket.IO client backs off); the center logs it, and HTTP
(kiosks issuing, clerks calling) keeps being served, because the worker's connection budget
is set above the limit (``server.cli.gunicorn``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SOCKET_PATH = "/socket.io/"


def open_sessions(socketio: Any) -> int:
    """Count the Engine.IO sessions still open.

    A session that closed stays in the server's table until its sweep, up to a ping timeout
    later; it holds nothing, so it is not counted.
    """
    return sum(not session.closed for session in list(socketio.server.eio.sockets.values()))


class SocketLimit:
    """WSGI middleware in front of Socket.IO: refuse new sessions once ``limit`` are open."""

    def __init__(self, app: WSGIApp, limit: int, open_sockets: Callable[[], int]) -> None:
        self.app = app
        self.limit = limit
        self.open_sockets = open_sockets

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Pass every request on, except a new socket's handshake when the center is full."""
        if environ.get("PATH_INFO", "").startswith(SOCKET_PATH) and "sid=" not in environ.get(
            "QUERY_STRING", ""
        ):
            held = self.open_sockets()
            if held >= self.limit:
                return self._refuse(environ, start_response, held)
        return self.app(environ, start_response)

    def _refuse(
        self, environ: dict[str, Any], start_response: Callable[..., Any], held: int
    ) -> list[bytes]:
        log.warning(
            "refused a socket from %s: %d open, the limit is %d (DOSTQ_MAX_SOCKETS)",
            environ.get("REMOTE_ADDR"),
            held,
            self.limit,
        )
        message = (
            f"The center holds {held} live screens, its limit. This screen retries by itself; "
            "if it keeps happening, raise DOSTQ_MAX_SOCKETS or close unused screens."
        )
        body = json.dumps(
            {"error": {"code": "too_many_sockets", "message": message, "field": None}}
        ).encode()
        start_response(
            "503 Service Unavailable",
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Retry-After", "5"),
            ],
        )
        return [body]
