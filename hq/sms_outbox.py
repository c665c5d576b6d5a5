"""The numbers visitors left on relayed ticket pages, and the messages owed to them.

A message is owed once per ticket and kind (the table's key): the center's word "three
ahead" or "called" may come again and again, the visitor hears it once. The sender thread
(hq/sms.py's senders, run by ``SmsWorker``) claims a message in its own committed
transaction before submitting it and never claims a claimed one again: a restart mid-send
loses that message rather than sending it twice. A refusal it could see is tried again, at
most MAX_TRIES times.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hq.sms import SmsSender, compose
from server.queue.booking_codes import pretty
from server.queue.errors import Invalid
from server.queue.mobile import mobile_number
from server.queue.storage import Database, SqlConnection

MAX_TRIES = 3
WAITING = ("issued", "waiting")
PER_NUMBER_A_DAY = 5  # tickets one number follows in a day
SEND_EVERY_S = 1.0

log = logging.getLogger(__name__)


def subscribe(
    conn: SqlConnection,
    ticket_id: str,
    phone: str,
    language: str,
    now: float,
    near_ahead: int,
    center: str | None = None,
) -> bool:
    """Keep ``phone`` for the ticket's messages; False when that number follows enough today.

    A ticket already near is told so at once: the center's word will not say it again.
    """
    row = conn.execute("SELECT center, day, status FROM public_tickets WHERE id = ?",
                       (ticket_id,)).fetchone()  # fmt: skip
    if row is None or center not in (None, row["center"]):
        return False  # unknown here, or another center's ticket (a center names its own)
    count = conn.execute(
        "SELECT count(*) FROM sms_numbers WHERE phone = ? AND day = ? AND ticket <> ?",
        (phone, row["day"], ticket_id),
    ).fetchone()[0]
    if count >= PER_NUMBER_A_DAY:
        return False
    conn.execute(
        "INSERT INTO sms_numbers (ticket, center, day, phone, language, made_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ticket) DO UPDATE SET phone = excluded.phone, "
        "language = excluded.language",
        (ticket_id, row["center"], row["day"], phone, language, now),
    )
    enqueue(conn, row["center"], [{"id": ticket_id, "status": json.loads(row["status"])}],
            near_ahead, now)  # fmt: skip
    return True


def enqueue(
    conn: SqlConnection,
    center: str,
    tickets: list[dict[str, Any]],
    near_ahead: int,
    now: float,
) -> int:
    """Owe the messages the center's word calls for; return how many are new."""
    numbers = {
        row["ticket"]: (row["phone"], row["language"])
        for row in conn.execute(
            "SELECT ticket, phone, language FROM sms_numbers WHERE center = ?", (center,)
        )  # fmt: skip
    }
    if not numbers:
        return 0
    name = conn.execute("SELECT name FROM centers WHERE code = ?", (center,)).fetchone()[0]
    owed = []
    for ticket in tickets:
        if ticket["id"] not in numbers:
            continue
        status = ticket["status"]
        kind = None
        if status["state"] == "called":
            kind = "called"
        elif status["state"] in WAITING and status.get("people_ahead", 99) <= near_ahead:
            kind = "near"
        if kind is None:
            continue
        phone, language = numbers[ticket["id"]]
        text = compose(kind, language, name, label=status["label"],
                       counter=status.get("counter") or "")  # fmt: skip
        owed.append((center, ticket["id"], kind, phone, text, now))
    return _owe(conn, owed)


# Reminders before a booked slot: the day before (booked more than a day ahead) and two hours
# before (booked more than two hours ahead); a confirmation at once for each booking made or
# cancelled (a move is told once: the new booking, its old one cancelled in the same moment).
DAY_BEFORE_S, SOON_S = 24 * 3600, 2 * 3600
CONFIRM_WITHIN_S = 3600  # a booking older than this when first seen is not confirmed late


def owe_bookings(conn: SqlConnection, now: float, zone: ZoneInfo) -> int:
    """Owe the confirmations and reminders of bookings with a mobile number; return how many."""
    rows = conn.execute(
        "SELECT b.code, b.center, c.name, b.slot_at, b.phone, b.language, b.state, b.made_at, "
        "b.changed_at, EXISTS (SELECT 1 FROM bookings n WHERE n.phone = b.phone AND "
        "n.center = b.center AND n.service = b.service AND n.made_at = b.changed_at) AS moved "
        "FROM bookings b JOIN centers c ON c.code = b.center WHERE b.phone <> '' AND "
        "((b.state = 'booked' AND b.slot_at > ? AND b.slot_at <= ?) OR b.made_at > ? "
        "OR b.changed_at > ?)",
        (now, now + DAY_BEFORE_S, now - CONFIRM_WITHIN_S, now - CONFIRM_WITHIN_S),
    ).fetchall()
    owed = []
    for row in rows:
        try:
            phone = mobile_number(row["phone"])
        except Invalid:
            continue  # a landline books too: it gets no SMS
        ahead = row["slot_at"] - now
        kinds = []
        if row["state"] == "booked" and row["made_at"] > now - CONFIRM_WITHIN_S:
            kinds.append("booked")
        if (
            row["state"] == "cancelled"
            and row["changed_at"]
            and not row["moved"]
            and (row["changed_at"] > now - CONFIRM_WITHIN_S)
        ):
            kinds.append("cancelled")
        if (
            row["state"] == "booked"
            and 0 < ahead <= SOON_S
            and row["slot_at"] - row["made_at"] > SOON_S
        ):
            kinds.append("soon")
        elif (
            row["state"] == "booked"
            and SOON_S < ahead <= DAY_BEFORE_S
            and (row["slot_at"] - row["made_at"] > DAY_BEFORE_S)
        ):
            kinds.append("day_before")
        when = datetime.fromtimestamp(row["slot_at"], zone).strftime("%d.%m %H:%M")
        for kind in kinds:
            text = compose(kind, row["language"], row["name"], when=when, code=pretty(row["code"]))
            owed.append((row["center"], f"booking:{row['code']}", kind, phone, text, now))
    return _owe(conn, owed)


