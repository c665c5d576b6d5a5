"""HQ's signed API: what centers and partner systems send, each request signed by its key.

A center sends its day records, its hall now, asks for the national catalog and trades
bookings; a partner system (e-Social) books for its users. Every request carries a signature
over its body and time (server/hq_link/signing.py) and is taken once only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from hq import bookings, catalog, phones, storage
from hq.batches import (
    check_appointments,
    check_batch,
    check_catalog_ask,
    check_now,
    check_partner_request,
)
from hq.web import ticket_page
from hq.web.context import center_key, partner_key, store
from hq.web.openapi import openapi_document
from server.hq_link import signing
from server.queue.errors import Invalid, QueueError
from server.queue.storage import SqlConnection
from server.web.auth import Unauthorized
from server.web.validation import BadRequest, decode_json

api = Blueprint("hq_api", __name__, url_prefix="/hq/api/v1")
log = logging.getLogger("dostq.hq")


class Replayed(QueueError):
    """A request HQ received already, byte for byte and signature for signature."""

    status = 409


def signed_message(
    conn: SqlConnection,
    now: float,
    header: str = signing.CENTER_HEADER,
    key_of: Callable[[SqlConnection, str], str] = center_key,
) -> tuple[str, Any]:
    """Return who signed this request and its JSON body, or refuse it.

    The signer is a center, or the partner system ``header`` names. Refused: an unknown
    signer, a bad or stale signature (401), a body that is not JSON (422), the exact request
    again (409).
    """
    body = request.get_data(cache=False)
    center = request.headers.get(header, "")
    given = request.headers.get(signing.SIGNATURE_HEADER, "")
    try:
        key = key_of(conn, center)
    except QueueError as exc:  # the key file does not open the keys: every sync fails
        log.error("Refused %s from '%s': %s", request.path, center[:40], exc.message)
        raise
    why = signing.check(
        key,
        center,
        request.headers.get(signing.TIMESTAMP_HEADER, ""),
        given,
        request.method,
        request.path,
        body,
        now,
    )
    if why:
        # Said in HQ's log too: the center only sees its own side of it.
        log.warning("Refused %s from '%s': %s", request.path, center[:40], why)
        raise Unauthorized("bad_signature", why, signing.SIGNATURE_HEADER)
    try:
        message = decode_json(body)
    except BadRequest as exc:
        raise Invalid("not_json", exc.message) from exc
    if not storage.remember_signature(conn, given, now, signing.WINDOW_S):
        raise Replayed("replayed", "This exact request was received already.")
    return center, message


@api.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document of this signed API."""
    return jsonify(openapi_document())


@api.post("/records")
def receive_records() -> Response:
    """Take a signed batch of day records from a center; the newest revision of a day wins."""
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        batch = check_batch(message, center)
        counts = storage.apply_records(
            conn, center, batch["records"], batch["pending"], now, batch.get("version")
        )
    return jsonify(counts)


@api.post("/now")
def receive_now() -> Response:
    """Take a center's hall as it stands now (the public page of waits shows the newest)."""
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        kept = storage.store_now(conn, center, check_now(message, center), now)
    return jsonify({"kept": kept})


@api.post("/tickets")
def relay_tickets() -> Response:
    """Keep the statuses of a center's tickets for their pages here.

    The answer carries the visitors' requests made on them, signed: the center acts on it.
    """
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        key = center_key(conn, center)
        near_ahead = int(current_app.config["HQ_PHONE_NEAR_AHEAD"])
        checked = phones.check_tickets(message, center)
        requests_due = phones.exchange(conn, center, checked, now, near_ahead)
    ticket_page.wakeups.wake(t["id"] for t in checked["tickets"])  # once committed
    if sms_worker := current_app.extensions.get("dostq.sms_worker"):
        sms_worker.wake()
    sends_sms = current_app.extensions.get("dostq.sms_worker") is not None
    return signed_answer(jsonify({"requests": requests_due, "sms": sends_sms}), key, center, now)


@api.post("/catalog")
def offer_catalog() -> Response:
    """Answer a center's question for a newer national catalog, signed with its key.

    ``{"version": null}`` when it runs or holds the newest; else the newest version, its
    catalog as canonical JSON text and that text's sha256.
    """
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        ask = check_catalog_ask(message, center)
        latest = catalog.offer(conn, center, ask["runs"], ask["holds"], ask["local"])
        key = center_key(conn, center)
    answer: dict[str, Any] = {"version": None}
    if latest is not None:
        answer = {
            "version": latest["version"],
            "effective_day": latest["effective_day"],
            "catalog": latest["catalog"],
            "digest": latest["digest"],
        }
    return signed_answer(jsonify(answer), key, center, now)


def signed_answer(response: Response, key: str, center: str, now: float) -> Response:
    """Sign an answer the center will act on with its key (method ANSWER)."""
    stamp = int(now)
    response.headers[signing.TIMESTAMP_HEADER] = str(stamp)
    response.headers[signing.SIGNATURE_HEADER] = signing.signature(
        key, center, stamp, signing.ANSWER, request.path, response.get_data()
    )
    return response


@api.post("/appointments")
def trade_bookings() -> Response:
    """Take a center's slots and its bookings' outcomes; answer with its bookings, signed.

    The answer lists the center's bookings from yesterday on, cancelled ones too, so the
    center refuses a cancelled code even while HQ is out of reach later: those made or
    changed since the answer it kept last (``since``), or all of them, with HQ's clock
    (``as_of``) for its next question.
    """
    now = time.time()
    with store().write() as conn:
        center, message = signed_message(conn, now)
        offer = check_appointments(message, center)
        bookings.store_offer(conn, center, offer, now)
        # Each center's exchange (every minute) also forgets the numbers past their time.
        bookings.forget_phones(conn, now, float(current_app.config["HQ_PHONES_KEEP_DAYS"]))
        listed = bookings.bookings_for(conn, center, now - 86400, offer.get("since"))
        key = center_key(conn, center)
    return signed_answer(jsonify({"as_of": now, "bookings": listed}), key, center, now)


@api.post("/bookings")
def partner_bookings() -> Response:
    """Book, move or cancel for another state system (e-Social), or list a service's free times.

    Signed like a center's request, naming the partner in ``X-DostQ-Partner``; one action per
    request: ``slots`` {center, service}, ``book`` {center, service, slot_at, phone}, ``move``
    {code, slot_at}, ``cancel`` {code}. A booking's answer is the booking with its code.
    """
    now = time.time()
    with store().write() as conn:
        partner, message = signed_message(conn, now, signing.PARTNER_HEADER, partner_key)
        answer = bookings.act_for_partner(
            conn, check_partner_request(message), partner, lambda c: center_key(conn, c), now
        )
    return jsonify(answer)
