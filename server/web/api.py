"""The JSON API under /api/v1: each view validates, calls one operation, publishes, answers."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, g, jsonify, request
from flask.blueprints import BlueprintSetupState
from flask_wtf.csrf import generate_csrf
from werkzeug.routing import BaseConverter
from werkzeug.wrappers import Response

from server.hq_link.bookings import refresh_before_check_in
from server.hq_link.phones import sms_offered
from server.hq_link.sync import link
from server.office import floor
from server.office.accounts import reception_printer
from server.office.catalog import read_catalog
from server.office.search import search
from server.queue import appointments, feedback, sms_numbers, ticket_views, views, visits
from server.queue.appointments import CenterKey
from server.queue.engine import GENERAL
from server.queue.errors import NotFound, QueueError
from server.queue.facts import Done
from server.settings import LANGUAGES
from server.web.auth import (
    Unauthorized,
    current_device,
    device_required,
    sign_in,
    sign_out,
    user_json,
    user_required,
)
from server.web.validation import BadRequest, json_body, openapi_document, query_text, typed_label
from server.web.wiring import center, publish

bp = Blueprint("api", __name__, url_prefix="/api/v1")


class RowId(BaseConverter):
    """A database id in a path: 1 to 18 digits, so it always fits SQLite's 64-bit integer.

    A longer number does not match the route at all (a plain 404); Werkzeug's own int
    converter with ``max`` answers 405 instead when the bound is exceeded.
    """

    regex = r"\d{1,18}"

    def to_python(self, value: str) -> int:
        """Return the id as an int."""
        return int(value)


@bp.record_once
def _register_row_id(state: BlueprintSetupState) -> None:
    state.app.url_map.converters["id"] = RowId


TICKET_ID = "<id:ticket_id>"
COUNTER_ID = "<id:counter_id>"


class TooManyRequests(QueueError):
    """A kiosk, or a phone's address, acts faster than any visitor could."""

    status = 429


def within_limit(limit: str, key: object, code: str, what: str) -> None:
    """Count one request against the rate limit ``dostq.<limit>``; past it, refuse with 429.

    The refusal names ``what`` was too many and how long to wait.
    """
    wait_s = current_app.extensions[f"dostq.{limit}"].allow(key)
    if wait_s:
        raise TooManyRequests(code, f"Too many {what}: try again in {wait_s:.0f} s.")


def idempotency_key() -> str | None:
    """Return the request's Idempotency-Key header (1 to 100 characters), if it has one."""
    key = request.headers.get("Idempotency-Key")
    if key is not None and not 1 <= len(key) <= 100:
        raise BadRequest(
            "invalid_field", "Idempotency-Key: 1 to 100 characters.", "Idempotency-Key"
        )
    return key


def answer(done: Done[Any]) -> Response:
    """Publish what the operation caused, then answer with its result."""
    publish(done.facts)
    return jsonify(done.answer)


@bp.get("/openapi.json")
def openapi() -> Response:
    """Serve the OpenAPI document that describes (and validates) this API."""
    return jsonify(openapi_document())


@bp.get("/catalog")
def catalog() -> Response:
    """List the active service areas, services and priority categories."""
    with center().store.read() as conn:
        return jsonify(read_catalog(conn))


@bp.get("/catalog/search")
def search_catalog() -> Response:
    """Find services by what a visitor types (any language, marks optional), best first."""
    text = query_text("q", max_length=100)
    if text is None:
        raise BadRequest("invalid_field", "q: what to search for.", "q")
    language = request.args.get("lang", "az")
    if language not in LANGUAGES:
        raise BadRequest("invalid_field", f"lang: one of {', '.join(LANGUAGES)}.", "lang")
    with center().store.read() as conn:
        return jsonify({"services": search(conn, text, language)})


