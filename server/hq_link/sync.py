"""Sending the center's daily throughput to headquarters, so that nothing is lost or doubled.

Triggers on ``tickets`` mark a day in ``hq_outbox`` (a revision bump) in the same transaction as
any change to its visits. The sender builds each marked day's record from the database at send
time (counts, times and shares; no names, no ticket numbers), posts batches signed with the
center's key, oldest day first, and marks a day sent only at the revision HQ acknowledged; a day
that changed meanwhile stays pending. HQ keeps the newest revision of each day, so a batch sent
twice, late or out of order does no harm. While HQ is unreachable the worker retries with
exponential backoff and jitter; a center offline for weeks catches up by itself.

Each answer's ``Date`` header is HQ's clock: the center compares its own with it at every
sync, because ticket times and the batch signatures (a five-minute window) depend on it.

Apart from the days, every ``now_every_s`` the center tells HQ how its hall stands now (per
area: waiting, and the wait a new ticket would have; open counters; whether it issues
tickets), for HQ's public page of waits across centers. That is never queued or retried:
a missed minute is replaced by the next, and HQ shows a center that stopped as "no data".
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import string
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from server import VERSION
from server.hq_link import signing
from server.office import reports
from server.queue.center import Center
from server.queue.engine import next_issuing_time
from server.queue.errors import Invalid
from server.queue.storage import get_setting, put_setting
from server.queue.views import hall_now

BATCH_DAYS = 30
PATH = "/hq/api/v1/records"
NOW_PATH = "/hq/api/v1/now"
# Past this, the floor and the log say the clock is wrong (a person must set it).
CLOCK_TOLERANCE_S = 60.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class HqLink:
    """Where this center's HQ is, who this center is there, and the key they share."""

    url: str
    center: str
    key: str
    # HQ's certificate (or its CA) when HQ's is not one the system trusts; else the system's.
    ca_file: str | None = None

    @property
    def verify(self) -> str | bool:
        """What each request to HQ checks HQ's certificate against."""
        return self.ca_file or True


class SyncRefused(Exception):
    """HQ answered but refused the batch (4xx): a person must act (key, clock, center code)."""


# signing.new_key: 32 random bytes as URL-safe base64, 43 characters.
MIN_KEY_LENGTH = 32
KEY_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")


def key_path(data_dir: Path) -> Path:
    """Return where the center keeps its HQ key (mode 0600)."""
    return data_dir / "hq_key"


def ca_path(data_dir: Path) -> Path:
    """Return where the center keeps HQ's certificate, once ``dostq sync --ca-file`` gave it."""
    return data_dir / "hq_ca.pem"


def trust_hq_certificate(data_dir: Path, given: Path) -> None:
    """Keep a copy of HQ's certificate (or its CA's) in the data folder, for every request.

    Refuses a file that holds no certificate: a wrong file would fail every sync later.
    """
    pem = given.read_bytes()
    if b"-----BEGIN CERTIFICATE-----" not in pem:
        raise Invalid("bad_hq_ca", f"{given} holds no PEM certificate.", "ca_file")
    target = ca_path(data_dir)
    target.touch(mode=0o600)
    target.write_bytes(pem)


def check_link(url: str, key: str) -> None:
    """Refuse an HQ address that is not HTTPS (plain HTTP: this machine only) or a short key.

    The records and the hall go to this address, signed with the key: an ftp:// address or a
    three-letter key (both once accepted) would fail every sync, or be guessed.
    """
    parts = urlsplit(url)
    host = parts.hostname or ""
    loopback = host == "localhost" or host.startswith("127.") or host == "::1"
    if not (parts.scheme == "https" or (parts.scheme == "http" and loopback)) or not host:
        raise Invalid("bad_hq_url", f"HQ's address must be https://HOST (got {url[:80]}).", "hq")
    if len(key) < MIN_KEY_LENGTH or not set(key) <= KEY_ALPHABET:
        raise Invalid(
            "bad_hq_key",
            "The key is the line `dostq hq add-center` printed (43 letters, digits, - and _).",
            "key",
        )


def set_up(conn: sqlite3.Connection, data_dir: Path, url: str, center: str, key: str) -> None:
    """Store HQ's address and this center's code, and the key beside the database."""
    check_link(url, key)
    put_setting(conn, "hq", {"url": url.rstrip("/"), "center": center})
    path = key_path(data_dir)
    path.touch(mode=0o600)
    os.chmod(path, 0o600)
    path.write_text(key)


