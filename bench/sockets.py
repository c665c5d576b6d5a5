"""Thousands of live sockets held by a few processes, as displays, phones and spares.

Each process speaks Engine.IO/Socket.IO over raw WebSockets in one select loop, answering
pings, so 2,000 sockets cost the client side little; the benchmark reads what each heard.
"""

from __future__ import annotations

import json
import select
import time
from multiprocessing import get_context
from typing import Any

import websocket

SOCKET_PROCESSES = 4


def _open_socket(url: str, auth: dict[str, str]) -> websocket.WebSocket:
    """Open a socket by hand: Engine.IO open, then Socket.IO connect with a display's token
    (``device_token``) or a ticket's (``ticket_token``, a visitor's phone)."""
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket", timeout=60
    )
    ws.recv()  # Engine.IO open
    ws.send("40" + json.dumps(auth))
    return ws


def displays(tokens: list[str]) -> list[dict[str, str]]:
    """Return the socket authentications of displays enrolled with ``tokens``."""
    return [{"device_token": token} for token in tokens]


def _buffered(ws: websocket.WebSocket) -> bool:
    """Return whether websocket-client already read more of this socket than it returned."""
    return any(ws.frame_buffer.recv_buffer)


def _socket_holder(
    url: str, auths: list[dict[str, str]], ready: Any, stop: Any, results: Any, counted: Any,
    statuses: Any,
) -> None:  # fmt: skip
    """Hold sockets open (answering pings); record each ticket_called's (seq, arrival) and
    count the ticket_status events phones hear."""
    sockets = [_open_socket(url, auth) for auth in auths]
    ready.put(len(sockets))
    arrivals: list[tuple[int, float]] = []
    by_fd = {ws.sock.fileno(): ws for ws in sockets if ws.sock is not None}
    while not stop.is_set():
        readable, _, _ = select.select(list(by_fd), [], [], 0.2)
        for fd in readable:
            ws = by_fd[fd]
            while True:
                try:
                    frame = ws.recv()
                except websocket.WebSocketConnectionClosedException:
                    del by_fd[fd]  # the server closed it: counted as lost, not a crash
                    break
                message = frame if isinstance(frame, str) else frame.decode()
                if message == "2":
                    ws.send("3")  # Engine.IO pong
                elif message.startswith('42["ticket_called"'):
                    arrivals.append((json.loads(message[2:])[1]["seq"], time.time()))
                    with counted.get_lock():
                        counted.value += 1
                elif message.startswith('42["ticket_status"'):
                    with statuses.get_lock():
                        statuses.value += 1
                if not _buffered(ws):
                    break
    results.put(arrivals)
    for ws in sockets:
        ws.close()


class SocketHolders:
    """Processes holding sockets until told to stop; each reports what it received."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.context = get_context("spawn")
        self.stop = self.context.Event()
        self.ready = self.context.Queue()
        self.results = self.context.Queue()
        self.counted = self.context.Value("l", 0)  # ticket_called events received so far
        self.statuses = self.context.Value("l", 0)  # ticket_status events (phones) so far
        self.processes: list[Any] = []

    def open(self, auths: list[dict[str, str]]) -> int:
        """Open sockets for ``auths`` over SOCKET_PROCESSES processes; return how many."""
        share = -(-len(auths) // SOCKET_PROCESSES)
        started = []
        for i in range(0, len(auths), share):
            process = self.context.Process(
                target=_socket_holder,
                args=(
                    self.url,
                    auths[i : i + share],
                    self.ready,
                    self.stop,
                    self.results,
                    self.counted,
                    self.statuses,
                ),  # fmt: skip
            )
            process.start()
            started.append(process)
        self.processes += started
        return sum(self.ready.get(timeout=300) for _ in started)

    def wait_for(self, events: int, timeout_s: float) -> None:
        """Wait until the holders have received ``events`` calls, or ``timeout_s`` passed."""
        deadline = time.monotonic() + timeout_s
        while self.counted.value < events and time.monotonic() < deadline:
            time.sleep(0.05)

    def close(self) -> list[list[tuple[int, float]]]:
        """Stop every holder; return what each received, in the order they started."""
        self.stop.set()
        received = [self.results.get(timeout=120) for _ in self.processes]
        for process in self.processes:
            process.join(timeout=30)
        return received