@bp.post("/tickets")
@device_required("kiosk")
def issue_ticket() -> tuple[Response, int]:
    """Issue a ticket for the kiosk making the request (printed after it committed)."""
    body = json_body("IssueTicket")
    device = current_device()
    within_limit("kiosk_limit", device.id if device else 0, "too_many_tickets",
                 "tickets from this kiosk")  # fmt: skip
    done = visits.issue_ticket(
        center(),
        body["service"],
        device=device,
        category=body.get("category", GENERAL),
        printed_by_device=body.get("print", True),
        idempotency_key=idempotency_key(),
        language=body.get("language", "az"),
    )
    return answer(done), 201


@bp.post("/reception/tickets")
@user_required()
def issue_reception_ticket() -> tuple[Response, int]:
    """Issue a ticket for a visitor at reception, printed on the chosen printer or not at all."""
    body = json_body("ReceptionTicket")
    with center().store.read() as conn:
        printer = reception_printer(conn, body.get("printer"))
    done = visits.issue_ticket(
        center(),
        body["service"],
        device=printer,
        category=body.get("category", GENERAL),
        printed_by_device=printer is not None,
        idempotency_key=idempotency_key(),
        language=body.get("language", "az"),
        user=g.user,
    )
    return answer(done), 201


def check_in_key() -> CenterKey | None:
    """Return this center's code at HQ and their shared key, which sign its bookings.

    HQ's newest word on the bookings is heard first, when HQ answers at once (L4).
    """
    with center().store.read() as conn:
        hq = link(conn, current_app.config["DATA_DIR"])
    refresh_before_check_in(center(), hq, current_app.extensions["dostq.check_in_window"])
    return CenterKey(hq.center, hq.key) if hq else None


@bp.post("/checkins")
@device_required("kiosk")
def check_in() -> tuple[Response, int]:
    """Check in a visitor who booked at HQ: their code (typed or scanned) becomes a ticket."""
    body = json_body("CheckIn")
    device = current_device()
    within_limit("kiosk_limit", device.id if device else 0, "too_many_tickets",
                 "tickets from this kiosk")  # fmt: skip
    done = appointments.check_in(
        center(),
        body["code"],
        check_in_key(),
        current_app.extensions["dostq.check_in_window"],
        device=device,
        printed_by_device=body.get("print", True),
        language=body.get("language", "az"),
        idempotency_key=idempotency_key(),
    )
    return answer(done), 201


@bp.post("/reception/checkins")
@user_required()
def check_in_at_reception() -> tuple[Response, int]:
    """Check in a visitor's booking at reception, printed on the chosen printer or not at all."""
    body = json_body("ReceptionCheckIn")
    with center().store.read() as conn:
        printer = reception_printer(conn, body.get("printer"))
    done = appointments.check_in(
        center(),
        body["code"],
        check_in_key(),
        current_app.extensions["dostq.check_in_window"],
        device=printer,
        printed_by_device=printer is not None,
        language=body.get("language", "az"),
        user=g.user,
        idempotency_key=idempotency_key(),
    )
    return answer(done), 201


@bp.post("/assistance")
@device_required("kiosk")
def request_assistance() -> tuple[Response, int]:
    """Alert the volunteers' room that a visitor at this kiosk asks for help."""
    device = current_device()
    assert device is not None  # noqa: S101 (device_required guarantees it)
    _request_id, facts = floor.request_assistance(center(), device)
    publish(facts)
    return jsonify({"requested": True, "device": device.name}), 202


@bp.post(f"/tickets/{TICKET_ID}/print-result")
@device_required("kiosk")
def print_result(ticket_id: int) -> Response:
    """Record the print result reported by the issuing kiosk."""
    body = json_body("PrintResult")
    device = current_device()
    assert device is not None  # noqa: S101 (device_required guarantees it)
    return answer(
        visits.record_print_result(center(), ticket_id, body["printed"], device, body.get("detail"))
    )


@bp.get("/tickets")
@user_required()
def find_ticket() -> Response:
    """Find today's ticket by its label as staff type it (a7, A-007)."""
    label = typed_label(query_text("label", max_length=12) or "", "label")
    c = center()
    with c.store.read() as conn:
        return jsonify(ticket_views.find_ticket(conn, c.day(c.now()), label))


