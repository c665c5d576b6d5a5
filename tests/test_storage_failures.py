"""A database that cannot write: /healthz says so, a kiosk hears it in its language, and the
server heals by itself once the cause is gone. No ticket is lost or doubled on the way.

Root writes any file whatever its mode, so each case runs in a child process that became an
ordinary user (nobody) before it opened the database: a file that user may not write is what
SQLite opens read-only and, before, kept read-only after the file was fixed.
"""

import os
import shutil
import tempfile
import traceback
from pathlib import Path

import pytest

from server.office import accounts
from tests.conftest import T0, center_app, seed

NOBODY = 65534


def as_nobody(case) -> dict:
    """Run ``case(folder)`` in a child that is user nobody; return what it returned."""
    # Once as root first: the modules it imports on the way are loaded before the child is
    # a user who may not read this Python's own folder.
    warm = Path(tempfile.mkdtemp(prefix="dostq-warm-"))
    case(warm / "data")
    shutil.rmtree(warm)
    folder = Path(tempfile.mkdtemp(prefix="dostq-ro-"))
    os.chown(folder, NOBODY, NOBODY)
    result_file = folder / "result"
    pid = os.fork()
    if pid == 0:  # the child: nobody from here on, never back to pytest
        status = 1
        try:
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            result_file.write_text(repr(case(folder / "data")))
            status = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(status)
    _, status = os.waitpid(pid, 0)
    try:
        assert status == 0, "the case failed in the child (its output is above)"
        return eval(result_file.read_text())  # noqa: S307  # our own child's repr of plain data
    finally:
        shutil.rmtree(folder)


def unwritable_then_fixed(data_dir: Path) -> dict:
    seeded = center_app(data_dir)
    center = seeded.extensions["dostq.center"]
    seed(center.store)
    with center.store.write() as conn:
        kiosk = accounts.enrol_device(conn, "kiosk-1", "kiosk", T0)
    center.store.close()
    database = data_dir / "dostq.db"
    database.chmod(0o444)  # as on a read-only mount or a file made immutable
    app = center_app(data_dir)  # opened read-only; on start it makes the file 0600 again
    client = app.test_client()
    headers = {"Authorization": f"Device {kiosk}", "Accept-Language": "az"}
    refused = client.post("/api/v1/tickets", json={"service": "4.4", "print": False},
                          headers=headers)  # fmt: skip
    healed_health = client.get("/healthz")
    issued = client.post("/api/v1/tickets", json={"service": "4.4", "print": False},
                         headers=headers)  # fmt: skip
    with app.extensions["dostq.center"].store.read() as conn:
        tickets = conn.execute("SELECT label FROM tickets").fetchall()
    return {
        "refused": (refused.status_code, refused.get_json().get("error", {}).get("code")),
        "health_after": (healed_health.status_code, healed_health.get_json()["database"]),
        "issued": (issued.status_code, issued.get_json().get("label")),
        "tickets": [r[0] for r in tickets],
    }


def read_only_health(data_dir: Path) -> dict:
    app = center_app(data_dir)
    app.extensions["dostq.center"].store.close()
    (data_dir / "dostq.db").chmod(0o444)
    app = center_app(data_dir)
    (data_dir / "dostq.db").chmod(0o444)  # and it stays so: a read-only mount
    client = app.test_client()
    first, second = client.get("/healthz"), client.get("/healthz")
    return {"statuses": [first.status_code, second.status_code],
            "database": second.get_json()["database"]}  # fmt: skip


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming user nobody needs root")
def test_a_center_opened_on_an_unwritable_file_recovers_once_it_is_writable():
    seen = as_nobody(unwritable_then_fixed)
    # The first write meets the read-only connection: a 503 with a code the screens translate,
    # not Flask's English 500; then the server reconnects by itself and serves again.
    assert seen["refused"] == (503, "storage_unavailable")
    assert seen["health_after"] == (200, "writable")
    assert seen["issued"] == (201, "D-001")
    assert seen["tickets"] == ["D-001"]  # the refused one was never half-written


@pytest.mark.skipif(os.geteuid() != 0, reason="becoming user nobody needs root")
def test_healthz_writes_for_real_and_fails_while_the_file_takes_no_writes():
    seen = as_nobody(read_only_health)
    assert seen["statuses"] == [503, 503]  # an empty BEGIN IMMEDIATE answered 200 here
    assert "readonly" in seen["database"]


def test_a_page_refused_by_the_database_says_so_in_the_users_language(app_center, monkeypatch):
    import sqlite3

    from server.web import health

    def full_disk(*_args, **_kwargs):
        raise sqlite3.OperationalError("database or disk is full")

    client = app_center.app.test_client()
    monkeypatch.setattr(health, "health", full_disk)
    for language, words in (("az", "yadda saxlaya bilmir"), ("ru", "не может сохранить")):
        client.set_cookie("dostq_language", language)
        answer = client.get("/healthz", headers={"Accept-Language": language})
        assert answer.status_code == 503
        assert words in answer.get_data(as_text=True)
        assert "Traceback" not in answer.get_data(as_text=True)
