"""Printing tickets on printers the server drives: one spooler per kiosk printer.

The issue request only queues the job (after the ticket is committed); the spooler's
result is then recorded like a kiosk's own print report, and printer states are stored
and pushed to staff.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from hardware.layout import build_ticket
from hardware.printers import (
    PrinterState,
    PrinterStatus,
    TicketPrinter,
    VirtualPrinter,
    make_printer,
    status_of,
)
from hardware.spooler import PrintJob, Spooler
from hardware.ticket import TicketPrint
from server.live.events import Events
from server.office.accounts import AGENT_PRINTER, Device, device_from_row
from server.queue import visits as tickets
from server.queue.center import Center


class PrintService:
    """Owns the spoolers of the printers this server drives, keyed by kiosk device id."""

    def __init__(
        self,
        center: Center,
        events: Events,
        center_name: str,
        data_dir: Path,
        give_up_after_s: float = 20.0,
    ) -> None:
        self.center = center
        self.give_up_after_s = give_up_after_s
        self.events = events
        self.center_name = center_name
        self.data_dir = data_dir
        self._spoolers: dict[int, Spooler] = {}
        # Jobs sent to edge agents, kept until the agent reports them (resent on reconnect).
        self._agent_jobs: dict[int, dict[int, bytes]] = {}
        self._started = False
        self._lock = threading.Lock()
        events.listeners.append(self.on_fact)

    def start(self) -> None:
        """Start a spooler for every printer the server drives, so staff see their state now."""
        with self._lock:
            if self._started:
                return
            self._started = True
        with self.center.store.read() as conn:
            rows = conn.execute(
                "SELECT * FROM devices WHERE active = 1 AND printer IS NOT NULL AND printer != ?",
                (AGENT_PRINTER,),
            ).fetchall()
        for row in rows:
            self.spooler(device_from_row(row)).start()

    def printer_for(self, device: Device) -> TicketPrinter:
        """Build the printer a device's URL names (a relative virtual folder is in the data dir)."""
        url = device.printer or ""
        if url.startswith("virtual:") and not url.startswith("virtual:/"):
            return VirtualPrinter(device.name, self.data_dir / (url[8:] or f"printer-{device.id}"))
        return make_printer(device.name, url)

    def spooler(self, device: Device) -> Spooler:
        """Return (creating once) the spooler of a kiosk's printer."""
        with self._lock:
            if device.id not in self._spoolers:
                self._spoolers[device.id] = Spooler(
                    self.printer_for(device),
                    on_result=self._result_handler(device),
                    on_status=self._status_handler(device),
                    give_up_after_s=self.give_up_after_s,
                )
            return self._spoolers[device.id]

    def print_issued(
        self, device: Device, ticket: dict[str, Any], language: str, status_url: str
    ) -> None:
        """Print a just-issued ticket if this server drives the kiosk's printer.

        Not for a kiosk that prints by itself, a ticket issued with "print": false (it waits
        already), nor an idempotent replay (the first request printed it).
        """
        if device.printer and ticket["state"] == "issued" and not ticket.get("replayed"):
            self.submit(device, ticket, language, status_url)

    def submit(
        self, device: Device, ticket: dict[str, Any], language: str, status_url: str
    ) -> None:
        """Queue a committed ticket for printing on the device's printer."""
        data = build_ticket(self.ticket_print(ticket, language, status_url), device.print_mode)
        if device.printer == AGENT_PRINTER:
            with self._lock:
                self._agent_jobs.setdefault(device.id, {})[ticket["id"]] = data
            self.events.send_print_job(device.id, ticket["id"], data)
        else:
            self.spooler(device).submit(PrintJob(ticket["id"], data))

    def reported(self, device: Device, ticket_id: int) -> None:
        """Forget an agent's job once its result came back."""
        with self._lock:
            self._agent_jobs.get(device.id, {}).pop(ticket_id, None)

    def on_fact(self, fact: str, data: dict[str, Any]) -> None:
        """Resend held jobs to a reconnected agent; store the printer states agents report."""
        device: Device = data.get("device")  # type: ignore[assignment]
        if fact == "agent_connected":
            with self._lock:
                held = dict(self._agent_jobs.get(device.id, {}))
            for ticket_id, job in held.items():
                self.events.send_print_job(device.id, ticket_id, job)
        elif fact == "agent_printer_status":
            try:
                state = PrinterState(data.get("state"))
            except ValueError:
                return  # not a state we know: ignore rather than store nonsense
            self._status_handler(device)(status_of(state))

    def ticket_print(self, ticket: dict[str, Any], language: str, status_url: str) -> TicketPrint:
        """Turn the API's ticket into what hardware prints."""
        names = ticket["service"]["name"]
        with self.center.store.read() as conn:
            row = conn.execute(
                "SELECT documents_az, documents_ru, documents_en FROM services WHERE code = ?",
                (ticket["service"]["code"],),
            ).fetchone()
        documents = row[f"documents_{language}"] or row["documents_az"] if row else None
        issued = datetime.fromtimestamp(ticket["arrived_at"], self.center.timezone)
        return TicketPrint(
            center=self.center_name,
            label=ticket["label"],
            service=names.get(language) or names["az"],
            issued_at=issued.strftime("%d.%m.%Y %H:%M"),
            people_ahead=ticket["people_ahead"],
            wait_minutes=ticket["estimated_wait_min"],
            status_url=status_url,
            language=language,
            documents=documents,
        )

    def _result_handler(self, device: Device) -> Callable[[PrintJob, bool, str], None]:
        def on_result(job: PrintJob, printed: bool, message: str) -> None:
            ticket = tickets.record_print_result(self.center, job.job_id, printed, device, message)
            self.events.print_result(device.name, ticket, printed, message)

        return on_result

    def _status_handler(self, device: Device) -> Callable[[PrinterStatus], None]:
        def on_status(status: PrinterStatus) -> None:
            with self.center.transaction() as (conn, now):
                conn.execute(
                    "INSERT INTO printer_status (device_id, state, message, at) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (device_id) DO UPDATE SET state = excluded.state,"
                    " message = excluded.message, at = excluded.at",
                    (device.id, status.state.value, status.message, now),
                )
            self.events.printer_status(device.name, status.state.value, status.message)

        return on_status
