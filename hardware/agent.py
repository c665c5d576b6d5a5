"""The edge agent: runs on a kiosk PC whose printer hangs on that PC (USB or serial).

It connects to the center server with the kiosk's device token, receives ready-made print
jobs (ESC/POS bytes) over Socket.IO, prints them with a local spooler, and reports each
result (HTTP, the same API a kiosk uses) and every printer state change (Socket.IO).
Jobs are identified by ticket id: a job received twice (after a reconnect) prints once.
"""

from __future__ import annotations

import json
import logging
import ssl
import threading
import urllib.request
from typing import Any

import requests
import socketio

from hardware.printers import PrinterStatus, TicketPrinter
from hardware.spooler import PrintJob, Spooler

log = logging.getLogger(__name__)


class EdgeAgent:
    """Connects one kiosk's local printer to the center server."""

    def __init__(
        self, server_url: str, token: str, printer: TicketPrinter, ca_file: str | None = None
    ) -> None:
        if not server_url.startswith(("http://", "https://")):
            raise ValueError("the server URL must start with http:// or https://")
        self.server_url = server_url.rstrip("/")
        self.token = token
        self.ssl_context = ssl.create_default_context(cafile=ca_file) if ca_file else None
        self.spooler = Spooler(printer, self._report_result, self._report_status)
        # The WebSocket verifies with the HTTP session's CA file: python-engineio reads a
        # path from there, and took ssl_verify=<path> as plain "verify" against the system's CAs
        # (the center's own certificate then failed, and the agent retried for ever).
        http = requests.Session()
        http.verify = ca_file or True
        self.client = socketio.Client(
            reconnection=True, reconnection_delay_max=5, http_session=http
        )
        self.client.on("print_job", self._on_job)
        self.client.on("connect", self._on_connect)
        self._seen: set[int] = set()
        self._lock = threading.Lock()

    def run(self) -> None:
        """Connect (retrying until the server is up) and serve until stopped."""
        self.client.connect(
            self.server_url,
            auth={"device_token": self.token, "agent": True},
            transports=["websocket"],
            retry=True,
        )
        self.client.wait()

    def stop(self) -> None:
        """Disconnect and finish queued jobs."""
        self.client.disconnect()
        self.spooler.stop()

    def _on_connect(self) -> None:
        log.info("connected to %s", self.server_url)
        self.spooler.check_status()
        if self.spooler.last_status is not None:
            self._send_status(self.spooler.last_status)

    def _on_job(self, job: dict[str, Any]) -> None:
        with self._lock:
            if job["ticket_id"] in self._seen:
                return  # already printed or queued: a resend after a reconnect
            self._seen.add(job["ticket_id"])
        self.spooler.submit(PrintJob(job["ticket_id"], bytes(job["data"])))

    def _report_result(self, job: PrintJob, printed: bool, message: str) -> None:
        body = json.dumps({"printed": printed, "detail": message[:500]}).encode()
        # Only http(s): the scheme of server_url is checked in __init__.
        request = urllib.request.Request(  # noqa: S310
            f"{self.server_url}/api/v1/tickets/{job.job_id}/print-result",
            data=body,
            method="POST",
            headers={"Authorization": f"Device {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=10, context=self.ssl_context):  # noqa: S310
                pass
        except OSError as exc:
            # The ticket then shows as unconfirmed to staff, who can check the printer.
            log.warning("could not report ticket %s: %s", job.job_id, exc)

    def _report_status(self, status: PrinterStatus) -> None:
        if self.client.connected:
            self._send_status(status)

    def _send_status(self, status: PrinterStatus) -> None:
        self.client.emit("printer_status", {"state": status.state.value, "message": status.message})
