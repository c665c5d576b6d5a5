"""WebSocket frames written whole, however slowly a screen reads.

simple-websocket 1.1.0 writes each frame with one ``socket.send`` and ignores how much of it
the kernel took. While a screen reads (a TV on a stalled Wi-Fi link, a phone in a lift), the
kernel takes less than the whole frame, the rest is dropped and the next frame starts inside
this one: the screen's stream is corrupt from there (found by
``tests/test_realtime.py::test_a_display_that_stops_reading_delays_no_other_and_loses_nothing``;
reported upstream as miguelgrinberg/simple-websocket#45, fixed after 1.1.0). Until a fixed
release, the socket it is given sends everything (``sendall``), one frame at a time: under
gevent only that socket's writer waits, every other screen goes on. Over HTTPS the TLS socket
already wrote each record whole (the same test passes there without this); over plain HTTP,
as a center's LAN may run, it did not.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
# Where the WSGI servers simple-websocket knows put the connection's socket.
SOCKET_KEYS = ("gunicorn.socket", "werkzeug.socket")


class WholeSends:
    """A socket whose ``send`` writes all it is given, one caller at a time."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._lock = threading.Lock()  # a frame and a pong never interleave

    def send(self, data: bytes, flags: int = 0) -> int:
        """Write all of ``data`` (waiting while the peer's window is full); return its size."""
        with self._lock:
            self._sock.sendall(data, flags)
        return len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class WholeFrames:
    """WSGI middleware: a WebSocket upgrade gets its socket as ``WholeSends``."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        """Pass the request on; an upgrade's socket first made to send whole frames."""
        if environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            for key in SOCKET_KEYS:
                if key in environ and not isinstance(environ[key], WholeSends):
                    environ[key] = WholeSends(environ[key])
        return self.app(environ, start_response)
