"""Pages that belong to no screen: a ticket's public status (its QR code) and printer previews."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, send_file
from werkzeug.wrappers import Response

from hardware.printers import VirtualPrinter
from server import tickets
from server.accounts import device_from_row
from server.auth import center, user_required
from server.engine import NotFound
from server.printing import PrintService

bp = Blueprint("pages", __name__)


@bp.get("/t/<token>")
def ticket_status(token: str) -> str:
    """Show a visitor where their ticket stands (no login: the token is the secret)."""
    try:
        status = tickets.public_status(center(), token)
    except NotFound:
        abort(404)
    return render_template("ticket_status.html", ticket=status)


def _virtual_printer(device_name: str) -> VirtualPrinter:
    printing: PrintService = current_app.extensions["dostq.printing"]
    with center().store.read() as conn:
        row = conn.execute("SELECT * FROM devices WHERE name = ?", (device_name,)).fetchone()
    printer = printing.printer_for(device_from_row(row)) if row and row["printer"] else None
    if not isinstance(printer, VirtualPrinter):
        abort(404)
    return printer


@bp.get("/printers/<device_name>/")
@user_required("manager", "admin")
def virtual_printer(device_name: str) -> str:
    """List what a virtual printer printed, newest first, with previews."""
    printer = _virtual_printer(device_name)
    return render_template(
        "virtual_printer.html", device=device_name, jobs=[p.name for p in printer.jobs()[:50]]
    )


@bp.get("/printers/<device_name>/<name>.png")
@user_required("manager", "admin")
def virtual_printer_preview(device_name: str, name: str) -> Response:
    """Return one preview image."""
    printer = _virtual_printer(device_name)
    path = printer.folder / f"{name}.png"
    if "/" in name or not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png")
