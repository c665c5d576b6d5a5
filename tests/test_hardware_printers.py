"""Printers over real byte paths (TCP on loopback, a pseudo-terminal), status, and the spooler."""

import itertools
import os
import subprocess
import sys
import termios
import threading
import time
from pathlib import Path

import pytest

from hardware.decode import decode
from hardware.layout import build_ticket
from hardware.printers import (
    BadPrinterUrl,
    EscposPrinter,
    PrinterState,
    PrinterUnavailable,
    PrintInterrupted,
    VirtualPrinter,
    check_url,
    make_printer,
    parse_status,
    status_of,
)
from hardware.spooler import PrintJob, Spooler
from hardware.transports import (
    PACED_BYTES_PER_S,
    PACED_CHUNK_BYTES,
    SERIAL_BUFFER_BYTES,
    DeviceFileTransport,
    SerialTransport,
)
from server.live.printing import printer_for
from tests.fake_printer import PtyPrinter, TcpPrinter
from tests.test_hardware_layout import ticket

# A probe returns as soon as the printer answers, so a printer that should answer gets a long
# timeout (a loaded CI machine can take a while to schedule the fake's thread) and only a
# printer that should stay silent gets a short one.
ANSWERS_WITHIN_S = 3.0
SILENT_AFTER_S = 0.3


@pytest.fixture
def tcp_printer():
    printer = TcpPrinter()
    yield printer
    printer.unplug()


@pytest.mark.parametrize(
    ("replies", "state"),
    [
        ((0x12, 0x12, 0x12), PrinterState.READY),
        ((0x12, 0x12, 0x1E), PrinterState.PAPER_NEAR_END),
        ((0x1A, 0x32, 0x7E), PrinterState.PAPER_OUT),
        ((0x1A, 0x16, 0x12), PrinterState.COVER_OPEN),
        ((0x1A, 0x52, 0x12), PrinterState.ERROR),
        ((None, None, None), PrinterState.OFFLINE),
        ((0x12, 0x12, None), PrinterState.UNKNOWN),  # no paper answer is not "paper OK"
        ((0x10, 0x10, 0x10), PrinterState.UNKNOWN),  # an echo, not a status byte
    ],
)
def test_status_replies_are_read_by_epson_bit_layout(replies, state):
    assert parse_status(*replies).state is state


@pytest.mark.parametrize(
    ("setting", "state"),
    [
        ({}, PrinterState.READY),
        ({"paper": "near_end"}, PrinterState.PAPER_NEAR_END),
        ({"paper": "end"}, PrinterState.PAPER_OUT),
        ({"cover_open": True}, PrinterState.COVER_OPEN),
        ({"error": True}, PrinterState.ERROR),
        ({"silent": True}, PrinterState.OFFLINE),
    ],
)
def test_network_printer_status_over_tcp(tcp_printer, setting, state):
    for key, value in setting.items():
        setattr(tcp_printer.state, key, value)
    timeout = SILENT_AFTER_S if setting.get("silent") else ANSWERS_WITHIN_S
    status = make_printer("kiosk-1", tcp_printer.url, timeout=timeout).status()
    assert status.state is state and status.message


def test_network_printer_receives_the_exact_ticket_bytes(tcp_printer):
    data = build_ticket(ticket(), "text")
    make_printer("kiosk-1", tcp_printer.url).send(data)
    assert tcp_printer.wait_for_jobs(1) == [data]
    assert decode(tcp_printer.jobs[0]).qr_codes == [ticket().status_url]


def test_unplugged_network_printer_is_offline_and_refuses_jobs(tcp_printer):
    tcp_printer.unplug()
    printer = make_printer("kiosk-1", tcp_printer.url, timeout=SILENT_AFTER_S)
    assert printer.status().state is PrinterState.OFFLINE
    with pytest.raises(PrinterUnavailable):
        printer.send(b"\x1b@")


