"""People and devices: staff accounts (argon2id), kiosk and display tokens, counters."""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
from typing import Any

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from server.queue.actors import AGENT_PRINTER, Device, User, device_from_row
from server.queue.errors import Invalid, NotFound
from server.queue.plain_text import plain_text
from server.queue.storage import SqlConnection

# A volunteer (or receptionist) at the entrance issues tickets for visitors and looks them up.
ROLES = ("clerk", "manager", "admin", "volunteer")
DEVICE_KINDS = ("kiosk", "display", "feedback")
PRINT_MODES = ("text", "raster")  # text only as calibrated; raster until then
# ASVS 5.0 6.2: long passwords, none of the commonest, none built on the username.
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# zxcvbn's list of the 30,000 passwords most often found in breaches, ranked (MIT licence).
COMMON_PASSWORDS = frozenset(FREQUENCY_LISTS["passwords"])
# argon2-cffi's default profile (argon2id, 64 MiB, t=3, p=4) is above OWASP's minimum; the
# PASSWORD_PROFILE setting names another of argon2.profiles (the test suite's is CHEAPEST).
PASSWORD_PROFILES = tuple(name for name in vars(profiles) if name.isupper())
_profile = "RFC_9106_LOW_MEMORY"
_hasher = PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)
# Verifying against this keeps a login for an unknown user as slow as one for a known user.
_DUMMY_HASH = _hasher.hash("not-a-password")


def use_password_profile(name: str) -> None:
    """Hash new passwords with argon2-cffi's profile ``name``; stored hashes keep verifying.

    A stored hash carries its own cost, so one made at another cost still signs in and is
    renewed at this cost on its next sign-in.
    """
    global _profile, _hasher, _DUMMY_HASH
    if name not in PASSWORD_PROFILES:
        raise ValueError(f"PASSWORD_PROFILE must be one of {', '.join(PASSWORD_PROFILES)}.")
    if name != _profile:
        _profile = name
        _hasher = PasswordHasher.from_parameters(getattr(profiles, name))
        _DUMMY_HASH = _hasher.hash("not-a-password")


def create_user(
    conn: SqlConnection,
    username: str,
    password: str,
    role: str,
    now: float,
    display_name: str | None = None,
) -> int:
    """Create a staff account; the password is stored only as an argon2id hash."""
    if role not in ROLES:
        raise Invalid("bad_role", f"Role must be one of {', '.join(ROLES)}.", "role")
    if not username.strip():
        raise Invalid("bad_username", "A username cannot be empty.", "username")
    _check_password(username.strip(), password)
    plain_text(username, "username", "A username")
    plain_text(display_name or "", "display_name")
    # The same SQL on SQLite and on HQ's PostgreSQL: no driver's own error or lastrowid.
    row = conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, created_at) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (username) DO NOTHING RETURNING id",
        (username.strip(), display_name or username.strip(), _hasher.hash(password), role, now),
    ).fetchone()
    if row is None:
        raise Invalid("username_taken", f"User '{username}' exists already.", "username")
    return int(row[0])


def set_password(conn: sqlite3.Connection, user_id: int, password: str) -> None:
    """Give a user a new password and end their sessions everywhere."""
    _check_password(username_of(conn, user_id), password)
    conn.execute(
        "UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), user_id)
    )
    end_sessions(conn, user_id)


