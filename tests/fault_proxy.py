"""An HTTP proxy for tests that drops, delays, duplicates and reorders requests on purpose.

It sits between a center and HQ. Each request gets one fate, drawn from a seeded random:
forwarded; dropped before HQ sees it; forwarded but its answer lost; delayed; sent twice; or held
back (the center is told 503 at once) and sent to HQ later, after the next request. Given
several HQ processes, it sends each request to the next in turn (a load balancer's round robin).
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

FATES = ("forward", "drop", "lose_answer", "delay", "duplicate", "hold")


class FaultProxy:
    """Listens on 127.0.0.1; ``url`` is what the center is told HQ's address is."""

    def __init__(
        self,
        target: str | list[str],
        seed: int = 1,
        weights: tuple[int, ...] = (4, 1, 1, 1, 1, 1),
    ) -> None:
        self.targets = itertools.cycle([target] if isinstance(target, str) else target)
        self.random = random.Random(seed)
        self.weights = weights
        self.fates: Counter[str] = Counter()
        self._held: list[tuple[str, bytes, dict[str, str]]] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                status, answer = proxy.handle(self.path, body, headers)
                if status is None:  # the connection dies without an answer
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _forward(self, path: str, body: bytes, headers: dict[str, str]) -> requests.Response:
        with self._lock:
            target = next(self.targets)
        return requests.post(target + path, data=body, headers=headers, timeout=30)

    def handle(self, path: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, bytes]:
        """Give the request its fate; return the status and body the center sees."""
        with self._lock:
            fate = self.random.choices(FATES, self.weights)[0]
            self.fates[fate] += 1
            held, self._held = self._held, []
            if fate == "hold":
                self._held.append((path, body, headers))
        try:
            if fate == "drop":
                return None, b""
            if fate == "hold":
                return 503, b'{"error": {"message": "held back by the test proxy"}}'
            if fate == "delay":
                time.sleep(self.random.uniform(0.2, 1.0))
            response = self._forward(path, body, headers)
            if fate == "duplicate":
                self._forward(path, body, headers)  # HQ must see the copy as a replay
            if fate == "lose_answer":
                return None, b""
            return response.status_code, response.content
        except requests.RequestException:
            return 502, b'{"error": {"message": "HQ unreachable behind the test proxy"}}'
        finally:
            for late in held:  # an older request arriving after a newer one
                try:
                    self._forward(*late)
                except requests.RequestException:
                    pass

    def close(self) -> None:
        """Stop listening."""
        self.server.shutdown()
        self.server.server_close()
