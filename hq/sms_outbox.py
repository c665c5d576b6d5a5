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
from typing import Any

from hq.sms import SmsSender, compose
from server.queue.storage import Database, SqlConnection

MAX_TRIES = 3
WAITING = ("issued", "waiting")
PER_NUMBER_A_DAY = 5  # tickets one number follows in a day
SEND_EVERY_S = 1.0

log = logging.getLogger(__name__)


def subscribe(
    conn: SqlConnection, ticket_id: str, phone: str, language: str, now: float, near_ahead: int
) -> bool:
    """Keep ``phone`` for the ticket's messages; False when that number follows enough today.

    A ticket already near is told so at once: the center's word will not say it again.
    """
    row = conn.execute("SELECT center, day, status FROM public_tickets WHERE id = ?",
                       (ticket_id,)).fetchone()  # fmt: skip
    if row is None:
        return False
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
        text = compose(kind, language, name, status["label"], status.get("counter"))
        owed.append((center, ticket["id"], kind, phone, text, now))
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

    def __init__(self, store: Database, sender: SmsSender, every_s: float = SEND_EVERY_S) -> None:
        self.store = store
        self.sender = sender
        self.every_s = every_s
        self._stop = threading.Event()

    def start(self) -> None:
        """Start sending in the background."""
        threading.Thread(target=self.run, name="hq-sms", daemon=True).start()

    def stop(self) -> None:
        """Ask the thread to finish."""
        self._stop.set()

    def run(self) -> None:
        """Send while anything is owed; look again every ``every_s``."""
        while not self._stop.is_set():
            if not self.send_one(time.time()):
                self._stop.wait(self.every_s)

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
