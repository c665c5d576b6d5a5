"""A kiosk printer's set-up: print the calibration ticket, then say which of its lines read right.

Until then the printer prints drawn (raster), right on every printer that draws; the answer
switches it to text mode with the code-page numbering that printed right (hardware/calibration).
"""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from werkzeug.wrappers import Response

from hardware.calibration import candidates, pages_of_choice
from hardware.profiles import get as get_profile
from manager.admin.forms import audited, bp, change, whole_number
from server.office import accounts
from server.queue.actors import AGENT_PRINTER, Device, device_from_row
from server.queue.errors import Invalid
from server.queue.facts import CalibrationWanted, PrintingChanged
from server.web.auth import user_required
from server.web.language import text
from server.web.wiring import center, publish


def _device(device_id: int) -> Device:
    with center().store.read() as conn:
        row = conn.execute(
            "SELECT * FROM devices WHERE id = ? AND printer IS NOT NULL", (device_id,)
        ).fetchone()
    if row is None:
        abort(404)
    return device_from_row(row)


@bp.get("/devices/<id:device_id>/printer")
@user_required("manager", "admin")
def printer(device_id: int) -> str:
    """Show how a kiosk's printer prints, and its calibration."""
    device = _device(device_id)
    return render_template(
        "manager/admin_printer.html",
        device=device,
        model=get_profile(device.printer_profile),
        candidates=candidates(device.printer_profile),
        on_agent=device.printer == AGENT_PRINTER,
        virtual=(device.printer or "").startswith("virtual:"),
    )


@bp.post("/devices/<id:device_id>/printer/calibration")
@change("admin.people")
def print_calibration(device_id: int) -> Response:
    """Print the calibration ticket on the printer the server drives for this kiosk."""
    device = _device(device_id)
    if device.printer == AGENT_PRINTER:
        raise Invalid("printer_on_agent", "This printer hangs on the kiosk PC.", "device")
    publish([CalibrationWanted(device)])
    return _back(device_id, text("done.calibration_printed"))


@bp.post("/devices/<id:device_id>/printer")
@change("admin.people")
def save_calibration(device_id: int) -> Response:
    """Store the number whose lines read right (0: none, the printer stays drawn)."""
    device = _device(device_id)
    choice = whole_number("choice")
    try:
        pages_of = pages_of_choice(device.printer_profile, choice)
    except ValueError as exc:
        raise Invalid("not_a_calibration_line", str(exc), "choice") from exc
    detail = {"device": device.name, "text_pages": pages_of}
    with audited("printer_calibrated", detail) as conn:
        accounts.set_text_pages(conn, device_id, pages_of)
    publish([PrintingChanged(_device(device_id))])
    done = "done.printer_text" if pages_of else "done.printer_raster"
    return _back(device_id, text(done, name=device.name, pages=pages_of or ""))


def _back(device_id: int, message: str) -> Response:
    flash(message, "done")
    return redirect(url_for("admin.printer", device_id=device_id))
