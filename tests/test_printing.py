"""Printing through the real server: kiosk issues, the spooler prints, the ticket is confirmed."""

import sqlite3

import pytest

from hardware.decode import decode
from tests.conftest import wait_until
from tests.live import start_live_center

KIOSK_PRINTER = "printer"  # the demo's kiosk-1 prints on virtual:printer in the data dir


def wait_for_print_status(live, token, timeout=15):
    """Wait until the ticket left "issued" (printed or failed); return it and the snapshot."""
    http = live.kiosk()
    seen = {}

    def settled():
        seen["status"] = http.get(f"{live.url}/api/v1/tickets/status/{token}", timeout=10).json()
        return seen["status"]["state"] != "issued"

    assert wait_until(settled, timeout), "the ticket was never confirmed printed or failed"
    return seen["status"], http.get(f"{live.url}/api/v1/snapshot", timeout=10).json()


def calibrated_to_text(live):
    """Answer kiosk-1's calibration as a technician would: line 1 read right (its profile's
    own numbering: the virtual printer reads jobs with it). A new printer draws until then."""
    from click.testing import CliRunner

    from server.cli import main

    args = ["printer", "calibrate", "--data-dir", str(live.data_dir), "--device", "kiosk-1",
            "--no-print", "--choice", "1"]  # fmt: skip
    answer = CliRunner().invoke(main, args)
    assert answer.exit_code == 0, answer.output


def take_ticket(live, **body):
    response = live.kiosk().post(
        f"{live.url}/api/v1/tickets", json={"service": "4.7", **body}, timeout=10
    )
    assert response.status_code == 201
    return response.json()


@pytest.fixture
def paper_out_center(tmp_path):
    """A demo center whose virtual printer is out of paper; jobs give up after 1 s, not 20."""
    live = start_live_center(tmp_path / "center", settings={"PRINT_GIVE_UP_S": "1"})
    folder = live.data_dir / KIOSK_PRINTER
    folder.mkdir(exist_ok=True)
    (folder / "STATE").write_text("paper_out")
    yield live
    live.stop()


def test_kiosk_ticket_prints_on_the_server_driven_printer(live_center):
    calibrated_to_text(live_center)
    kiosk = live_center.kiosk()
    ticket = kiosk.post(
        f"{live_center.url}/api/v1/tickets", json={"service": "4.7", "language": "ru"}, timeout=10
    ).json()
    assert (ticket["state"], ticket["print_status"]) == ("issued", "pending")
    status, snapshot = wait_for_print_status(live_center, ticket["token"])
    assert status["state"] == "waiting"
    assert [(p["device"], p["state"]) for p in snapshot["printers"]] == [("kiosk-1", "ready")]
    (job,) = (live_center.data_dir / KIOSK_PRINTER).glob("*.bin")
    decoded = decode(job.read_bytes())
    assert ticket["label"] in decoded.lines
    assert "Перед вами: 0 чел." in decoded.lines
    assert decoded.qr_codes == [f"{live_center.url}/t/{ticket['token']}"]
    manager = live_center.session("manager", "demo-floor-lead")
    page = manager.get(f"{live_center.url}/printers/kiosk-1/", timeout=10)
    assert page.status_code == 200 and job.stem in page.text
    preview = manager.get(f"{live_center.url}/printers/kiosk-1/{job.stem}.png", timeout=10)
    assert preview.content[:4] == b"\x89PNG"
    public = kiosk.get(f"{live_center.url}/t/{ticket['token']}", timeout=10)
    assert public.status_code == 200 and ticket["label"] in public.text


def test_double_tap_prints_one_ticket(live_center):
    kiosk = live_center.kiosk()
    headers = {"Idempotency-Key": "tap-42"}
    first = kiosk.post(
        f"{live_center.url}/api/v1/tickets", json={"service": "4.7"}, headers=headers, timeout=10
    ).json()
    again = kiosk.post(
        f"{live_center.url}/api/v1/tickets", json={"service": "4.7"}, headers=headers, timeout=10
    ).json()
    assert again["id"] == first["id"] and again["replayed"] is True
    wait_for_print_status(live_center, first["token"])
    # The spooler prints in order: once a later ticket is out, a second copy would be too.
    later = kiosk.post(
        f"{live_center.url}/api/v1/tickets", json={"service": "4.7"}, timeout=10
    ).json()
    wait_for_print_status(live_center, later["token"])
    assert len(list((live_center.data_dir / KIOSK_PRINTER).glob("*.bin"))) == 2


@pytest.mark.live
def test_printer_out_of_paper_still_queues_the_visitor_and_tells_staff(paper_out_center):
    live = paper_out_center
    ticket = take_ticket(live)
    status, snapshot = wait_for_print_status(live, ticket["token"])
    assert status["state"] == "waiting"  # the number is on the kiosk screen: keep the place
    assert snapshot["printers"][0]["state"] == "paper_out"
    assert "out of paper" in snapshot["printers"][0]["message"]
    assert list((live.data_dir / KIOSK_PRINTER).glob("*.bin")) == []
    manager = live.session("manager", "demo-floor-lead")
    with_token = manager.get(f"{live.url}/api/v1/snapshot", timeout=10).json()
    assert with_token["printers"][0]["state"] == "paper_out"


def test_printer_state_is_known_before_the_first_ticket(live_center):
    manager = live_center.session("manager", "demo-floor-lead")

    def printers():
        return manager.get(f"{live_center.url}/api/v1/snapshot", timeout=10).json()["printers"]

    assert wait_until(printers, 10)
    assert [(p["device"], p["state"]) for p in printers()] == [("kiosk-1", "ready")]
    assert list((live_center.data_dir / KIOSK_PRINTER).glob("*.bin")) == []  # nothing printed


@pytest.mark.live
def test_staff_reprint_after_paper_out_prints_the_ticket(paper_out_center):
    live = paper_out_center
    calibrated_to_text(live)
    folder = live.data_dir / KIOSK_PRINTER
    ticket = take_ticket(live, language="ru")
    wait_for_print_status(live, ticket["token"])
    manager = live.session("manager", "demo-floor-lead")

    def not_printed():
        floor = manager.get(f"{live.url}/manager/floor.json", timeout=10).json()
        return [t["label"] for t in floor["not_printed"]]

    # The floor names the ticket that did not print (it said only "paper out" before).
    assert not_printed() == [ticket["label"]]
    (folder / "STATE").unlink()  # paper loaded
    reprint = manager.post(f"{live.url}/api/v1/tickets/{ticket['id']}/reprint", timeout=10)
    assert reprint.status_code == 200 and reprint.json()["print_status"] == "pending"

    def print_status():
        with sqlite3.connect(live.data_dir / "dostq.db") as db:
            return db.execute(
                "SELECT print_status FROM tickets WHERE id = ?", (ticket["id"],)
            ).fetchone()[0]

    assert wait_until(lambda: print_status() == "printed", 15)
    assert not_printed() == []  # printed at last: off the list
    (job,) = folder.glob("*.bin")
    assert ticket["label"] in decode(job.read_bytes()).lines
    # In the visitor's language, as the first print was (a reprint came out in Azerbaijani).
    printed = " ".join(decode(job.read_bytes()).lines)
    assert ticket["service"]["name"]["ru"].split()[0] in printed, printed
    not_waiting = manager.post(f"{live.url}/api/v1/tickets/999/reprint", timeout=10)
    assert not_waiting.status_code == 404
