"""How a ticket reaches the printer: one spooler per kiosk printer, fed by published facts.

A ``TicketIssued`` (or ``ReprintWanted``) fact, published after the ticket committed, becomes
ESC/POS bytes (``hardware.layout``) queued on the kiosk's spooler, or sent to its edge agent;
the request never waits for paper. The spooler's result is recorded like a kiosk's own print
report, and printer states are stored and published to staff.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from hardware import profiles
from hardware.calibration import build_calibration
from hardware.layout import build_ticket
from hardware.printers import (
    BadPrinterUrl,
    PrinterState,
    PrinterStatus,
    RefusedPrinter,
    TicketPrinter,
    check_url,
    make_printer,
    status_of,
)
from hardware.spooler import PrintJob, Spooler
from hardware.ticket import TicketPrint
from server.live.once import Once
from server.live.publisher import Publisher
from server.office.accounts import printing_devices
from server.office.floor import record_printer_status
from server.queue.actors import AGENT_PRINTER, Device
from server.queue.center import Center
from server.queue.errors import Invalid
from server.queue.facts import (
    AgentConnected,
    AgentPrinterReported,
    AgentPrintJob,
    CalibrationWanted,
    PrintingChanged,
    PrintReported,
    ReprintWanted,
    TicketIssued,
)
from server.queue.visits import record_print_result

log = logging.getLogger(__name__)
CALIBRATION_JOB = 0  # a job no ticket has: ticket ids start at 1


def check_printer(url: str | None, profile: str, data_dir: Path) -> None:
    """Refuse, naming the field, a printer URL that names no printer or an unknown model."""
    try:
        profiles.get(profile)
    except profiles.UnknownProfile as exc:
        raise Invalid("unknown_printer_profile", str(exc), "printer_profile") from exc
    if url:
        try:
            check_url(url, data_dir)
        except BadPrinterUrl as exc:
            raise Invalid("bad_printer_url", str(exc), "printer") from exc


def printer_for(
    device_name: str, url: str, data_dir: Path, profile: str, text_pages: str | None = None
) -> TicketPrinter:
    """Build the printer a URL names; a ``virtual:`` folder is inside the data dir.

    A virtual printer previews jobs as the model would print them: its paper width and the
    code-page numbering its calibration found (``text_pages``).
    """
    try:
        model = profiles.with_text_pages(profiles.get(profile), text_pages)
        return make_printer(
            device_name, url, data_dir, code_pages=model.code_pages, dots=model.dots
        )
    except (BadPrinterUrl, profiles.UnknownProfile) as exc:  # stored before it was checked
        return RefusedPrinter(device_name, str(exc))


class PrintService:
    """Owns the spoolers of the printers this server drives, keyed by kiosk device id."""

    def __init__(
        self,
        center: Center,
        publisher: Publisher,
        center_name: str,
        data_dir: Path,
        status_url: Callable[[str], str],
        give_up_after_s: float = 20.0,
    ) -> None:
        self.center = center
        self.publisher = publisher
        self.center_name = center_name
        self.data_dir = data_dir
        # The ticket's public status page (its QR code), from its token.
        self.status_url = status_url
        self.give_up_after_s = give_up_after_s
        self._spoolers: dict[int, Spooler] = {}
        # Jobs sent to edge agents, kept until the agent reports them (resent on reconnect).
        self._agent_jobs: dict[int, dict[int, bytes]] = {}
        self._lock = threading.Lock()
        # A spooler for every printer the server drives, so staff see their state at once.
        self.start = Once(self._start_spoolers)
        publisher.subscribe(TicketIssued, self.on_issued)
        # In the visitor's language, as the first print was (a reprint came out in Azerbaijani).
        publisher.subscribe(
            ReprintWanted,
            lambda fact: self.submit(fact.device, fact.ticket, fact.ticket.get("language") or "az"),
        )
        publisher.subscribe(CalibrationWanted, self.on_calibration_wanted)
        publisher.subscribe(PrintingChanged, self.on_printing_changed)
        publisher.subscribe(PrintReported, self.on_reported)
        publisher.subscribe(AgentConnected, self.on_agent_connected)
        publisher.subscribe(AgentPrinterReported, self.on_agent_report)

    def _start_spoolers(self) -> None:
        with self.center.store.read() as conn:
            devices = printing_devices(conn)
        for device in devices:
            self.spooler(device).start()

    def spooler(self, device: Device) -> Spooler:
        """Return (creating once) the spooler of a kiosk's printer."""
        with self._lock:
            if device.id not in self._spoolers:
                self._spoolers[device.id] = Spooler(
                    printer_for(
                        device.name,
                        device.printer or "",
                        self.data_dir,
                        device.printer_profile,
                        device.text_pages,
                    ),  # fmt: skip
                    on_result=self._result_handler(device),
                    on_status=self._status_handler(device),
                    give_up_after_s=self.give_up_after_s,
                )
            return self._spoolers[device.id]

    def on_issued(self, fact: TicketIssued) -> None:
        """Print a just-issued ticket if this server drives the kiosk's printer.

        Not for a kiosk that prints by itself, nor a ticket issued with "print": false (it
        waits already); an idempotent replay publishes no fact at all.
        """
        device = fact.device
        if device is not None and device.printer and fact.ticket["state"] == "issued":
            self.submit(device, fact.ticket, fact.language)

    def submit(self, device: Device, ticket: dict[str, Any], language: str) -> None:
        """Queue a committed ticket for printing on the device's printer.

        A job that cannot be built (a profile's quirk, a stored profile since refused) never
        fails the request that issued the ticket (it answered 500 with the ticket saved): the
        print is recorded as failed, so the kiosk says so and the floor lists it for a reprint.
        """
        try:
            data = build_ticket(
                self.ticket_print(ticket, language),
                device.print_mode,
                device.printer_profile,
                device.text_pages,
            )
        except Exception as exc:  # noqa: BLE001  # any layout failure: the number stays on screen
            log.exception("ticket %s could not be laid out for %s", ticket["label"], device.name)
            why = f"the ticket could not be laid out for this printer ({type(exc).__name__})"
            self.publisher.publish(
                record_print_result(self.center, ticket["id"], False, device, why).facts
            )
            return
        if device.printer == AGENT_PRINTER:
            with self._lock:
                self._agent_jobs.setdefault(device.id, {})[ticket["id"]] = data
            self.publisher.publish([AgentPrintJob(device.id, ticket["id"], data)])
        else:
            self.spooler(device).submit(PrintJob(ticket["id"], data))

    def on_calibration_wanted(self, fact: CalibrationWanted) -> None:
        """Print the calibration ticket on a printer the server drives, after queued tickets."""
        data = build_calibration(fact.device.printer_profile)
        self.spooler(fact.device).submit(PrintJob(CALIBRATION_JOB, data))

    def on_printing_changed(self, fact: PrintingChanged) -> None:
        """Give the printer's spooler the numbering just chosen.

        A virtual printer's previews follow it; the jobs already built keep theirs.
        """
        device = fact.device
        with self._lock:
            spooler = self._spoolers.get(device.id)
        if spooler is not None:  # one attribute swapped: the worker reads it once a job
            spooler.printer = printer_for(device.name, device.printer or "", self.data_dir,
                                          device.printer_profile, device.text_pages)  # fmt: skip

    def on_reported(self, fact: PrintReported) -> None:
        """Forget an agent's job once its result came back."""
        with self._lock:
            self._agent_jobs.get(fact.device.id, {}).pop(fact.ticket_id, None)

    def on_agent_connected(self, fact: AgentConnected) -> None:
        """Send a reconnected agent the jobs it has not reported yet."""
        with self._lock:
            held = dict(self._agent_jobs.get(fact.device.id, {}))
        self.publisher.publish(
            [AgentPrintJob(fact.device.id, ticket_id, job) for ticket_id, job in held.items()]
        )

    def on_agent_report(self, fact: AgentPrinterReported) -> None:
        """Store and publish the printer state an agent reported."""
        try:
            state = PrinterState(fact.state)
        except ValueError:
            return  # not a state we know: ignore rather than store nonsense
        self._status_handler(fact.device)(status_of(state))

    def ticket_print(self, ticket: dict[str, Any], language: str) -> TicketPrint:
        """Turn the API's ticket into what hardware prints."""
        names, documents = ticket["service"]["name"], ticket["documents"]
        issued = datetime.fromtimestamp(ticket["arrived_at"], self.center.timezone)
        return TicketPrint(
            center=self.center_name,
            label=ticket["label"],
            service=names.get(language) or names["az"],
            issued_at=issued.strftime("%d.%m.%Y %H:%M"),
            people_ahead=ticket["people_ahead"],
            wait_minutes=ticket["estimated_wait_min"],
            wait_range=tuple(ticket["estimated_wait_range_min"] or ()) or None,
            status_url=self.status_url(ticket["token"]),
            language=language,
            documents=documents.get(language) or documents.get("az"),
            booked_for=ticket["appointment"]["slot"] if ticket.get("appointment") else None,
        )

    def _result_handler(self, device: Device) -> Callable[[PrintJob, bool, str], None]:
        def on_result(job: PrintJob, printed: bool, message: str) -> None:
            if job.job_id == CALIBRATION_JOB:  # no ticket: the technician reads the paper
                log.info("calibration ticket on %s: %s", device.name, message or "printed")
                return
            self.publisher.publish(
                record_print_result(self.center, job.job_id, printed, device, message).facts
            )

        return on_result

    def _status_handler(self, device: Device) -> Callable[[PrinterStatus], None]:
        def on_status(status: PrinterStatus) -> None:
            self.publisher.publish(
                record_printer_status(self.center, device, status.state.value, status.message)
            )

        return on_status
