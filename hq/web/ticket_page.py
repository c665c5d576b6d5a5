"""A ticket's page at HQ, for the phone off the premises: public, the token in the address.

The center relays the status (hq/phones.py); this page shows it with the same template and
script as the center's own (server/web/templates/ticket_status.html, phone.js), kept current
over server-sent events: each stream reads its one row once a second, so it works behind a
balancer whichever HQ process took the center's message. Leaving the queue and rating are
taken here (202) and done by the center at its next exchange, with the same checks and, per
address, the same limits as its own page.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    jsonify,
    request,
    stream_with_context,
)
from flask.sansio.blueprints import BlueprintSetupState

from hq import phones, sms_outbox
from hq.shared_limits import DatabaseRateLimit
from hq.web.context import store
from server.hq_link.phones import public_id
from server.queue.errors import NotFound, QueueError
from server.queue.feedback import checked_rating, checked_reasons
from server.queue.mobile import masked, mobile_number
from server.web.language import LANGUAGES
from server.web.phone_page import render_phone_page

ticket_page = Blueprint("ticket", __name__, url_prefix="/hq/t")

EVENTS_POLL_S = 1.0  # how often a stream reads its ticket's row when not woken
EVENTS_FOR_S = 600.0  # a stream ends after this long; the browser opens the next by itself


class Wakeups:
    """The open streams of this process, by ticket: a center's word wakes them at once.

    A stream still reads its row every EVENTS_POLL_S: the word may have reached another HQ
    process behind the balancer.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: dict[str, set[threading.Event]] = {}

    def listen(self, ticket_id: str) -> threading.Event:
        """Return an event set when this ticket's word comes to this process."""
        event = threading.Event()
        with self._lock:
            self._waiting.setdefault(ticket_id, set()).add(event)
        return event

    def forget(self, ticket_id: str, event: threading.Event) -> None:
        """Stop waking a stream that ended."""
        with self._lock:
            waiting = self._waiting.get(ticket_id, set())
            waiting.discard(event)
            if not waiting:
                self._waiting.pop(ticket_id, None)

    def wake(self, ticket_ids: Iterable[str]) -> None:
        """Wake the streams of these tickets (their word was just stored)."""
        with self._lock:
            events = [e for t in ticket_ids for e in self._waiting.get(t, ())]
        for event in events:
            event.set()


wakeups = Wakeups()


class TooManyRequests(QueueError):
    """One address leaves or rates more than a visitor would."""

    status = 429


@ticket_page.record_once
def _limit_requests(state: BlueprintSetupState) -> None:
    # Counted in the database: every HQ process behind a balancer counts the same.
    hq_store = state.app.extensions["dostq.hq_store"]
    per_minute = int(state.app.config["HQ_PHONE_REQUESTS_PER_MINUTE"])
    state.app.extensions["dostq.phone_limit"] = DatabaseRateLimit(hq_store, "phone", per_minute,
                                                                  60)  # fmt: skip


def _relayed(token: str) -> dict[str, Any]:
    """Return the ticket as HQ last heard it, or refuse (404) a token HQ does not know."""
    with store().read() as conn:
        found = phones.ticket(conn, token[:100])
    if found is None:
        raise NotFound("unknown_ticket", "No ticket with this code.", "token")
    return found


@ticket_page.get("/<token>")
def ticket(token: str) -> str:
    """Show the visitor where the ticket stands, in its language or the one switched to."""
    found = _relayed(token)
    base = f"/hq/t/{token}"
    urls = {name: f"{base}/{name}" for name in ("status", "cancel", "feedback", "events", "sms")}
    return render_phone_page(
        found["status"],
        token,
        found["center_name"],
        urls,
        int(current_app.config["HQ_PHONE_NEAR_AHEAD"]),
        chime_url=None,
        heard_at=found["at"],
        sms=current_app.extensions.get("dostq.sms_worker") is not None,
    )


