"""Pages that belong to no screen: a ticket's public status (its QR code) and printer previews."""

from __future__ import annotations

import re

import qrcode
import qrcode.image.svg
from flask import Blueprint, abort, current_app, render_template, send_file, url_for
from werkzeug.wrappers import Response

from hardware.printers import VirtualPrinter
from server.hq_link.phones import hq_ticket_url
from server.hq_link.sync import link
from server.live.printing import printer_for
from server.office.accounts import device_by_name
from server.queue.errors import NotFound
from server.queue.ticket_views import public_status
from server.web.auth import user_required
from server.web.phone_page import render_phone_page
from server.web.wiring import center

bp = Blueprint("pages", __name__)


# A file asked for by name is one of ours only if its name could be: checked before the disk
# is asked (a 400-letter name is "File name too long" there, an OSError, not a miss).
SAFE_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def ticket_page_url(token: str) -> str:
    """Return where a ticket's QR code points: HQ's page when relayed, else the center's own.

    Relayed when HQ_PUBLIC_URL is set and the center is linked to HQ (server/hq_link/phones.py):
    a phone on mobile data reaches HQ, not the center's LAN address.
    """
    public = current_app.config["HQ_PUBLIC_URL"]
    if public:
        with center().store.read() as conn:
            if link(conn, current_app.config["DATA_DIR"]) is not None:
                return hq_ticket_url(public, token)
    return url_for("pages.ticket_status", token=token, _external=True)


@bp.get("/t/<token>/qr.svg")
def ticket_qr(token: str) -> Response:
    """Return the QR code of a ticket's status page, as SVG (for the kiosk screen)."""
    _ticket_status(token)
    image = qrcode.make(
        ticket_page_url(token),
        image_factory=qrcode.image.svg.SvgPathImage,
        border=2,
    )
    return Response(image.to_string(), mimetype="image/svg+xml")


@bp.get("/t/<token>")
def ticket_status(token: str) -> str:
    """Show a visitor where their ticket stands (no login: the token is the secret).

    In the ticket's language (the one chosen at the kiosk), or the one the visitor switches to.
    """
    api = f"/api/v1/tickets/status/{token}"
    return render_phone_page(
        _ticket_status(token),
        token,
        current_app.config["CENTER_NAME"],
        {"status": api, "cancel": f"{api}/cancel", "feedback": f"{api}/feedback"},
        int(current_app.config["PHONE_NEAR_AHEAD"]),
        chime_url=url_for("display.chime"),
    )


def _ticket_status(token: str) -> dict[str, object]:
    try:
        with center().store.read() as conn:
            return public_status(conn, token)
    except NotFound:
        abort(404)


def _virtual_printer(device_name: str) -> VirtualPrinter:
    with center().store.read() as conn:
        device = device_by_name(conn, device_name)
    data_dir = current_app.config["DATA_DIR"]
    printer = (
        printer_for(device.name, device.printer, data_dir, device.printer_profile)
        if device and device.printer
        else None
    )
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
    if not SAFE_FILE_NAME.fullmatch(name) or not path.is_file():
        abort(404)
    return send_file(path, mimetype="image/png")
