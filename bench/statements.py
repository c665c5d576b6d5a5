"""SQL statements per operation, counted where they run: the center's app in this process.

A ticket (the kiosk's POST /api/v1/tickets: device check, hours, issue, the answer) and a call
(a clerk's call-next and the no-show that frees the counter), each through the same Flask app
and Store a center serves with, with SQLite's trace callback counting every statement the one
connection runs (BEGIN and COMMIT included). Counts do not depend on the machine's load.
"""

from __future__ import annotations

import statistics
import time
from pathlib import Path
from typing import Any

from server.app import create_app
from server.office.demo import DEMO_LOGINS, seed_demo

SAMPLES = 20


def run(work: Path) -> dict[str, Any]:
    """Return the median statements per ticket issued and per call with its no-show."""
    config = {"DATA_DIR": str(work / "statements"), "TESTING": True, "WORKER": "threads",
              "PASSWORD_PROFILE": "CHEAPEST", "KIOSK_TICKETS_PER_MINUTE": 100000}  # fmt: skip
    app = create_app(config)
    # Threads of their own would add their reads to the count (and outlive the store).
    for background in ("dostq.day_closer", "dostq.national_catalog", "dostq.hq_sync",
                       "dostq.phones"):  # fmt: skip
        app.extensions[background].stop()
    store = app.extensions["dostq.center"].store
    with store.write() as conn:
        tokens = seed_demo(conn, time.time()) or {}
    statements: list[str] = []
    store.db.conn.set_trace_callback(statements.append)
    kiosk = app.test_client()
    device = {"Authorization": f"Device {tokens['kiosk-1']}"}
    clerk = app.test_client()
    csrf = clerk.get("/api/v1/session").get_json()["csrf_token"]
    clerk.post("/login", data={"username": "clerk1", "password": DEMO_LOGINS["clerk1"],
                               "csrf_token": csrf})  # fmt: skip
    csrf = clerk.get("/api/v1/session").get_json()["csrf_token"]
    headers = {"X-CSRFToken": csrf}
    clerk.post("/api/v1/counters/1/session", headers=headers)
    per_ticket, per_call = [], []
    for _ in range(SAMPLES):
        statements.clear()
        issued = kiosk.post("/api/v1/tickets", json={"service": "4.4", "print": False},
                            headers=device)  # fmt: skip
        _check(issued.status_code == 201, issued.get_data(as_text=True))
        per_ticket.append(len(statements))
    for _ in range(SAMPLES):
        statements.clear()
        called = clerk.post("/api/v1/counters/1/call-next", headers=headers)
        freed = clerk.post("/api/v1/counters/1/no-show", headers=headers)
        _check(called.status_code == freed.status_code == 200, called.get_data(as_text=True))
        per_call.append(len(statements))
    store.db.conn.set_trace_callback(None)
    store.close()
    return {"sql_per_ticket": statistics.median(per_ticket),
            "sql_per_call": statistics.median(per_call)}  # fmt: skip


def _check(done: bool, answer: str) -> None:
    """Refuse to count an operation that did not happen."""
    if not done:
        raise RuntimeError(f"the operation was refused: {answer[:200]}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print(run(Path(folder)))
