"""Every setting of a center and of HQ, declared once with its default and meaning, resolved once.

A setting comes from its default, then the ``DOSTQ_<NAME>`` environment variable, then the
``config`` handed to the app factory (what ``dostq serve`` passes). ``resolve`` turns each into
its type and makes folders absolute, so that no later code can read a relative path against
some other working directory (a spoken call once answered 500 for exactly that reason).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

# The languages of every screen, ticket and announcement, Azerbaijani first.
LANGUAGES = ("az", "ru", "en")
# The center's day starts at local midnight here unless TIMEZONE says otherwise.
TIMEZONE = "Asia/Baku"
# A kiosk or display browser holds its device token in this cookie, set once at enrolment;
# over HTTPS with the __Host- prefix (device_cookie), which no sibling host can set.
DEVICE_COOKIE = "dostq_device"
ENV_PREFIX = "DOSTQ_"


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default and what it means (the README lists them all)."""

    name: str
    default: Any
    help: str

    def parse(self, text: str) -> Any:
        """Read the setting from an environment variable's text, as the default's type."""
        if isinstance(self.default, bool):
            return text.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(self.default, int | float):
            return float(text) if "." in text else int(text)  # seconds may be fractional
        return text


CENTER_SETTINGS = (
    Setting("DATA_DIR", "data", "folder of dostq.db, secret_key (mode 0600) and tls/"),
    Setting("CENTER_NAME", "DOST", "shown on pages and tickets"),
    Setting("TIMEZONE", TIMEZONE, "the center's day starts at local midnight"),
    Setting("TLS", False, "serving HTTPS: Secure, __Host- cookies and HSTS"),
    Setting("UNCONFIRMED_AFTER_S", 120, "flag a ticket not confirmed printed after this long"),
    Setting("APPOINTMENT_EARLY_MIN", 30, "a booking checks in at most this long before its slot"),
    Setting("APPOINTMENT_LATE_MIN", 10, "a booking unchecked this long after its slot: no-show"),
    Setting("KIOSK_TICKETS_PER_MINUTE", 20, "more from one kiosk get a 429 (a stuck screen)"),
    Setting("KIOSK_IDLE_S", 30, "an untouched kiosk screen goes back to the start"),
    Setting("PHONE_SOCKETS_PER_MINUTE", 30, "more live-ticket sockets from one address: refused"),
    Setting("PHONE_NEAR_AHEAD", 3, "the phone page warns when this few people are ahead"),
    Setting("PHONE_CANCELS_PER_MINUTE", 10, "more phone cancels from one address get a 429"),
    Setting("PHONE_RATINGS_PER_MINUTE", 10, "more ratings from one address get a 429"),
    Setting(
        "SERIAL_HOSTS",
        "",
        "serial-to-Ethernet converters a line may reach (socket://, rfc2217://), comma-separated",
    ),
    Setting("PRINT_GIVE_UP_S", 20, "how long a job waits for a printer that is down"),
    Setting("HQ_SYNC_POLL_S", 15, "how often the HQ sender looks for changed days when idle"),
    Setting("HQ_RETRY_MAX_S", 300, "the longest wait between tries while HQ is unreachable"),
    Setting("HQ_SYNC_BATCH_DAYS", 30, "days per request to HQ (a day is about 45 KB)"),
    Setting("HQ_NOW_EVERY_S", 60, "how often the hall's waits go to HQ's public page"),
    Setting("HQ_CATALOG_EVERY_S", 300, "how often the center asks HQ for a newer catalog"),
    Setting(
        "HQ_PUBLIC_URL",
        "",
        "HQ's address on the internet: set, a linked center's ticket QR codes open the ticket's "
        "page there (phones on mobile data reach it); empty, the center's own page",
    ),
    Setting("HQ_PHONES_EVERY_S", 5, "the longest a ticket's changed status waits to go to HQ"),
    Setting("BACKUP_DIR", "", "folder of nightly backups (a second disk); empty: DATA_DIR/backups"),
    Setting("BACKUP_HOUR", 21, "the local hour after which the server takes the night's backup"),
    Setting("BACKUP_KEEP_DAILY", 14, "nightly backups kept: the newest of each of these last days"),
    Setting("BACKUP_KEEP_WEEKLY", 8, "and the newest of each of these last weeks"),
    Setting("WORKER", "gevent", "gevent: an idle socket costs memory; threads: one per socket"),
    Setting("THREADS", 200, "with WORKER=threads: the screens connected at once, plus headroom"),
    Setting("MAX_SOCKETS", 2000, "more live screens than this are refused at the handshake"),
    Setting("SOCKET_PING_INTERVAL_S", 10, "how often each screen is pinged"),
    Setting("SOCKET_PING_TIMEOUT_S", 5, "a screen silent this long after a ping is dropped"),
    Setting("SOCKET_SIGN_IN_S", 10, "a socket not signed in this long after it opened is closed"),
    *(
        SIGN_IN_SETTINGS := (
            Setting("SIGNIN_MAX_FAILURES", 5, "wrong passwords before an account is locked"),
            Setting("SIGNIN_LOCK_S", 900, "how long a locked account waits (an admin can unlock)"),
            Setting(
                "PASSWORD_PROFILE",
                "RFC_9106_LOW_MEMORY",
                "argon2 cost of new password hashes, by argon2.profiles name (tests: CHEAPEST)",
            ),
        )
    ),
    *(
        OPERATIONS_SETTINGS := (
            Setting("METRICS_TOKEN", "", "/metrics for this bearer token too; empty: this PC only"),
            Setting("PROXY_HOPS", 0, "reverse proxies in front setting X-Forwarded-For; 0: none"),
            Setting("LOG_FORMAT", "text", "text: a line for a person; json: JSON lines"),
            # Gunicorn's own default; the audit log and the queue's lines keep who did what
            # either way. Each line costs the one worker a share of a ticket's time (bench/).
            Setting("ACCESS_LOG", False, "log every HTTP request (by route, never a token)"),
        )
    ),
)
WORKERS = ("gevent", "threads")
LOG_FORMATS = ("text", "json")
HQ_SETTINGS = (
    Setting("HQ_DATA_DIR", "hq-data", "folder of hq.db, secret_key and tls/"),
    Setting("HQ_DATABASE", "", "postgresql://user@host/db for a PostgreSQL server; empty: hq.db"),
    Setting("HQ_TIMEZONE", TIMEZONE, 'what "today" is on the dashboard'),
    Setting("HQ_MAX_BATCH_BYTES", 8 * 1024 * 1024, "a bigger request from a center gets 413"),
    Setting("HQ_NOW_STALE_S", 180, 'a center silent this long shows "no data since" on /hq/waits'),
    Setting("HQ_WAITS_REFRESH_S", 30, "how often /hq/waits reloads its figures in the browser"),
    Setting("HQ_BOOKINGS_PER_HOUR", 20, "bookings, moves and cancels one address makes in an hour"),
    Setting(
        "HQ_PHONES_KEEP_DAYS", 30, "a booking's phone number is blanked this long after its slot"
    ),
    Setting("HQ_LOOKUPS_PER_MINUTE", 60, "bookings one address may look up by code in a minute"),
    Setting("HQ_BOOK_BEFORE_MIN", 15, "a slot can be booked until this long before it starts"),
    Setting("HQ_PHONE_REQUESTS_PER_MINUTE", 10, "leavings and ratings from one address a minute"),
    Setting("HQ_PHONE_NEAR_AHEAD", 3, 'a relayed ticket page says "your turn is near" from here'),
    Setting("HQ_SMPP_URL", "", "smpp://SYSTEM_ID:PASSWORD@HOST:PORT: the operator's SMPP account"),
    Setting("HQ_SMS_HTTP_URL", "", "an operator's HTTP SMS gateway, when there is no SMPP account"),
    Setting("HQ_SMS_HTTP_TOKEN", "", "the bearer token of that gateway"),
    Setting("HQ_SMS_SOURCE", "DOST", "the sender's name (or number) the visitor's phone shows"),
    Setting("TLS", False, "serving HTTPS: Secure, __Host- cookies"),
    *SIGN_IN_SETTINGS,
    *OPERATIONS_SETTINGS,
)
FOLDERS = frozenset({"DATA_DIR", "HQ_DATA_DIR"})