def link(conn: sqlite3.Connection, data_dir: Path) -> HqLink | None:
    """Return the configured HQ link, or None if this center does not sync."""
    stored = get_setting(conn, "hq", None)
    path = key_path(data_dir)
    if not stored or not path.exists():
        return None
    ca = ca_path(data_dir)
    return HqLink(
        stored["url"], stored["center"], path.read_text().strip(), str(ca) if ca.is_file() else None
    )


def pending_days(conn: sqlite3.Connection, limit: int = BATCH_DAYS) -> list[tuple[str, int]]:
    """Return (day, revision) of the oldest days HQ has not yet acknowledged."""
    return [
        (r[0], r[1])
        for r in conn.execute(
            "SELECT day, revision FROM hq_outbox WHERE revision > sent_revision "
            "ORDER BY day LIMIT ?",
            (limit,),
        )
    ]


def close_past_days(conn: sqlite3.Connection, today: str) -> int:
    """Mark each day that ended since it was last marked, so HQ gets it again as final."""
    return conn.execute(
        "UPDATE hq_outbox SET revision = revision + 1, closed = 1 WHERE day < ? AND closed = 0",
        (today,),
    ).rowcount


def day_record(center: Center, conn: sqlite3.Connection, day: str, revision: int) -> dict[str, Any]:
    """Build what HQ receives for one day: the day's report without anyone's name."""
    report = reports.build_report(
        reports.visits(conn, day, day), day, day, center.timezone, reports.service_level(conn)
    )
    return {
        "day": day,
        "revision": revision,
        "final": day < center.day(center.now()),
        "service_level": report["service_level"],
        "totals": report["totals"],
        "hours": report["hours"],
        "areas": report["areas"],
        "services": report["services"],
        "counters_on_duty": len(report["counters"]),
        "staff_on_duty": len(report["clerks"]),
    }