def _owe(conn: SqlConnection, owed: list[tuple[Any, ...]]) -> int:
    """Owe these messages, each once per ticket (or booking) and kind; return how many new."""
    before = conn.execute("SELECT count(*) FROM sms_outbox").fetchone()[0]
    conn.executemany(
        "INSERT INTO sms_outbox (center, ticket, kind, phone, text, made_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ticket, kind) DO NOTHING",
        owed,
    )
    return int(conn.execute("SELECT count(*) FROM sms_outbox").fetchone()[0] - before)


def forget_past(conn: SqlConnection, center: str, day: str) -> None:
    """Delete the numbers of the center's days before ``day``, and blank them on messages."""
    conn.execute("DELETE FROM sms_numbers WHERE center = ? AND day < ?", (center, day))
    conn.execute(
        "UPDATE sms_outbox SET phone = '' WHERE center = ? AND phone <> '' AND ticket NOT IN "
        "(SELECT ticket FROM sms_numbers WHERE center = ?)",
        (center, center),
    )


def sent_by_center(conn: SqlConnection, since: float, until: float) -> dict[str, int]:
    """Return the messages each center's visitors were sent between two times."""
    return {
        row[0]: int(row[1])
        for row in conn.execute(
            "SELECT center, count(*) FROM sms_outbox WHERE sent_at >= ? AND sent_at < ? "
            "GROUP BY center",
            (since, until),
        )
    }


class SmsWorker:
    """Sends the messages owed, one at a time, in a thread of each HQ process."""

    def __init__(
        self, store: Database, sender: SmsSender, zone: ZoneInfo, every_s: float = SEND_EVERY_S
    ) -> None:
        self.store = store
        self.sender = sender
        self.zone = zone
        self.every_s = every_s
        self._stop = threading.Event()
        self._wake = threading.Event()

    def start(self) -> None:
        """Start sending in the background."""
        threading.Thread(target=self.run, name="hq-sms", daemon=True).start()

    def stop(self) -> None:
        """Ask the thread to finish."""
        self._stop.set()
        self._wake.set()

    def wake(self) -> None:
        """Look for messages owed now (a center's word was just stored)."""
        self._wake.set()

    def run(self) -> None:
        """Send while anything is owed; look again every ``every_s``."""
        while not self._stop.is_set():
            try:
                with self.store.write() as conn:
                    owe_bookings(conn, time.time(), self.zone)
            except Exception:  # noqa: BLE001 (the database away: the next look tries again)
                log.exception("The bookings' SMS could not be worked out now")
            while self.send_one(time.time()):
                pass
            self._wake.wait(self.every_s)
            self._wake.clear()

    def send_one(self, now: float) -> bool:
        """Claim the oldest message owed and submit it; False when none is owed."""
        with self.store.write() as conn:
            row = conn.execute(
                "SELECT id, phone, text, tries FROM sms_outbox WHERE claimed_at IS NULL "
                "AND sent_at IS NULL AND phone <> '' AND tries < ? ORDER BY id LIMIT 1",
                (MAX_TRIES,),
            ).fetchone()
            if row is None:
                return False
            claimed = conn.execute(
                "UPDATE sms_outbox SET claimed_at = ? WHERE id = ? AND claimed_at IS NULL",
                (now, row["id"]),
            )
            if claimed.rowcount != 1:  # another HQ process took it
                return True
        try:
            ids = self.sender.send(row["phone"], row["text"])
        except Exception as exc:  # noqa: BLE001 (any refusal or broken link: tried again)
            log.warning("An SMS was not submitted (try %d): %s", row["tries"] + 1, exc)
            with self.store.write() as conn:
                conn.execute("UPDATE sms_outbox SET claimed_at = NULL, tries = tries + 1 "
                             "WHERE id = ?", (row["id"],))  # fmt: skip
            return False
        with self.store.write() as conn:
            conn.execute(
                "UPDATE sms_outbox SET sent_at = ?, parts = ?, phone = '' WHERE id = ?",
                (time.time(), ",".join(ids), row["id"]),
            )
        return True