def resolve(
    settings: tuple[Setting, ...],
    config: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Return every setting's value: default, then ``DOSTQ_<NAME>``, then ``config``.

    Keys of ``config`` that are not settings (Flask's own, like ``SECRET_KEY``) pass through.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for setting in settings:
        text = environ.get(ENV_PREFIX + setting.name)
        values[setting.name] = setting.default if text is None else setting.parse(text)
    values.update(config or {})
    for name in FOLDERS & values.keys():
        values[name] = Path(values[name]).resolve()
    return values


def device_cookie(tls: bool) -> str:
    """Return the device cookie's name: ``__Host-`` prefixed over HTTPS, as the session's is."""
    return f"__Host-{DEVICE_COOKIE}" if tls else DEVICE_COOKIE


def device_token_cookie(cookies: Mapping[str, str], tls: bool) -> tuple[str | None, bool]:
    """Return the device token a request's cookies carry, and whether it came unprefixed.

    A kiosk enrolled over HTTPS before the prefix still holds the plain cookie; it is read
    once more and renewed (server.web.auth), so no screen needs enrolling again.
    """
    token = cookies.get(device_cookie(tls))
    if token or not tls:
        return token, False
    old = cookies.get(DEVICE_COOKIE)
    return old, old is not None


def host_list(text: str) -> frozenset[str]:
    """Return the addresses of a comma-separated setting (``SERIAL_HOSTS``)."""
    return frozenset(host.strip() for host in text.split(",") if host.strip())


def center_local_now(values: Mapping[str, Any]) -> datetime:
    """Return the center's local time now, naive, as backup names carry it.

    The nightly backup names its file in the center's time zone and ``dostq backup`` named its
    own in the PC's (UTC on many servers): rotation, which keeps the newest name of each day,
    then kept the nightly copy from before the manual one and deleted the newer.
    """
    return datetime.now(ZoneInfo(str(values["TIMEZONE"]))).replace(tzinfo=None)


def secret_key(data_dir: Path) -> str:
    """Return the session-signing key, created once (mode 0600) in the data dir."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_hex(32))
    return path.read_text().strip()


def backup_folder(values: Mapping[str, Any]) -> Path:
    """Return the folder of the nightly backups: BACKUP_DIR, or DATA_DIR/backups."""
    chosen = str(values["BACKUP_DIR"])
    return Path(chosen).resolve() if chosen else Path(values["DATA_DIR"]) / "backups"
