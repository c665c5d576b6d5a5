"""The calibration ticket and its answer: a clone prints text only with the numbering it showed
right on paper, and until then draws (raster), right on every printer that draws.

A "printer" here is python-escpos' database entry whose numbering the firmware really has; the
ticket is read as that firmware reads it (``decode(..., firmware=True)``: an unknown slot is
ignored, as Epson-class firmware does), and the "technician" picks the number whose two lines
read exactly as the drawn ones.
"""

import sqlite3

import pytest
from click.testing import CliRunner

from bench.printing import worst_ticket
from hardware import profiles
from hardware.calibration import (
    CYRILLIC_TEST,
    LATIN_TEST,
    build_calibration,
    candidates,
    pages_of_choice,
)
from hardware.decode import decode
from hardware.layout import build_ticket
from server.cli import main
from server.office.demo import DEMO_LOGINS
from server.queue.storage import Store
from tests.accessibility import keep_screen
from tests.conftest import wait_until
from tests.layout import layout_problems

# The catalog's worst ticket, as the bench measures it: every Azerbaijani letter, Ə in the number.
TICKET = worst_ticket("az")


def lines_read_right(data: bytes, firmware_numbering: str) -> list[int]:
    """The numbers whose two lines a printer numbering its pages like that model prints right."""
    printed = decode(data, profiles.get(firmware_numbering).code_pages, firmware=True).text()
    return [
        c
        for c in range(1, 20)
        if f"{c}: {LATIN_TEST}" in printed and f"{c}: {CYRILLIC_TEST}" in printed
    ]


@pytest.mark.parametrize("claimed", ["TM-T20II", "POS-5890", "simple", "SP2000"])
def test_the_ticket_finds_the_numbering_of_every_common_firmware(claimed):
    # Whatever model the printer was enrolled as, a firmware numbering its pages like one of
    # the common ones has exactly one line that reads right, and that line's answer prints
    # the visitor's ticket right on it.
    data = build_calibration(claimed)
    for firmware in ("P822D", "TM-T20II", "RP326", "CT-S651", "KR-306", "SP2000", "TH230"):
        (number,) = lines_read_right(data, firmware)
        pages_of = pages_of_choice(claimed, number)
        ticket = build_ticket(TICKET, "text", claimed, pages_of)
        printed = " ".join(decode(ticket, profiles.get(firmware).code_pages).text())
        assert TICKET.center in printed and TICKET.service in printed, (claimed, firmware)


def test_each_numbering_is_offered_once_and_zero_means_drawn():
    offered = [(c.latin_slot, c.cyrillic_slot) for c in candidates("TM-T20II")]
    assert len(offered) == len(set(offered))
    assert pages_of_choice("TM-T20II", 0) is None
    with pytest.raises(ValueError):
        pages_of_choice("TM-T20II", len(offered) + 1)


def test_a_firmware_without_user_defined_letters_has_no_right_line():
    # ə needs ESC &: a printer ignoring it prints the stand-in ASCII code, so no line matches
    # and the technician answers 0 (drawn).
    data = build_calibration("POS-5890")
    without = data.replace(b"\x1b%\x01", b"\x1b%\x00")
    assert lines_read_right(without, "P822D") == []


def test_the_calibration_ticket_starts_like_every_job_and_fits_the_paper():
    for name in profiles.PROFILE_NAMES:
        decoded = decode(build_calibration(name), profiles.get(name).code_pages, firmware=True)
        assert decoded.commands[:2] == ["ESC @", "FS ."], name
        assert all(image.width <= profiles.get(name).dots for image in decoded.images), name


def cli(*args, input=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=input, catch_exceptions=False)


def test_a_technician_calibrates_a_no_name_clone_from_the_command_line(tmp_path):
    # Enrolled as an Epson (the README's old tip), really numbering like the common clones.
    Store(tmp_path / "dostq.db")
    enrolled = cli("enrol-device", "kiosk-9", "--kind", "kiosk", "--data-dir", tmp_path,
                   "--printer", "virtual:printer-k9", "--profile", "TM-T20II")  # fmt: skip
    assert enrolled.exit_code == 0 and "until calibrated" in enrolled.output

    def device():
        with sqlite3.connect(tmp_path / "dostq.db") as db:
            return db.execute(
                "SELECT print_mode, text_pages FROM devices WHERE name = 'kiosk-9'"
            ).fetchone()

    assert device() == ("raster", None)  # drawn until the paper says otherwise
    printed = cli("printer", "calibrate", "--data-dir", tmp_path, "--device", "kiosk-9",
                  input="0\n")  # fmt: skip
    assert printed.exit_code == 0 and "2: numbered like P822D" in printed.output
    (job,) = sorted((tmp_path / "printer-k9").glob("*.bin"))
    (number,) = lines_read_right(job.read_bytes(), "P822D")
    stored = cli("printer", "calibrate", "--data-dir", tmp_path, "--device", "kiosk-9",
                 "--no-print", "--choice", number)  # fmt: skip
    assert "prints text, numbered like P822D" in stored.output
    assert device() == ("text", "P822D")
    wrong = cli("printer", "calibrate", "--data-dir", tmp_path, "--device", "kiosk-9",
                "--no-print", "--choice", 42)  # fmt: skip
    assert wrong.exit_code == 1 and "type a number the ticket shows" in wrong.output
    assert device() == ("text", "P822D")


def test_the_calibration_from_the_admin_page(browser, live_center):
    # kiosk-1's printer is virtual: the ticket lands in its folder as the printer's bytes.
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    page.goto(f"{live_center.url}/login?next=/manager/admin/people")
    page.fill("input[name=username]", "admin")
    page.fill("input[name=password]", DEMO_LOGINS["admin"])
    page.click("form.login button[type=submit]")
    page.click(".language-switch button[value=en]")
    page.click("#devices a:has-text('virtual:printer')")
    page.wait_for_selector("#printer-mode[data-mode=raster]")
    folder = live_center.data_dir / "printer"
    before = set(folder.glob("*.bin"))
    page.click("#print-calibration")
    page.wait_for_selector(".flash.done")

    def new_job():
        return [p for p in folder.glob("*.bin") if p not in before]

    assert wait_until(lambda: new_job(), timeout=10)
    (number,) = lines_read_right(new_job()[0].read_bytes(), "TM-T20II")
    page.check(f"#calibration-choice input[value='{number}']")
    page.click("#calibration-choice button[type=submit]")
    page.wait_for_selector("#printer-mode[data-mode=text]")
    assert "TM-T20II" in page.text_content("#printer-mode")
    assert layout_problems(page) == ([], [], False)
    keep_screen(page, "admin-printer-en", full_page=True)  # axe-core checks it too
    page.goto(f"{live_center.url}/manager/")
    page.wait_for_selector("#devices li:has-text('kiosk-1')")
    assert "text" in page.text_content("#devices li:has-text('kiosk-1')")