def password_problem(username: str, password: str) -> tuple[str, str] | None:
    """Say why ``password`` may not be a new password for ``username``: (code, message).

    None: it may. Each code has its words in the staff pages' languages (error.<code>).
    """
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password_too_short", f"A password needs at least {MIN_PASSWORD_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return "password_too_long", f"A password has at most {MAX_PASSWORD_LENGTH} characters."
    folded = password.casefold()
    if folded in COMMON_PASSWORDS:
        return "password_common", "This is one of the most common passwords: choose another."
    name = username.strip().casefold()
    if len(name) >= 3 and name in folded:
        return "password_has_username", "A password must not contain the username."
    return None


def _check_password(username: str, password: str) -> None:
    problem = password_problem(username, password)
    if problem:
        raise Invalid(*problem, "password")


def _user(row: Any) -> User:  # sqlite3.Row, or HQ's PostgreSQL row
    return User(
        row["id"],
        row["username"],
        row["display_name"],
        row["role"],
        row["session_version"],
        row["language"],
    )


def authenticate(conn: sqlite3.Connection, username: str, password: str) -> User | None:
    """Return the active user with this username and password, or None."""
    stored = password_hash(conn, username)
    if stored is None or not check_password(stored, password):
        return None
    return signed_in(conn, username, password, stored)


def password_hash(conn: SqlConnection, username: str) -> str | None:
    """Return the stored password hash of an active user (None: no such user)."""
    row = conn.execute(
        "SELECT password_hash FROM users WHERE username = ? AND active = 1", (username,)
    ).fetchone()
    return str(row[0]) if row else None


def check_password(stored: str | None, password: str) -> bool:
    """Tell whether ``password`` matches ``stored``; as slow for an unknown user as a known one.

    Needs no database: a caller runs it outside any transaction (argon2 takes tens of ms).
    """
    try:
        _hasher.verify(stored or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return stored is not None


def signed_in(conn: SqlConnection, username: str, password: str, checked: str) -> User | None:
    """Return the user whose password was just checked against ``checked``.

    None if the account was disabled or its password changed meanwhile; the hash is renewed
    if argon2's parameters have grown since it was made.
    """
    row = conn.execute(
        "SELECT * FROM users WHERE username = ? AND active = 1 AND password_hash = ?",
        (username, checked),
    ).fetchone()
    if row is None:
        return None
    if _hasher.check_needs_rehash(checked):
        conn.execute(
            "UPDATE users SET password_hash = ? WHERE id = ?", (_hasher.hash(password), row["id"])
        )
    return _user(row)


def load_user(conn: SqlConnection, user_id: int, session_version: int) -> User | None:
    """Return the user behind a session, unless the account or that session was ended."""
    row = conn.execute(
        "SELECT * FROM users WHERE id = ? AND active = 1 AND session_version = ?",
        (user_id, session_version),
    ).fetchone()
    return _user(row) if row else None


def clerk_at_counter(conn: sqlite3.Connection, counter_id: int) -> User | None:
    """Return the active user signed in at a counter, if any."""
    row = conn.execute(
        "SELECT u.* FROM counters c JOIN users u ON u.id = c.clerk_user_id "
        "WHERE c.id = ? AND u.active = 1",
        (counter_id,),
    ).fetchone()
    return _user(row) if row else None


def username_of(conn: sqlite3.Connection, user_id: int) -> str:
    """Return a user's username, or raise NotFound."""
    row = conn.execute("SELECT username FROM users WHERE id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound("unknown_user", f"No user {user_id}.", "user")
    return str(row[0])


def end_sessions(conn: SqlConnection, user_id: int) -> None:
    """Invalidate every session of a user (logout everywhere, password change, disable)."""
    conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = ?", (user_id,))


def token_hash(token: str) -> str:
    """Return what is stored of a device's token (its SHA-256, in hex)."""
    # Tokens are 256 random bits, so a fast hash is enough; only the hash is stored.
    return hashlib.sha256(token.encode()).hexdigest()


def enrol_device(
    conn: sqlite3.Connection,
    name: str,
    kind: str,
    now: float,
    zone: str | None = None,
    prints: bool = True,
    printer: str | None = None,
    printer_profile: str = "TM-T20II",
    counter_id: int | None = None,
) -> str:
    """Register a kiosk, display or feedback tablet; return its token (shown once, not stored).

    ``printer`` is the URL of a printer the server drives for this kiosk (see
    hardware.printers), of the model ``printer_profile``; without it a printing kiosk
    reports its own print results. The caller has checked both (server.live.printing). It
    prints drawn (raster) until its calibration ticket shows text right (``set_text_pages``).
    A feedback tablet names the counter it stands on (``counter_id``), and only it.
    """
    if kind not in DEVICE_KINDS:
        raise Invalid("bad_device_kind", f"Device kind must be one of {DEVICE_KINDS}.", "kind")
    plain_text(name, "name")
    if zone is not None:
        plain_text(zone, "zone", "A hall")
    if (kind == "feedback") != (counter_id is not None):
        raise Invalid(
            "feedback_needs_counter",
            "A feedback tablet, and only it, names its counter.",
            "counter",
        )
    if (
        counter_id is not None
        and not conn.execute("SELECT 1 FROM counters WHERE id = ?", (counter_id,)).fetchone()
    ):
        raise NotFound("unknown_counter", f"No counter {counter_id}.", "counter")
    token = secrets.token_urlsafe(32)
    try:
        conn.execute(
            "INSERT INTO devices (name, kind, zone, token_hash, prints, printer, print_mode, "
            "printer_profile, counter_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                name,
                kind,
                zone,
                token_hash(token),
                int(kind != "feedback" and (prints or printer is not None)),
                printer,
                "raster",
                printer_profile,
                counter_id,
                now,
            ),
        )
    except sqlite3.IntegrityError as exc:
        raise Invalid("device_exists", f"Device '{name}' exists already.", "name",
                      {"name": name}) from exc  # fmt: skip
    return token


def replace_device_token(conn: sqlite3.Connection, device_id: int) -> tuple[str, str]:
    """Give a device a new token (a replaced kiosk PC); the old token stops working at once.

    Returns the token and the device's name.
    """
    token = secrets.token_urlsafe(32)
    row = conn.execute(
        "UPDATE devices SET token_hash = ? WHERE id = ? RETURNING name",
        (token_hash(token), device_id),
    ).fetchone()
    if row is None:
        raise NotFound("unknown_device", f"No device {device_id}.", "device")
    return token, row[0]


def printing_devices(conn: sqlite3.Connection) -> list[Device]:
    """Return the active kiosks whose printer this server drives itself (not through an agent)."""
    rows = conn.execute(
        "SELECT * FROM devices WHERE active = 1 AND printer IS NOT NULL AND printer != ?",
        (AGENT_PRINTER,),
    ).fetchall()
    return [device_from_row(row) for row in rows]


def reception_printer(conn: sqlite3.Connection, name: str | None) -> Device | None:
    """Return the active device named ``name`` whose printer this server drives (None: none).

    Reception prints on such a device's printer (a desk printer enrolled as a kiosk that never
    shows a screen, or a kiosk beside the desk).
    """
    if name is None:
        return None
    device = next((d for d in printing_devices(conn) if d.name == name), None)
    if device is None:
        raise NotFound(
            "unknown_printer", f"No printer '{name[:100]}' this server drives.", "printer"
        )
    return device


def device_by_name(conn: sqlite3.Connection, name: str) -> Device | None:
    """Return the device enrolled under ``name``, active or not."""
    row = conn.execute("SELECT * FROM devices WHERE name = ?", (name,)).fetchone()
    return device_from_row(row) if row else None


def device_for_token(conn: sqlite3.Connection, token: str) -> Device | None:
    """Return the active device holding ``token``, or None."""
    row = conn.execute(
        "SELECT * FROM devices WHERE token_hash = ? AND active = 1", (token_hash(token),)
    ).fetchone()
    if row is None:
        return None
    return device_from_row(row)


def check_categories(conn: sqlite3.Connection, categories: list[str] | None) -> None:
    """Refuse a visitor category that does not exist ('general' is everyone without priority)."""
    known = {r[0] for r in conn.execute("SELECT code FROM priority_categories")} | {"general"}
    for code in categories or []:
        if code not in known:
            raise NotFound(
                "unknown_category",
                f"No visitor category '{code}' (there are: {', '.join(sorted(known))}).",
                "categories",
            )


def create_counter(
    conn: sqlite3.Connection,
    name: str,
    service_weights: dict[str, float],
    zone: str = "main",
    categories: list[str] | None = None,
) -> int:
    """Create a counter serving the given service codes (with weights) and categories."""
    plain_text(name, "name")
    plain_text(zone, "zone", "A hall")
    check_categories(conn, categories)
    try:
        cursor = conn.execute(
            "INSERT INTO counters (name, zone, categories) VALUES (?, ?, ?)",
            (name, zone, json.dumps(categories) if categories is not None else None),
        )
    except sqlite3.IntegrityError as exc:
        raise Invalid("counter_exists", f"Counter '{name}' exists already.", "name",
                      {"name": name}) from exc  # fmt: skip
    counter_id = int(cursor.lastrowid or 0)
    for code, weight in service_weights.items():
        row = conn.execute("SELECT id FROM services WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise NotFound("unknown_service", f"No service with code '{code}'.", "services")
        conn.execute(
            "INSERT INTO counter_services (counter_id, service_id, weight) VALUES (?, ?, ?)",
            (counter_id, row[0], weight),
        )
    return counter_id


def set_text_pages(conn: sqlite3.Connection, device_id: int, pages_of: str | None) -> str:
    """Print text with the code-page numbering of the model ``pages_of``, or drawn (None).

    ``pages_of`` is the line of the calibration ticket that read right; None: no line did.
    Return the device's name.
    """
    row = conn.execute(
        "SELECT name FROM devices WHERE id = ? AND printer IS NOT NULL", (device_id,)
    ).fetchone()
    if row is None:
        raise NotFound("unknown_device", f"No device {device_id} with a printer.", "device")
    conn.execute(
        "UPDATE devices SET print_mode = ?, text_pages = ? WHERE id = ?",
        ("raster" if pages_of is None else "text", pages_of, device_id),
    )
    return str(row[0])