@bp.post(f"/tickets/{TICKET_ID}/cancel")
@user_required()
def cancel_ticket(ticket_id: int) -> Response:
    """Cancel a visit that is not being served."""
    body = json_body("Reason")
    return answer(visits.cancel_ticket(center(), ticket_id, g.user, body["reason"]))


@bp.post(f"/tickets/{TICKET_ID}/sms")
@device_required("kiosk")
def leave_sms_number(ticket_id: int) -> tuple[Response, int]:
    """Keep a mobile number for the SMS of a ticket this kiosk just issued (HQ sends it)."""
    with center().store.read() as conn:
        offered = sms_offered(conn, current_app.config["DATA_DIR"],
                              current_app.config["HQ_PUBLIC_URL"])  # fmt: skip
    if not offered:
        raise NotFound("no_sms", "This center sends no SMS.")
    body = json_body("SmsNumber")
    done = sms_numbers.leave_number(center(), ticket_id, g.device.id, body["phone"])
    return answer(done), 201


@bp.post(f"/tickets/{TICKET_ID}/reprint")
@user_required()
def reprint_ticket(ticket_id: int) -> Response:
    """Print a waiting ticket again (after a paper-out or a cut-off job)."""
    return answer(visits.reprint_ticket(center(), ticket_id, g.user))


@bp.get("/tickets/status/<token>")
def ticket_status(token: str) -> Response:
    """Return a ticket's public status (the page behind its QR code)."""
    with center().store.read() as conn:
        return jsonify(ticket_views.public_status(conn, token))


@bp.post("/tickets/status/<token>/cancel")
def cancel_by_visitor(token: str) -> Response:
    """Take the visitor out of the queue, from their phone (the token is the proof)."""
    within_limit("phone_cancel_limit", request.remote_addr, "too_many_cancels", "cancels from here")
    return answer(visits.cancel_by_visitor(center(), token[:100]))


@bp.post("/tickets/status/<token>/feedback")
def rate_visit(token: str) -> Response:
    """Take the visitor's rating of their finished visit (once; changeable for 30 minutes)."""
    within_limit("rating_limit", request.remote_addr, "too_many_ratings", "ratings from here")
    body = json_body("Feedback")
    return answer(
        feedback.rate_visit(
            center(), token[:100], body["rating"], body.get("reasons"), body.get("comment")
        )
    )


@bp.post("/feedback")
@device_required("feedback")
def rate_at_counter() -> Response:
    """Take a rating from the feedback tablet of the counter that just finished the visit."""
    body = json_body("CounterFeedback")
    done = feedback.rate_at_counter(
        center(), g.device, body["ticket_id"], body["rating"], body.get("reasons")
    )
    return answer(done)


@bp.get("/snapshot")
def snapshot() -> Response:
    """Return the live state of the center, for a device or a member of staff."""
    if g.device is None and g.user is None:
        raise Unauthorized("login_required", "Sign in or send a device token.")
    zone = query_text("zone", max_length=50) or (g.device.zone if g.device else None)
    if g.device is not None and g.device.kind == "display":
        zone = g.device.zone  # a hall's display reads its own hall, whatever it asks (L2)
    return jsonify(views.center_snapshot(center(), zone))


@bp.get("/session")
def get_session() -> Response:
    """Who is signed in, and the CSRF token for the X-CSRFToken header."""
    return jsonify({"user": user_json(g.user), "csrf_token": generate_csrf()})


@bp.post("/session")
def login() -> Response:
    """Sign in with a username and password."""
    body = json_body("Login")
    user = sign_in(body["username"], body["password"])
    if user is None:
        raise Unauthorized("bad_credentials", "Wrong username or password.", "password")
    return jsonify({"user": user_json(user), "csrf_token": generate_csrf()})


@bp.delete("/session")
def logout() -> tuple[str, int]:
    """Sign out and close this user's sockets."""
    sign_out()
    return "", 204