def test_serial_printer_on_a_pseudo_terminal():
    fake = PtyPrinter()
    try:
        printer = make_printer("kiosk-2", f"serial:{fake.path}?baud=9600", timeout=ANSWERS_WITHIN_S)
        assert printer.status().state is PrinterState.READY
        data = build_ticket(ticket(), "text")
        printer.send(data)
        assert fake.receive(len(data)) == data
        fake.state.silent = True
        silent = make_printer("kiosk-2", f"serial:{fake.path}?baud=9600", timeout=SILENT_AFTER_S)
        assert silent.status().state is PrinterState.OFFLINE
    finally:
        fake.close()


def test_usb_device_node_printer_prints_and_reports_status():
    # /dev/usb/lp0 is a character device like a pty: the same reads and writes reach it.
    # (A usb: URL names only /dev/usb/lpN, so the pty's transport is built directly.)
    fake = PtyPrinter()
    try:
        printer = EscposPrinter("kiosk-4", lambda: DeviceFileTransport(fake.path, ANSWERS_WITHIN_S))
        fake.state.paper = "near_end"
        assert printer.status().state is PrinterState.PAPER_NEAR_END
        data = build_ticket(ticket(), "raster")
        printer.send(data)
        assert fake.receive(len(data)) == data
    finally:
        fake.close()


def test_echoing_serial_line_is_not_taken_for_a_ready_printer():
    printer = EscposPrinter("kiosk-3", lambda: SerialTransport("loop://", 9600, 0.2))
    assert printer.status().state is PrinterState.UNKNOWN


def test_paper_running_out_during_the_job_is_a_failed_print_with_that_reason(tcp_printer):
    tcp_printer.state.runs_out = True
    printer = make_printer("kiosk-1", tcp_printer.url, timeout=ANSWERS_WITHIN_S)
    with pytest.raises(PrintInterrupted, match="out of paper"):
        printer.send(build_ticket(ticket(), "text"))


def test_a_late_answer_after_the_job_is_waited_for(tcp_printer):
    tcp_printer.state.answer_after_s = 1.0  # longer than the probe's own timeout
    printer = make_printer("kiosk-1", tcp_printer.url, timeout=SILENT_AFTER_S, confirm_within_s=30)
    assert printer.send(build_ticket(ticket(), "text")).state is PrinterState.READY


def test_no_answer_after_the_job_is_check_the_printer_never_printed(tcp_printer):
    outcomes = Outcomes()
    printer = make_printer("kiosk-1", tcp_printer.url, timeout=SILENT_AFTER_S,
                           confirm_within_s=SILENT_AFTER_S)  # fmt: skip
    spooler = spooler_for(printer, outcomes)
    tcp_printer.state.goes_silent = True  # it takes the job, then says nothing
    spooler.submit(PrintJob(11, build_ticket(ticket(), "text")))
    assert outcomes.done.wait(10)
    spooler.stop()
    ((job_id, printed, message),) = outcomes.results
    assert (job_id, printed) == (11, False) and message.startswith("Check the printer")


@pytest.mark.parametrize(
    ("flow", "flag", "field"),
    [("rtscts", termios.CRTSCTS, 2), ("xonxoff", termios.IXON, 0)],
)
def test_serial_flow_control_is_set_on_the_line(flow, flag, field):
    fake = PtyPrinter()
    try:
        printer = make_printer("kiosk-2", f"serial:{fake.path}?baud=115200&flow={flow}")
        transport = printer._connect()
        try:
            assert termios.tcgetattr(transport.port.fd)[field] & flag
        finally:
            transport.close()
    finally:
        fake.close()


