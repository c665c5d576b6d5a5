"""Printing through the real server: kiosk issues, the spooler prints, the ticket is confirmed."""

import time

from hardware.decode import decode

KIOSK_PRINTER = "printer"  # the demo's kiosk-1 prints on virtual:printer in the data dir


def wait_for_print_status(live, token, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        clerk = live.kiosk()
        snapshot = clerk.get(f"{live.url}/api/v1/snapshot", timeout=10).json()
        status = clerk.get(f"{live.url}/api/v1/tickets/status/{token}", timeout=10).json()
        if status["state"] != "issued":
            return status, snapshot
        time.sleep(0.1)
    raise AssertionError("the ticket was never confirmed printed or failed")


def test_kiosk_ticket_prints_on_the_server_driven_printer(live_center):
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
    manager = live_center.session("manager", "demo-manager-pass")
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
    time.sleep(0.5)  # room for a second copy to appear, if there were one
    assert len(list((live_center.data_dir / KIOSK_PRINTER).glob("*.bin"))) == 1


def test_printer_out_of_paper_still_queues_the_visitor_and_tells_staff(live_center):
    folder = live_center.data_dir / KIOSK_PRINTER
    folder.mkdir(exist_ok=True)
    (folder / "STATE").write_text("paper_out")
    ticket = (
        live_center.kiosk()
        .post(f"{live_center.url}/api/v1/tickets", json={"service": "4.7"}, timeout=10)
        .json()
    )
    status, snapshot = wait_for_print_status(live_center, ticket["token"], timeout=60)
    assert status["state"] == "waiting"  # the number is on the kiosk screen: keep the place
    assert snapshot["printers"][0]["state"] == "paper_out"
    assert "out of paper" in snapshot["printers"][0]["message"]
    assert list(folder.glob("*.bin")) == []
    manager = live_center.session("manager", "demo-manager-pass")
    with_token = manager.get(f"{live_center.url}/api/v1/snapshot", timeout=10).json()
    assert with_token["printers"][0]["state"] == "paper_out"


def test_printer_state_is_known_before_the_first_ticket(live_center):
    manager = live_center.session("manager", "demo-manager-pass")
    deadline = time.monotonic() + 10
    printers = []
    while time.monotonic() < deadline and not printers:
        printers = manager.get(f"{live_center.url}/api/v1/snapshot", timeout=10).json()["printers"]
        time.sleep(0.1)
    assert [(p["device"], p["state"]) for p in printers] == [("kiosk-1", "ready")]
    assert list((live_center.data_dir / KIOSK_PRINTER).glob("*.bin")) == []  # nothing printed


def test_staff_reprint_after_paper_out_prints_the_ticket(live_center):
    import sqlite3

    folder = live_center.data_dir / KIOSK_PRINTER
    folder.mkdir(exist_ok=True)
    (folder / "STATE").write_text("paper_out")
    ticket = (
        live_center.kiosk()
        .post(f"{live_center.url}/api/v1/tickets", json={"service": "4.7"}, timeout=10)
        .json()
    )
    wait_for_print_status(live_center, ticket["token"], timeout=60)
    (folder / "STATE").unlink()  # paper loaded
    manager = live_center.session("manager", "demo-manager-pass")
    reprint = manager.post(f"{live_center.url}/api/v1/tickets/{ticket['id']}/reprint", timeout=10)
    assert reprint.status_code == 200 and reprint.json()["print_status"] == "pending"
    deadline = time.monotonic() + 15
    status = None
    while time.monotonic() < deadline and status != "printed":
        with sqlite3.connect(live_center.data_dir / "dostq.db") as db:
            status = db.execute(
                "SELECT print_status FROM tickets WHERE id = ?", (ticket["id"],)
            ).fetchone()[0]
        time.sleep(0.1)
    assert status == "printed"
    (job,) = folder.glob("*.bin")
    assert ticket["label"] in decode(job.read_bytes()).lines
    not_waiting = manager.post(f"{live_center.url}/api/v1/tickets/999/reprint", timeout=10)
    assert not_waiting.status_code == 404
