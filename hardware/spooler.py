"""The print spooler: one worker thread per printer, so no request ever waits on paper.

A job is retried while the printer cannot take it (offline, paper out, cover open) until
``give_up_after_s``; when it comes back the job prints once. A job cut off mid-send is
reported as failed and never re-sent by itself: part of it may be on paper already, and a
second copy would hand one visitor two tickets. Staff can reprint.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from hardware.printers import (
    PrinterStatus,
    PrinterUnavailable,
    PrintInterrupted,
    PrintUnconfirmed,
    TicketPrinter,
)


@dataclass(frozen=True)
class PrintJob:
    """Bytes to print, and what they are for (the spooler does not look inside)."""

    job_id: int
    data: bytes


log = logging.getLogger(__name__)
FAILED_UNEXPECTEDLY = "The ticket did not print (the printer's worker met an error). Reprint it."
ResultCallback = Callable[[PrintJob, bool, str], None]
StatusCallback = Callable[[PrinterStatus], None]


class Spooler:
    """Queues jobs for one printer, prints them in order and reports every outcome."""

    def __init__(
        self,
        printer: TicketPrinter,
        on_result: ResultCallback,
        on_status: StatusCallback,
        give_up_after_s: float = 20.0,
        retry_every_s: float = 1.0,
        poll_every_s: float = 30.0,
    ) -> None:
        self.printer = printer
        self.on_result = on_result
        self.on_status = on_status
        self.give_up_after_s = give_up_after_s
        self.retry_every_s = retry_every_s
        self.poll_every_s = poll_every_s
        self.last_status: PrinterStatus | None = None
        self._jobs: queue.Queue[PrintJob | None] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the worker (idempotent; call it in the serving process, threads don't fork).

        The worker probes the printer at once, then every ``poll_every_s`` while idle.
        """
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, daemon=True, name=f"spooler-{self.printer.name}"
                )
                self._thread.start()

    def submit(self, job: PrintJob) -> None:
        """Queue a job (starting the worker if needed)."""
        self.start()
        self._jobs.put(job)

    def stop(self) -> None:
        """Finish the queued jobs, then stop the worker."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join(timeout=self.give_up_after_s + 5)

    def check_status(self) -> PrinterStatus:
        """Probe the printer now and report a change of state."""
        status = self.printer.status()
        if self.last_status is None or status.state != self.last_status.state:
            self.last_status = status
            self.on_status(status)
        return status

    def _run(self) -> None:
        self._survive(self.check_status)
        while True:
            try:
                job = self._jobs.get(timeout=self.poll_every_s)
            except queue.Empty:
                self._survive(self.check_status)  # staff learn of paper-out before a visitor
                continue
            if job is None:
                return
            if not self._survive(self._print, job):
                self._survive(self.on_result, job, False, FAILED_UNEXPECTEDLY)

    def _survive(self, step: Callable[..., object], *args: object) -> bool:
        """Run one step of the worker; an error of any kind is logged, never its end.

        One odd job (or a printer's odd answer) once killed the thread, and every later
        ticket stayed unprinted while the floor said "ready".
        """
        try:
            step(*args)
        except Exception:
            log.exception("printer %s: a step of the spooler failed", self.printer.name)
            return False
        return True

    def _print(self, job: PrintJob) -> None:
        deadline = time.monotonic() + self.give_up_after_s
        while True:
            status = self.check_status()
            if status.printable:
                try:
                    after = self.printer.send(job.data)
                except PrintUnconfirmed as exc:
                    self.check_status()
                    self.on_result(
                        job,
                        False,
                        f"Check the printer: it did not confirm the ticket ({exc}). "
                        "Reprint if the visitor has none.",
                    )
                    return
                except PrintInterrupted as exc:
                    self.check_status()
                    self.on_result(
                        job,
                        False,
                        f"The ticket did not print ({exc}); it may be partly printed. "
                        "Fix the printer, then reprint.",
                    )
                    return
                except PrinterUnavailable:
                    pass  # nothing went out: safe to try again
                else:
                    self.on_result(job, True, after.message)
                    return
            if time.monotonic() >= deadline:
                self.on_result(job, False, status.message)
                return
            time.sleep(self.retry_every_s)