@pytest.mark.parametrize("baud", [9600, 115200])
def test_a_raster_job_without_flow_control_is_paced_past_the_buffer(baud):
    # Sending a chunk takes the line's time (the clock below moves by it); the pacing waits
    # only for the rest of the chunk's time at PACED_BYTES_PER_S. It waited on top of the
    # line's time: 0.83 KB/s at 9600 Bd, 3.9 KB/s at 115200, not the 6 KB/s documented.
    fake = PtyPrinter()
    pauses, readings = [], itertools.count()
    chunk_line_s = PACED_CHUNK_BYTES * 10 / baud  # 8N1: ten bits a byte

    def clock():  # read before and after each chunk: a chunk takes its line time
        return (next(readings) + 1) // 2 * chunk_line_s

    try:
        transport = SerialTransport(fake.path, baud, 1.0, None, pauses.append, clock)
        data = build_ticket(ticket(), "raster", "POS-5890")
        transport.write(data)
        transport.close()
        assert fake.receive(len(data)) == data
        chunks = -(-(len(data) - SERIAL_BUFFER_BYTES) // PACED_CHUNK_BYTES)
        paced_s = PACED_CHUNK_BYTES / PACED_BYTES_PER_S
        if chunk_line_s >= paced_s:  # the line is slower than the pace: no wait at all
            assert pauses == []
        else:
            assert pauses == pytest.approx([paced_s - chunk_line_s] * chunks)
    finally:
        fake.close()


@pytest.mark.parametrize(
    "url",
    [
        "usb:/etc/passwd",
        "usb:dostq.db",
        "usb:/dev/usb/../../etc/shadow",
        "serial:/etc/passwd",
        "serial:loop://",
        "serial:/dev/ttyUSB0?flow=magic",
        "virtual:../..",
        "virtual:/tmp/elsewhere",
        "virtual:.",  # among the database and the secret key
        "virtual:backups",  # among the backups
        "virtual:printer/../tls",
        "tcp://",
        "tcp://10.0.0.5:9100/admin",
        "tcp://10.0.0.5:99999",
        "file:///etc/passwd",
        "http://10.0.0.5/",
    ],
)
def test_a_printer_url_names_a_printer_and_nothing_else(tmp_path, url):
    with pytest.raises(BadPrinterUrl):
        check_url(url, tmp_path)


@pytest.mark.parametrize(
    "url",
    [
        "tcp://10.0.0.21",
        "tcp://10.0.0.21:9100",
        "serial:/dev/ttyUSB0?baud=9600&flow=rtscts",
        "serial:/dev/serial/by-id/usb-Prolific-if00-port0",
        "usb:/dev/usb/lp0",
        "usb:/dev/lp1",
        "virtual:printer-kiosk-1",
        "agent:",
    ],
)
def test_printer_urls_that_name_printers_are_accepted(tmp_path, url):
    assert check_url(url, tmp_path) == url


def test_a_stored_url_refused_at_spool_time_tells_staff_why(tmp_path):
    printer = printer_for("kiosk-1", "usb:/etc/passwd", tmp_path, "TM-T20II")
    status = printer.status()
    assert status.state is PrinterState.ERROR and "usb:/dev/usb/lpN" in status.message
    with pytest.raises(PrinterUnavailable):
        printer.send(b"\x1b@")


class Outcomes:
    def __init__(self):
        self.results, self.statuses = [], []
        self.done = threading.Event()

    def result(self, job, printed, message):
        self.results.append((job.job_id, printed, message))
        self.done.set()

    def status(self, status):
        self.statuses.append(status.state)


def spooler_for(printer, outcomes, give_up_after_s=10.0):
    return Spooler(
        printer,
        outcomes.result,
        outcomes.status,
        give_up_after_s=give_up_after_s,
        retry_every_s=0.05,
        poll_every_s=60,
    )


def test_printer_that_comes_back_prints_the_ticket_once(tcp_printer):
    outcomes = Outcomes()
    tcp_printer.unplug()
    spooler = spooler_for(
        make_printer("kiosk-1", tcp_printer.url, timeout=ANSWERS_WITHIN_S), outcomes
    )
    data = build_ticket(ticket(), "text")
    spooler.submit(PrintJob(7, data))
    while PrinterState.OFFLINE not in outcomes.statuses:
        time.sleep(0.02)
    tcp_printer.plug_back()
    assert outcomes.done.wait(10)
    spooler.stop()
    assert [r[:2] for r in outcomes.results] == [(7, True)]
    assert tcp_printer.wait_idle() == [data]  # the spooler has stopped: no second copy
    assert outcomes.statuses == [PrinterState.OFFLINE, PrinterState.READY]


def test_job_cut_off_mid_send_is_reported_and_not_printed_twice(tcp_printer):
    outcomes = Outcomes()
    tcp_printer.state.cut_after = 100
    spooler = spooler_for(
        make_printer("kiosk-1", tcp_printer.url, timeout=ANSWERS_WITHIN_S), outcomes
    )
    spooler.submit(PrintJob(8, build_ticket(ticket(), "raster")))
    assert outcomes.done.wait(10)
    spooler.stop()
    job_id, printed, message = outcomes.results[0]
    assert (job_id, printed) == (8, False) and "reprint" in message
    assert len(tcp_printer.wait_idle()) == 1  # one partial attempt, no automatic second copy


def test_paper_out_fails_the_job_with_a_message_for_staff(tmp_path):
    outcomes = Outcomes()
    printer = VirtualPrinter("kiosk-1", tmp_path)
    (tmp_path / "STATE").write_text("paper_out")
    spooler = spooler_for(printer, outcomes, give_up_after_s=0.3)
    spooler.submit(PrintJob(9, build_ticket(ticket(), "text")))
    assert outcomes.done.wait(10)
    spooler.stop()
    assert outcomes.results == [(9, False, "Printer is out of paper: load a new roll.")]
    assert outcomes.statuses == [PrinterState.PAPER_OUT]
    assert printer.jobs() == []


def test_virtual_printer_keeps_bytes_and_a_png_preview(tmp_path):
    printer = VirtualPrinter("kiosk-1", tmp_path)
    data = build_ticket(ticket(), "text")
    printer.send(data)
    (preview,) = printer.jobs()
    assert preview.with_suffix(".bin").read_bytes() == data
    assert preview.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class OddPrinter:
    """A printer whose first job raises what no transport would (a driver's bug, say)."""

    name = "kiosk-odd"

    def __init__(self):
        self.jobs = []

    def status(self):
        return status_of(PrinterState.READY)

    def send(self, data):
        if not self.jobs:
            self.jobs.append(None)
            raise RuntimeError("odd answer")
        self.jobs.append(data)
        return status_of(PrinterState.READY)


def test_the_spooler_survives_any_error_of_a_job_and_prints_the_next():
    outcomes = Outcomes()
    printer = OddPrinter()
    spooler = spooler_for(printer, outcomes)
    spooler.submit(PrintJob(1, b"first"))
    spooler.submit(PrintJob(2, b"second"))
    deadline = time.monotonic() + 10
    while len(outcomes.results) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    spooler.stop()
    assert [r[:2] for r in outcomes.results] == [(1, False), (2, True)]
    assert printer.jobs == [None, b"second"]


def test_processes_starting_together_share_the_printer_database_safely(tmp_path):
    # python-escpos pickles its database in place on first use; two test workers on a fresh
    # install read half a pickle (EOFError). Eight processes now start on one empty folder.
    env = {**os.environ, "ESCPOS_CAPABILITIES_PICKLE_DIR": str(tmp_path)}
    started = [
        subprocess.Popen([sys.executable, "-c", "import hardware.profiles"], env=env,
                         stderr=subprocess.PIPE, cwd=Path(__file__).resolve().parents[1])
        for _ in range(8)
    ]  # fmt: skip
    errors = [process.communicate(timeout=120)[1].decode() for process in started]
    assert all(process.returncode == 0 for process in started), errors
