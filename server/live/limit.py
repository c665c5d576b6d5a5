"""The socket limit: past ``MAX_SOCKETS`` a new socket is refused at its handshake, cleanly.

A refused screen gets HTTP 503 with the usual JSON error before any Engine.IO session is
made, and retries by itself (the Socket.IO client backs off); the center logs it, and HTTP
(kiosks issuing, clerks calling) keeps being served, because the worker's connection budget
is set above the limit (``server.cli.gunicorn``).

Only signed-in sockets count against the limit. A session that has not signed in (sent
Socket.IO's CONNECT with a token, a staff cookie or a ticket) is a stranger: strangers have
their own small budget per address and are closed SIGN_IN_WITHIN_S after they appear, so
2,000 that answer pings and never sign in no longer shut every screen out.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from server.live.once import Once

log = logging.getLogger(__name__)
WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
SOCKET_PATH = "/socket.io/"
# A screen signs in with its first packet, well within a second; a stranger is closed then.
SIGN_IN_WITHIN_S = 10.0
# Sessions not yet signed in from one address at once (a busy PC opens a few screens).
STRANGERS_PER_ADDRESS = 10
# Socket.IO answers bypass Flask's after_request: the same protective headers, set here.
SOCKET_HEADERS = (
    ("X-Content-Type-Options", "nosniff"),
    ("Referrer-Policy", "same-origin"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'"),
)


@dataclass
class SocketCount:
    """The Engine.IO sessions open now: signed in, and not (yet) signed in by address."""

    signed_in: int = 0
    strangers: Counter[str] = field(default_factory=Counter)


def count_sessions(socketio: Any) -> SocketCount:
    """Count the open Engine.IO sessions, signed in or strangers.

    A session that closed stays in the server's table until its sweep, up to a ping timeout
    later; it holds nothing, so it is not counted.
    """
    server = socketio.server
    count = SocketCount()
    for eio_sid, session in list(server.eio.sockets.items()):
        if session.closed:
            continue
        if server.manager.sid_from_eio_sid(eio_sid, "/") is not None:
            count.signed_in += 1
        else:
            address = (server.environ.get(eio_sid) or {}).get("REMOTE_ADDR", "")
            count.strangers[address] += 1
    return count


class StrangerReaper:
    """Closes Engine.IO sessions still not signed in SIGN_IN_WITHIN_S after they appeared."""

    def __init__(self, socketio: Any, within_s: float = SIGN_IN_WITHIN_S) -> None:
        self.socketio = socketio
        self.within_s = within_s
        self._first_seen: dict[str, float] = {}
        # In the serving process, at its first handshake or request (a fork loses tasks).
        self.start = Once(lambda: socketio.start_background_task(self.run))

    def sweep(self, now: float | None = None) -> int:
        """Close the strangers past their time; return how many were closed."""
        now = time.monotonic() if now is None else now
        server = self.socketio.server
        seen: dict[str, float] = {}
        closed = 0
        for eio_sid, session in list(server.eio.sockets.items()):
            if session.closed or server.manager.sid_from_eio_sid(eio_sid, "/") is not None:
                continue
            seen[eio_sid] = self._first_seen.get(eio_sid, now)
            if now - seen[eio_sid] >= self.within_s:
                server.eio.disconnect(eio_sid)
                closed += 1
        self._first_seen = seen
        if closed:
            log.warning("closed %d socket(s) that did not sign in within %.0f s", closed,
                        self.within_s)  # fmt: skip
        return closed

    def run(self) -> None:
        """Sweep every half of SIGN_IN_WITHIN_S, for the life of the server."""
        while True:
            self.socketio.sleep(self.within_s / 2)
            try:
                self.sweep()
            except Exception:  # the next sweep tries again; the server goes on
                log.exception("closing strangers' sockets failed")


class SocketLimit:
    """WSGI middleware in front of Socket.IO: refuse new sessions once ``limit`` are open."""

    def __init__(
        self,
        app: WSGIApp,
        limit: int,
        sessions: Callable[[], SocketCount],
        on_handshake: Callable[[], None] = lambda: None,
    ) -> None:
        self.app = app
        self.limit = limit
        self.sessions = sessions
        self.on_handshake = on_handshake

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Pass every request on, except a new socket's handshake when the center is full.

        Full: MAX_SOCKETS signed in, or this address's strangers at their budget. Every
        Socket.IO answer carries the protective headers the pages have.
        """
        if not environ.get("PATH_INFO", "").startswith(SOCKET_PATH):
            return self.app(environ, start_response)
        start_response = _with_headers(start_response, environ.get("wsgi.url_scheme") == "https")
        if "sid=" not in environ.get("QUERY_STRING", ""):
            self.on_handshake()
            held = self.sessions()
            if held.signed_in >= self.limit:
                return self._refuse(environ, start_response, held.signed_in)
            # Strangers from many addresses at once are bounded by the worker's connections
            # (MAX_SOCKETS and its HTTP headroom), and each lives SIGN_IN_WITHIN_S at most.
            if held.strangers[environ.get("REMOTE_ADDR", "")] >= STRANGERS_PER_ADDRESS:
                return self._refuse_stranger(environ, start_response)
        return self.app(environ, start_response)

    def _refuse_stranger(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> list[bytes]:
        log.warning(
            "refused a socket from %s: %d of its sockets have not signed in",
            environ.get("REMOTE_ADDR"),
            STRANGERS_PER_ADDRESS,
        )
        message = "Too many sockets from here have not signed in: this screen retries by itself."
        return _answer_503(start_response, "too_many_strangers", message)

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
        return _answer_503(start_response, "too_many_sockets", message)


def _with_headers(start_response: Callable[..., Any], secure: bool) -> Callable[..., Any]:
    added = [*SOCKET_HEADERS, *([("Strict-Transport-Security", "max-age=31536000")] * secure)]

    def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
        present = {name.lower() for name, _ in headers}
        return start_response(
            status, headers + [h for h in added if h[0].lower() not in present], *exc_info
        )

    return start


def _answer_503(start_response: Callable[..., Any], code: str, message: str) -> list[bytes]:
    body = json.dumps({"error": {"code": code, "message": message, "field": None}}).encode()
    start_response(
        "503 Service Unavailable",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
            ("Retry-After", "5"),
        ],
    )
    return [body]
