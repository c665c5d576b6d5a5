"""The visitor's phone off the premises: today's tickets' public status relayed through HQ.

A phone on mobile data cannot reach the center's LAN address; HQ is the one server it can.
When the center is linked and HQ_PUBLIC_URL is set, the ticket's QR points to HQ's ticket page
with the ticket's token, and this relay sends HQ each changed public status (label, service,
place, estimate band, state, counter: never a name or a number of a person) under the SHA-256
of the token, so HQ holds no token it could be asked for. The visitor's requests made there
(leave the queue, rate the visit) come back in HQ's answer and are applied here with the same
checks as on the LAN page; they are acknowledged in the next message, so one lost on the way
is sent again (applying one twice changes nothing).
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import requests

from server.hq_link.sync import HqLink, SyncRefused, check_answer, link, post_signed
from server.queue import feedback, sms_numbers, visits
from server.queue.center import Center
from server.queue.errors import QueueError
from server.queue.facts import Fact
from server.queue.storage import get_setting, put_setting
from server.queue.ticket_views import public_statuses

TICKETS_PATH = "/hq/api/v1/tickets"
PER_MESSAGE = 500  # statuses (and numbers) a message carries; HQ takes up to 2,000
# HQ said, at the last exchange, that it sends SMS: the kiosk then offers one.
HQ_SENDS_SMS = "hq_sends_sms"
# A status HQ holds is sent again this often even unchanged: HQ tells the phone how old it is.
RESEND_S = 60.0

log = logging.getLogger(__name__)


def sms_offered(conn: sqlite3.Connection, data_dir: Path, public_url: str) -> bool:
    """Say whether a visitor may leave a number for an SMS here: the kiosk and its API ask.

    Only when the tickets' pages are relayed (HQ_PUBLIC_URL, and linked) and HQ said, at the
    last exchange, that it sends SMS: nothing else would ever send it.
    """
    return bool(public_url and get_setting(conn, HQ_SENDS_SMS, False)
                and link(conn, data_dir) is not None)  # fmt: skip


def public_id(token: str) -> str:
    """Return the name HQ knows a ticket by: the SHA-256 of its token, in hex."""
    return hashlib.sha256(token.encode()).hexdigest()


def hq_ticket_url(public_url: str, token: str) -> str:
    """Return the address of a ticket's page at HQ (where its QR points when relayed)."""
    return f"{public_url.rstrip('/')}/hq/t/{token}"


class PhoneRelay:
    """What was last sent to HQ, and the visitors' requests applied since HQ last heard."""

    def __init__(self, center: Center, publish: Callable[[Iterable[Fact]], None]) -> None:
        self.center = center
        self.publish = publish
        self._sent: dict[str, tuple[str, float]] = {}  # public id -> (status JSON, sent at)
        self._applied: list[int] = []
        self.more = False  # the last exchange left changed statuses for the next

    def exchange(self, hq: HqLink, session: requests.Session, timeout: float = 10) -> int:
        """Send the changed statuses of today's tickets, apply HQ's requests; return how many.

        Raises as ``send_batch`` does; nothing is counted as sent unless HQ took it.
        """
        now = self.center.now()
        day = self.center.day(now)
        with self.center.store.read() as conn:
            rows = conn.execute("SELECT token FROM tickets WHERE day = ? AND token IS NOT NULL",
                                (day,))  # fmt: skip
            tokens = [row[0] for row in rows]
            statuses = public_statuses(conn, tokens, now)
            numbers = sms_numbers.pending(conn, day)
        by_id = {public_id(token): token for token in tokens}
        changed = []
        for token, status in statuses.items():
            status = _public(status)
            text = json.dumps(status, sort_keys=True, ensure_ascii=False)
            last = self._sent.get(public_id(token))
            if last is None or last[0] != text or now - last[1] >= RESEND_S:
                changed.append((public_id(token), status, text))
        # A record day's tickets all changed at once (a restart, the first exchange) go in
        # several messages: HQ refuses one longer than its schema's MAX_TICKETS.
        self.more = len(changed) > PER_MESSAGE or len(numbers) > PER_MESSAGE
        changed, numbers = changed[:PER_MESSAGE], numbers[:PER_MESSAGE]
        message = {
            "center": hq.center,
            "day": day,
            "at": now,
            "tickets": [{"id": ticket_id, "status": status} for ticket_id, status, _ in changed],
            "done": self._applied,
            # Numbers left at the kiosk for an SMS: HQ sends it; the center then forgets them.
            "sms": [
                {
                    "id": public_id(n["token"]),
                    "phone": n["phone"],
                    "language": n["language"] or "az",
                }
                for n in numbers
            ],  # fmt: skip
        }
        response = post_signed(self.center, hq, session, TICKETS_PATH, message, timeout)
        check_answer(hq, TICKETS_PATH, response, "tickets")  # the center acts on what it says
        answer = response.json()
        with self.center.store.write() as conn:
            sms_numbers.forget(conn, [n["ticket_id"] for n in numbers], day)
            if bool(answer.get("sms")) != get_setting(conn, HQ_SENDS_SMS, False):
                put_setting(conn, HQ_SENDS_SMS, bool(answer.get("sms")))
        self._applied = []
        self._sent = {k: v for k, v in self._sent.items() if k in by_id}  # a new day: forget
        self._sent.update({ticket_id: (text, now) for ticket_id, _, text in changed})
        for request in answer.get("requests", []):
            self._apply(request, by_id.get(str(request.get("ticket"))))
        return len(changed)

    def _apply(self, request: dict[str, Any], token: str | None) -> None:
        """Apply a visitor's request made at HQ, as the LAN page would; acknowledge it either way.

        A refusal (the visit was called meanwhile, a rating after its time) is the visitor's
        answer: the next status shows what the visit is now.
        """
        if token is not None:
            try:
                if request["kind"] == "cancel":
                    done = visits.cancel_by_visitor(self.center, token)
                else:
                    given = request.get("detail") or {}
                    rating, reasons = given.get("rating"), given.get("reasons")
                    done = feedback.rate_visit(self.center, token, rating, reasons,
                                               given.get("comment"))  # fmt: skip
                self.publish(done.facts)
            except QueueError as refused:
                log.info("A visitor's %s from HQ was refused: %s", request["kind"], refused.code)
        self._applied.append(int(request["id"]))


def _public(status: dict[str, Any]) -> dict[str, Any]:
    """Return a status as HQ may hold it: a rating without its comment.

    Free text may name a person; it stays on the center's own page.
    """
    given = status.get("feedback")
    if given is None:
        return status
    kept = {key: given[key] for key in ("rating", "reasons", "editable_until")}
    return {**status, "feedback": kept}


def relay_once(relay: PhoneRelay, hq: HqLink | None, session: requests.Session) -> int | None:
    """Run one exchange if linked; None when HQ could not be reached (the next one retries)."""
    if hq is None:
        return None
    try:
        return relay.exchange(hq, session)
    except (requests.RequestException, SyncRefused, ValueError) as exc:
        log.debug("HQ did not take the tickets' statuses now: %s", exc)
        return None