def status(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return the sync state a manager sees: pending days, last success, last problem."""
    pending = conn.execute(
        "SELECT count(*) FROM hq_outbox WHERE revision > sent_revision"
    ).fetchone()[0]
    return {"pending_days": pending, **get_setting(conn, "hq_sync_state", {})}


def floor_status(conn: sqlite3.Connection) -> dict[str, Any]:
    """Return what the manager's floor shows of the sync: set up or not, its status, the clock."""
    state = status(conn)
    offset = state.get("clock_offset_s")
    return {
        "configured": get_setting(conn, "hq", None) is not None,
        **state,
        "clock_off": offset is not None and abs(offset) > CLOCK_TOLERANCE_S,
    }


def clock_offset(response: requests.Response, sent_at: float, answered_at: float) -> float | None:
    """Return how many seconds HQ's clock is ahead of ours, from its answer's Date header.

    None when HQ gave no readable Date. The header holds whole seconds, truncated, and HQ read
    its clock somewhere between our send and its answer: the figure is good to a second plus
    the round trip, ample against a tolerance of a minute.
    """
    try:
        hq_at = parsedate_to_datetime(response.headers["Date"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return None
    return hq_at + 0.5 - (sent_at + answered_at) / 2


def _check_clock(center: Center, response: requests.Response, sent_at: float) -> None:
    offset = clock_offset(response, sent_at, center.now())
    if offset is None:
        return
    with center.transaction() as (conn, now):
        _remember(conn, clock_offset_s=round(offset, 1), clock_checked_at=now)
    if abs(offset) > CLOCK_TOLERANCE_S:
        log.warning(
            "This computer's clock is %+.0f s off HQ's: ticket times and the signatures HQ "
            "checks depend on it. Set the clock (timedatectl set-ntp true, or set it by hand).",
            -offset,
        )


def send_batch(
    center: Center,
    hq: HqLink,
    session: requests.Session,
    batch_days: int = BATCH_DAYS,
    timeout: float = 30,
) -> int:
    """Send the oldest pending days once; return how many HQ acknowledged (0: none pending).

    Raises requests.RequestException while HQ is unreachable, SyncRefused when it says no.
    """
    with center.transaction() as (conn, now):
        close_past_days(conn, center.day(now))
        days = [day for day, _ in pending_days(conn, batch_days)]
        still_pending = status(conn)["pending_days"] - len(days)
    if not days:
        return 0
    records = []
    for day in days:
        # One short read per day, each day's revision read with its visits: kiosks and clerks
        # wait for the database at most one day's report, however long the backlog.
        with center.store.read() as conn:
            revision = conn.execute(
                "SELECT revision FROM hq_outbox WHERE day = ?", (day,)
            ).fetchone()[0]
            records.append({"key": f"{hq.center}/{day}", **day_record(center, conn, day, revision)})
    batch = {"center": hq.center, "version": VERSION, "pending": still_pending, "records": records}
    post_signed(center, hq, session, PATH, batch, timeout)
    with center.transaction() as (conn, now):
        conn.executemany(
            "UPDATE hq_outbox SET sent_revision = max(sent_revision, ?), sent_at = ? WHERE day = ?",
            [(record["revision"], now, record["day"]) for record in records],
        )
        _remember(conn, last_success_at=now, last_error=None)
    return len(days)


def signed_path(hq: HqLink, path: str) -> str:
    """Return the path HQ sees for ``path``, as both sides sign it (HQ may sit under a prefix)."""
    return urlsplit(hq.url).path.rstrip("/") + path


def post_signed(
    center: Center,
    hq: HqLink,
    session: requests.Session,
    path: str,
    message: dict[str, Any],
    timeout: float,
) -> requests.Response:
    """Sign and send ``message`` to HQ's ``path``; return HQ's answer; raise as ``send_batch``."""
    body = json.dumps(message, ensure_ascii=False).encode()
    headers = signing.signed_headers(
        hq.key, hq.center, int(time.time()), "POST", signed_path(hq, path), body
    )
    headers["Content-Type"] = "application/json"
    sent_at = center.now()
    # verify per request: a session's own is overridden by REQUESTS_CA_BUNDLE (psf/requests#3829).
    response = session.post(
        hq.url + path, data=body, headers=headers, timeout=timeout, verify=hq.verify
    )
    # Checked before a refusal is raised: a wrong clock is the likeliest cause of one.
    _check_clock(center, response, sent_at)
    if 400 <= response.status_code < 500:
        raise SyncRefused(_reason(response))
    response.raise_for_status()
    return response


def check_answer(hq: HqLink, path: str, response: requests.Response, what: str) -> None:
    """Raise SyncRefused unless HQ signed this answer with the center's key (method ANSWER)."""
    why = signing.check(
        hq.key,
        hq.center,
        response.headers.get(signing.TIMESTAMP_HEADER, ""),
        response.headers.get(signing.SIGNATURE_HEADER, ""),
        signing.ANSWER,
        signed_path(hq, path),
        response.content,
        time.time(),
    )
    if why:
        raise SyncRefused(f"HQ's {what} answer is not signed by HQ: {why}")


def now_record(
    center: Center, conn: sqlite3.Connection, hq_center: str, now: float
) -> dict[str, Any]:
    """Return how the hall stands at ``now``, as HQ's public page of waits shows it."""
    local = datetime.fromtimestamp(now, center.timezone)
    issuing = next_issuing_time(center.opening_hours(conn), local) is None
    return {"center": hq_center, "at": now, "open": issuing, **hall_now(conn, center.day(now))}


def send_now(center: Center, hq: HqLink, session: requests.Session, timeout: float = 10) -> None:
    """Tell HQ how the hall stands now (raises as ``send_batch`` does)."""
    with center.store.read() as conn:
        record = now_record(center, conn, hq.center, center.now())
    post_signed(center, hq, session, NOW_PATH, record, timeout)


def _reason(response: requests.Response) -> str:
    try:
        return f"HQ refused ({response.status_code}): {response.json()['error']['message']}"
    except (ValueError, KeyError, TypeError):
        return f"HQ refused ({response.status_code})."


def _remember(conn: sqlite3.Connection, **changes: Any) -> None:
    state = get_setting(conn, "hq_sync_state", {})
    state.update(changes)
    put_setting(conn, "hq_sync_state", state)


def problem_kind(exc: Exception) -> str:
    """Name why HQ did not take the days, as the floor says it in the manager's language."""
    if isinstance(exc, SyncRefused):
        return "refused"
    if isinstance(exc, requests.exceptions.SSLError):
        return "certificate"
    if isinstance(exc, requests.ConnectionError):
        return "unreachable"
    if isinstance(exc, requests.Timeout):
        return "timeout"
    return "http_error" if isinstance(exc, requests.RequestException) else "other"


def record_failure(center: Center, exc: Exception) -> None:
    """Keep the last problem for the manager's view and `dostq sync --status`.

    Its kind is what the floor shows, in words; the library's own text (urllib3's
    "HTTPConnectionPool(host=…) Max retries exceeded…" reached the floor) is for the CLI.
    """
    message = (str(exc) or type(exc).__name__)[:300]
    with center.transaction() as (conn, now):
        _remember(conn, last_error=message, last_problem=problem_kind(exc), last_error_at=now)
