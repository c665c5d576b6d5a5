"""Fake ESC/POS printers for tests: a TCP one (port-9100 style) and one on a pseudo-terminal.

Both record every byte of print data and answer DLE EOT 1/2/4 from a settable state,
following the bit layout of Epson's status replies.
"""

from __future__ import annotations

import os
import pty
import select
import socket
import threading
import time
import tty
from dataclasses import dataclass, field


@dataclass
class PrinterState:
    online: bool = True
    cover_open: bool = False
    paper: str = "ok"  # ok, near_end, end
    error: bool = False
    silent: bool = False  # does not answer status requests
    cut_after: int | None = None  # drop the connection after this many bytes of a job
    runs_out: bool = False  # the roll ends while the job prints
    goes_silent: bool = False  # takes a job, then answers nothing more
    answer_after_s: float = 0.0  # a busy printer answers status requests this late


def status_byte(n: int, s: PrinterState) -> int:
    if n == 1:
        offline = not s.online or s.cover_open or s.paper == "end" or s.error
        return 0x12 | (0x08 if offline else 0)
    if n == 2:
        return (
            0x12
            | (0x04 if s.cover_open else 0)
            | (0x20 if s.paper == "end" else 0)
            | (0x40 if s.error else 0)
        )
    if n == 3:
        return 0x12 | (0x20 if s.error else 0)
    return 0x12 | {"ok": 0x00, "near_end": 0x0C, "end": 0x6C}[s.paper]


@dataclass
class Recorder:
    state: PrinterState = field(default_factory=PrinterState)
    jobs: list[bytes] = field(default_factory=list)

    def feed(self, chunk: bytes, job: bytearray, reply) -> bool:
        """Take bytes from the app; answer status requests; False to drop the link."""
        for byte in chunk:
            job.append(byte)
            if job[-3:-1] == b"\x10\x04" and len(job) >= 3:
                del job[-3:]
                if not self.state.silent:
                    time.sleep(self.state.answer_after_s)
                    reply(bytes([status_byte(byte, self.state)]))
            elif len(job) > 64:  # a job, not a status probe
                if self.state.runs_out:
                    self.state.paper = "end"
                if self.state.goes_silent:
                    self.state.silent = True
            if self.state.cut_after is not None and len(job) >= self.state.cut_after:
                return False
        return True


class TcpPrinter(Recorder):
    """Listens on 127.0.0.1; each connection's print data is one job."""

    def __init__(self) -> None:
        super().__init__()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.url = f"tcp://127.0.0.1:{self.port}"
        self._open = 0  # connections accepted and not yet recorded
        self._open_lock = threading.Condition()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with self._open_lock:
                self._open += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        job = bytearray()
        with conn:
            while True:
                try:
                    chunk = conn.recv(4096)
                except OSError:
                    break
                if not chunk or not self.feed(chunk, job, conn.sendall):
                    break
        if job:
            self.jobs.append(bytes(job))
        with self._open_lock:
            self._open -= 1
            self._open_lock.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> list[bytes]:
        """Return the jobs once every accepted connection has been recorded.

        After the sender has stopped, this is every job it sent: each send waits for the
        printer's status answer, so nothing it sent can still be unaccepted.
        """
        with self._open_lock:
            assert self._open_lock.wait_for(lambda: self._open == 0, timeout)
        return self.jobs

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """Return the jobs once ``count`` were recorded (a job is recorded when its link closes)."""
        deadline = time.monotonic() + timeout
        while len(self.jobs) < count and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.jobs

    def unplug(self) -> None:
        """Stop listening: the next connection is refused."""
        # close() alone leaves a thread blocked in accept() still accepting on Linux.
        try:
            self.server.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.server.close()

    def plug_back(self) -> None:
        """Listen again on the same port."""
        self.server = socket.create_server(("127.0.0.1", self.port))
        threading.Thread(target=self._serve, daemon=True).start()


class PtyPrinter(Recorder):
    """A printer on a real pseudo-terminal: the app opens ``path`` with pyserial."""

    def __init__(self) -> None:
        super().__init__()
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.path = os.ttyname(slave)
        self._slave = slave
        self._job = bytearray()
        self._stop = False
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    return
                self.feed(chunk, self._job, lambda data: os.write(self.master, data))

    def take_job(self) -> bytes:
        job, self._job = bytes(self._job), bytearray()
        return job

    def receive(self, count: int, timeout: float = 10.0) -> bytes:
        """Return what the app sent, once ``count`` bytes came (or ``timeout`` passed)."""
        received = b""
        deadline = time.monotonic() + timeout
        while len(received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
            received += self.take_job()
        return received

    def close(self) -> None:
        # Join before closing: the next pty may reuse these fd numbers, and a thread still
        # polling the old number would read (and swallow) the next test's bytes.
        self._stop = True
        self._thread.join()
        os.close(self.master)
        os.close(self._slave)
