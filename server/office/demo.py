"""The demo center: the shipped catalog, five counters, demo staff and three devices.

``dostq demo`` and the benchmark seed a center with it; the logins are for demos only.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from server.office import accounts, holidays
from server.office.catalog import (
    default_priority_categories,
    import_catalog,
    import_priority_categories,
)
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue.storage import put_setting

DEMO_COUNTERS = (  # name, service codes, categories (None: everyone)
    ("Masa 1", ["1.0", "4.1", "4.4", "4.7"], None),
    ("Masa 2", ["2.1", "2.2", "2.3", "2.4", "2.5", "8.0"], None),
    ("Masa 3", ["3.1", "3.2.1", "3.2.2", "3.3", "3.4", "3.5", "4.10", "4.x1", "4.x2"], None),
    (
        "Masa 4",
        [
            "5.x1",
            "5.x2",
            "5.x3",
            "5.x4",
            "5.x5",
            "5.x6",
            "5.x7",
            "5.x8",
            "5.x9",
            "5.x10",
            "5.x11",
            "5.x12",
            "6",
            "7.6.2",
            "9.7",
            "9.8",
            "9.12",
            "9.x1",
            "10.0",
            "K.1",
            "L.1",
            "M.0",
            "N.0",
        ],
        None,
    ),  # fmt: skip
    (
        "Masa 5 (güzəştli)",
        ["1.0", "3.1", "5.x1", "5.x2", "6"],
        ["disability", "veterans", "elderly", "infants"],
    ),
)
DEMO_LOGINS = {
    "admin": "demo-head-office",
    "manager": "demo-floor-lead",
    **{f"clerk{i}": f"demo-counter-{i}" for i in range(1, 6)},
    "volunteer": "demo-entrance-help",
}
DEMO_NOTICES = {
    "az": "Xoş gəlmisiniz! Nömrənizi ekranda izləyin.",
    "ru": "Добро пожаловать! Следите за своим номером на экране.",
    "en": "Welcome! Watch for your number on the screen.",
}


def seed_demo(conn: sqlite3.Connection, now: float) -> dict[str, str] | None:
    """Seed an empty center; return the new device tokens, or None if it had staff already."""
    if conn.execute("SELECT count(*) FROM users").fetchone()[0]:
        return None
    import_catalog(conn, load_catalog(default_catalog_path()))
    import_priority_categories(conn, default_priority_categories())
    for username, password in DEMO_LOGINS.items():
        role = username if username in ("admin", "manager", "volunteer") else "clerk"
        accounts.create_user(conn, username, password, role, now)
    put_setting(conn, "notices", DEMO_NOTICES)
    year = datetime.fromtimestamp(now).year
    for shown in (year, year + 1):
        holidays.add_public_holidays(conn, shown)
    counters = [
        accounts.create_counter(conn, name, dict.fromkeys(services, 1.0), categories=categories)
        for name, services, categories in DEMO_COUNTERS
    ]
    tablet = accounts.enrol_device(conn, "tablet-1", "feedback", now, counter_id=counters[0])
    return {
        "kiosk-1": accounts.enrol_device(conn, "kiosk-1", "kiosk", now, printer="virtual:printer"),
        "display-1": accounts.enrol_device(conn, "display-1", "display", now),
        "display-hall2": accounts.enrol_device(conn, "display-hall2", "display", now, zone="hall2"),
        # The feedback tablet on the first counter's desk (/counter/feedback).
        "tablet-1": tablet,
    }
