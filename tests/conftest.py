"""Shared fixtures: a seeded center on a real SQLite file, the app, and a live server."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from server import accounts
from server.catalog import (
    default_catalog_path,
    default_priority_categories,
    import_catalog,
    import_priority_categories,
    load_catalog,
)
from server.center import Center
from server.storage import Store

T0 = 1_795_400_000.0  # 2026-11-23 12:13 in Baku: inside a working day


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def seed(store: Store) -> dict[str, int]:
    """Load the shipped catalog and categories; create two clerks and three counters."""
    with store.write() as conn:
        import_catalog(conn, load_catalog(default_catalog_path()))
        import_priority_categories(conn, default_priority_categories())
        ids = {
            "clerk1": accounts.create_user(conn, "clerk1", "clerk1-pass", "clerk", T0),
            "clerk2": accounts.create_user(conn, "clerk2", "clerk2-pass", "clerk", T0),
            "manager": accounts.create_user(conn, "manager", "manager-pass", "manager", T0),
            "counter1": accounts.create_counter(conn, "Masa 1", {"2.1": 1, "2.2": 1, "6": 1}),
            "counter2": accounts.create_counter(conn, "Masa 2", {"2.1": 1, "4.2": 1}, zone="hall2"),
            "counter3": accounts.create_counter(
                conn, "Masa 3", {"6": 1}, categories=["disability"]
            ),
        }
    return ids


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def center(tmp_path: Path, clock: FakeClock) -> Iterator[Center]:
    store = Store(tmp_path / "dostq.db")
    seed(store)
    yield Center(store, clock=clock)
    store.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveCenter:
    """A real `dostq serve` process on loopback, seeded by `dostq demo`."""

    url: str
    data_dir: Path
    process: subprocess.Popen[bytes]
    tokens: dict[str, str] = field(default_factory=dict)

    def session(self, username: str, password: str) -> requests.Session:
        """Return a requests session signed in as a member of staff, CSRF header set."""
        http = requests.Session()
        csrf = http.get(f"{self.url}/api/v1/session", timeout=10).json()["csrf_token"]
        http.headers["X-CSRFToken"] = csrf
        response = http.post(
            f"{self.url}/api/v1/session",
            json={"username": username, "password": password},
            timeout=10,
        )
        response.raise_for_status()
        http.headers["X-CSRFToken"] = response.json()["csrf_token"]
        return http

    def kiosk(self) -> requests.Session:
        http = requests.Session()
        http.headers["Authorization"] = f"Device {self.tokens['kiosk-1']}"
        return http


def start_live_center(data_dir: Path, prepare=None, tls=False) -> LiveCenter:
    """Seed a demo center in ``data_dir`` (then ``prepare(store)``) and serve it."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    dostq = [sys.executable, "-m", "server"]
    subprocess.run(
        [*dostq, "demo", "--data-dir", str(data_dir)], check=True, env=env, capture_output=True
    )
    if prepare is not None:
        store = Store(data_dir / "dostq.db")
        prepare(store)
        store.close()
    if tls:
        subprocess.run(
            [*dostq, "cert", "--data-dir", str(data_dir)], check=True, env=env, capture_output=True
        )
    port = free_port()
    with (data_dir / "server.log").open("wb") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [*dostq, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    verify = str(data_dir / "tls" / "cert.pem") if tls else True
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/healthz", timeout=1, verify=verify).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.1)
    else:
        process.kill()
        raise RuntimeError(f"server did not start: {(data_dir / 'server.log').read_text()}")
    tokens = json.loads((data_dir / "demo-devices.json").read_text())
    return LiveCenter(url, data_dir, process, tokens)


@pytest.fixture
def live_center(tmp_path: Path) -> Iterator[LiveCenter]:
    live = start_live_center(tmp_path / "center")
    yield live
    live.process.terminate()
    live.process.wait(timeout=10)


@dataclass
class AppCenter:
    """The Flask app on a seeded database, with device tokens and record ids."""

    app: object
    ids: dict[str, int]
    kiosk_token: str
    display_token: str
    clock: FakeClock


@pytest.fixture
def app_center(tmp_path: Path, clock: FakeClock) -> Iterator[AppCenter]:
    from server.app import create_app

    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True})
    center: Center = app.extensions["dostq.center"]
    center.clock = clock
    ids = seed(center.store)
    with center.store.write() as conn:
        kiosk = accounts.enrol_device(conn, "kiosk-1", "kiosk", T0)
        display = accounts.enrol_device(conn, "display-1", "display", T0, zone="main")
    yield AppCenter(app, ids, kiosk, display, clock)
    center.store.close()


def login(client, username: str, password: str):
    """Sign a Flask test client in; return the CSRF headers for its changes."""
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/session",
        json={"username": username, "password": password},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_json()
    return {"X-CSRFToken": response.get_json()["csrf_token"]}
