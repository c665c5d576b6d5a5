"""The counters' JSON API under /api/v1/counters: sign in at a desk, call, serve, transfer.

Each view reads its body, calls one operation of the queue core and answers what it caused
(``answer`` publishes the facts first), as the rest of the API in api.py does.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify
from werkzeug.wrappers import Response

from server.queue import calls, desk, views
from server.web.api import COUNTER_ID, answer, idempotency_key
from server.web.auth import (
    COUNTER_ROLES,
    user_required,
)
from server.web.validation import json_body, typed_label
from server.web.wiring import center

counter_api = Blueprint("counter_api", __name__, url_prefix="/api/v1")


@counter_api.get("/counters")
@user_required(*COUNTER_ROLES)
def list_counters() -> Response:
    """List the counters with their status and who is signed in."""
    with center().store.read() as conn:
        return jsonify(views.list_counters(conn))


@counter_api.get(f"/counters/{COUNTER_ID}")
@user_required(*COUNTER_ROLES)
def get_counter(counter_id: int) -> Response:
    """Return a counter, its services and its current visit."""
    c = center()
    with c.store.read() as conn:
        return jsonify(views.counter_view(conn, counter_id, c.day(c.now())))


@counter_api.post(f"/counters/{COUNTER_ID}/session")
@user_required(*COUNTER_ROLES)
def sign_in_at_counter(counter_id: int) -> Response:
    """Sign in at this counter and open it."""
    return answer(desk.sign_in(center(), counter_id, g.user))


@counter_api.delete(f"/counters/{COUNTER_ID}/session")
@user_required(*COUNTER_ROLES)
def sign_out_of_counter(counter_id: int) -> Response:
    """Sign out of this counter and close it."""
    return answer(desk.sign_out(center(), counter_id, g.user))


@counter_api.put(f"/counters/{COUNTER_ID}/status")
@user_required(*COUNTER_ROLES)
def set_counter_status(counter_id: int) -> Response:
    """Take a break or come back."""
    body = json_body("CounterStatus")
    return answer(desk.set_status(center(), counter_id, g.user, body["status"],
                                  body.get("reason"), body.get("minutes")))  # fmt: skip


@counter_api.post(f"/counters/{COUNTER_ID}/call-next")
@user_required(*COUNTER_ROLES)
def call_next(counter_id: int) -> Response:
    """Call the next visitor by the counter's policy."""
    return answer(calls.call_next(center(), counter_id, g.user, idempotency_key()))


@counter_api.post(f"/counters/{COUNTER_ID}/call")
@user_required(*COUNTER_ROLES)
def call_ticket(counter_id: int) -> Response:
    """Call a specific ticket out of turn."""
    body = json_body("CallTicket")
    label = typed_label(body["ticket"])
    return answer(calls.call_ticket(center(), counter_id, g.user, label, body["reason"]))


@counter_api.post(f"/counters/{COUNTER_ID}/recall")
@user_required(*COUNTER_ROLES)
def recall(counter_id: int) -> Response:
    """Call the current visitor again."""
    return answer(calls.recall(center(), counter_id, g.user))


@counter_api.post(f"/counters/{COUNTER_ID}/start")
@user_required(*COUNTER_ROLES)
def start_service(counter_id: int) -> Response:
    """Start serving the called visitor, who is at the desk."""
    return answer(desk.start_service(center(), counter_id, g.user))


@counter_api.post(f"/counters/{COUNTER_ID}/no-show")
@user_required(*COUNTER_ROLES)
def no_show(counter_id: int) -> Response:
    """Mark the called visitor as not come."""
    return answer(desk.mark_no_show(center(), counter_id, g.user))


@counter_api.post(f"/counters/{COUNTER_ID}/hold")
@user_required(*COUNTER_ROLES)
def hold(counter_id: int) -> Response:
    """Put the current visit on hold."""
    return answer(desk.hold(center(), counter_id, g.user))


@counter_api.post(f"/counters/{COUNTER_ID}/resume")
@user_required(*COUNTER_ROLES)
def resume(counter_id: int) -> Response:
    """Take a held visit back into service."""
    body = json_body("Resume")
    return answer(desk.resume(center(), counter_id, g.user, typed_label(body["ticket"])))


@counter_api.post(f"/counters/{COUNTER_ID}/finish")
@user_required(*COUNTER_ROLES)
def finish(counter_id: int) -> Response:
    """Finish the current visit."""
    body = json_body("Finish")
    return answer(
        desk.finish(
            center(), counter_id, g.user, body.get("delivered", []), body.get("outcome", "done")
        )
    )


@counter_api.post(f"/counters/{COUNTER_ID}/walk-in")
@user_required(*COUNTER_ROLES)
def walk_in(counter_id: int) -> Response:
    """Serve a visitor who has no ticket (counted in reports)."""
    body = json_body("WalkIn")
    return answer(desk.serve_walk_in(center(), counter_id, g.user, body["service"]))


@counter_api.post(f"/counters/{COUNTER_ID}/transfer")
@user_required(*COUNTER_ROLES)
def transfer(counter_id: int) -> Response:
    """Send the visit to another service or counter."""
    body = json_body("Transfer")
    return answer(
        desk.transfer(
            center(),
            counter_id,
            g.user,
            typed_label(body["ticket"]) if "ticket" in body else None,
            body.get("service"),
            body.get("counter"),
        )
    )