def _word(found: dict[str, Any]) -> dict[str, Any]:
    """Return what the page's script reads: the status, and when the center said it."""
    return {"status": found["status"], "at": found["at"]}


@ticket_page.get("/<token>/status")
def status(token: str) -> Response:
    """Return the ticket's status as HQ last heard it, and when the center said it."""
    return jsonify(_word(_relayed(token)))


@ticket_page.get("/<token>/events")
def events(token: str) -> Response:
    """Stream the ticket's status each time the center's word on it changes."""
    _relayed(token)

    def stream() -> Iterator[str]:
        said = None
        ends = time.monotonic() + EVENTS_FOR_S
        ticket_id = public_id(token[:100])
        woken = wakeups.listen(ticket_id)
        try:
            while time.monotonic() < ends:
                woken.clear()
                with store().read() as conn:
                    found = phones.ticket(conn, token[:100])
                if found is None:
                    return  # the day is over at the center: nothing more will come
                if found["at"] != said:
                    said = found["at"]
                    yield f"data: {json.dumps(_word(found), ensure_ascii=False)}\n\n"
                woken.wait(EVENTS_POLL_S)
        finally:
            wakeups.forget(ticket_id, woken)

    response = Response(stream_with_context(stream()), mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # a proxy passes each event at once
    return response


def _within_limit() -> None:
    wait_s = current_app.extensions["dostq.phone_limit"].allow(request.remote_addr)
    if wait_s:
        raise TooManyRequests("too_many_requests", f"Too many from here: wait {wait_s:.0f} s.")


def _ask(token: str, kind: str, detail: dict[str, Any]) -> tuple[Response, int]:
    with store().write() as conn:
        if not phones.ask(conn, token[:100], kind, detail, time.time()):
            raise NotFound("unknown_ticket", "No ticket with this code.", "token")
    return jsonify({"asked": kind}), 202


@ticket_page.post("/<token>/cancel")
def cancel(token: str) -> tuple[Response, int]:
    """Ask the center to take the visitor out of the queue (a visit still waiting only)."""
    _within_limit()
    if _relayed(token)["status"]["state"] not in phones.WAITING:
        raise QueueError("not_waiting", "Only a visit still waiting can leave the queue.")
    return _ask(token, "cancel", {})


@ticket_page.post("/<token>/sms")
def leave_number(token: str) -> tuple[Response, int]:
    """Keep the visitor's mobile number for an SMS when three are ahead and when called."""
    _within_limit()
    if current_app.extensions.get("dostq.sms_worker") is None:
        raise NotFound("no_sms", "This service sends no SMS.")
    body = request.get_json(silent=True)
    phone = mobile_number(body.get("phone", "") if isinstance(body, dict) else "")
    found = _relayed(token)
    if found["status"]["state"] not in phones.WAITING:
        raise QueueError("not_waiting", "Only a visit still waiting can be told by SMS.")
    language = str(body.get("language") or found["status"]["language"])  # type: ignore[union-attr]
    with store().write() as conn:
        known = language if language in LANGUAGES else "az"
        near = int(current_app.config["HQ_PHONE_NEAR_AHEAD"])
        ticket_id = public_id(token[:100])
        if not sms_outbox.subscribe(conn, ticket_id, phone, known, time.time(), near):
            raise QueueError("too_many_numbers", "This number follows enough tickets today.")
    return jsonify({"sms_to": masked(phone)}), 202


@ticket_page.post("/<token>/feedback")
def rate(token: str) -> tuple[Response, int]:
    """Pass the visitor's rating of a finished visit to the center (no comment: see below)."""
    _within_limit()
    body = request.get_json(silent=True)
    body = body if isinstance(body, dict) else {}
    # A free-text comment may name a person: it is given on the center's own page only.
    rating, reasons = checked_rating(body.get("rating")), checked_reasons(body.get("reasons"))
    if _relayed(token)["status"]["state"] != "done":
        raise QueueError("not_done", "Only a finished visit can be rated.")
    return _ask(token, "feedback", {"rating": rating, "reasons": reasons})
