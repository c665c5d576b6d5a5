"""Start a real center the way a user does (`dostq demo`, `dostq serve`) on loopback.

The end-to-end tests' harness; the benchmark uses it too. Every wait here is sized for a
loaded 2-core machine (CI runs the whole suite on one), in the constants below: a wait that
is too short fails a good run, and none of them slows a run that goes well.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from server.queue.storage import Database, Store

# Headless Chromium on a closed network: without these it keeps reaching for Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


# Put on a server's PYTHONPATH, it runs the server's clock TEST_CLOCK_AHEAD_S seconds ahead.
SHIFTED_CLOCK = Path(__file__).resolve().parent / "shifted_clock"

# One request to a live server, while other tests or benchmark clients load the machine.
HTTP_TIMEOUT_S = 30.0
# A server process from start to its first answer (imports, migration, gunicorn fork).
START_TIMEOUT_S = 60.0
# A server process from its stop signal to exit.
STOP_TIMEOUT_S = 30.0
# SIGINT is gunicorn's quick shutdown: SIGTERM would wait out the 5 s graceful timeout whenever
# a page or socket is still open. Nothing is lost: every answer came after its commit.
QUICK_STOP = signal.SIGINT


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
    env: dict[str, str] = field(default_factory=dict)
    tls: bool = False

    def session(self, username: str, password: str) -> requests.Session:
        """Return a requests session signed in as a member of staff, CSRF header set."""
        http = requests.Session()
        if self.tls:  # as a browser on the center's own certificate: trusted, same-origin
            http.verify = str(self.data_dir / "tls" / "cert.pem")
            http.trust_env = False  # REQUESTS_CA_BUNDLE would replace it
            http.headers["Referer"] = f"{self.url}/"
        csrf = http.get(f"{self.url}/api/v1/session", timeout=HTTP_TIMEOUT_S).json()["csrf_token"]
        http.headers["X-CSRFToken"] = csrf
        response = http.post(
            f"{self.url}/api/v1/session",
            json={"username": username, "password": password},
            timeout=HTTP_TIMEOUT_S,
        )
        response.raise_for_status()
        http.headers["X-CSRFToken"] = response.json()["csrf_token"]
        return http

    def stop(self) -> None:
        """Stop the server at once (gunicorn's quick shutdown), as a test needs no grace."""
        self.process.send_signal(QUICK_STOP)
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def restart(self, clock_ahead_s: float = 0) -> None:
        """Stop the server and start it again on the same port and data (a power cycle).

        With ``clock_ahead_s`` its clock runs that far ahead of the wall clock from then on.
        """
        self.stop()
        if clock_ahead_s:
            paths = [str(SHIFTED_CLOCK), self.env.get("PYTHONPATH", "")]
            self.env = {**self.env, "TEST_CLOCK_AHEAD_S": str(clock_ahead_s),
                        "PYTHONPATH": os.pathsep.join(filter(None, paths))}  # fmt: skip
        port = int(self.url.rsplit(":", 1)[1])
        self.process = _serve(self.data_dir, port, self.env, self.tls)

    def kiosk(self) -> requests.Session:
        """Return a requests session authenticated as the demo kiosk."""
        http = requests.Session()
        if self.tls:  # trusting the center's own certificate, as its screens do
            http.verify = str(self.data_dir / "tls" / "cert.pem")
            http.trust_env = False  # REQUESTS_CA_BUNDLE would replace it
        http.headers["Authorization"] = f"Device {self.tokens['kiosk-1']}"
        return http


def start_live_center(
    data_dir: Path,
    prepare: Callable[[Store], None] | None = None,
    tls: bool = False,
    settings: dict[str, str] | None = None,
    history_days: int = 0,
) -> LiveCenter:
    """Seed a demo center in ``data_dir`` (then ``prepare(store)``) and serve it.

    ``settings`` are server settings by name (e.g. {"KIOSK_IDLE_S": "3"}); ``history_days``
    working days of generated visits go before today (none by default: today starts empty).
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.update({f"DOSTQ_{name}": value for name, value in (settings or {}).items()})
    shutil.copytree(seeded_demo(history_days, env), data_dir, dirs_exist_ok=True)
    if prepare is not None:
        store = Store(data_dir / "dostq.db")
        prepare(store)
        store.close()
    if tls:
        subprocess.run(
            [sys.executable, "-m", "server", "cert", "--data-dir", str(data_dir)],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
    port = free_port()
    process = _serve(data_dir, port, env, tls)
    tokens = json.loads((data_dir / "demo-devices.json").read_text())
    scheme = "https" if tls else "http"
    return LiveCenter(f"{scheme}://127.0.0.1:{port}", data_dir, process, tokens, env=env, tls=tls)


# One `dostq demo` folder per kind of seed for the whole run, copied for each server: seeding
# (catalog import, staff, devices, history) costs more than starting the server itself.
_SEEDS: dict[tuple[int, tuple[tuple[str, str], ...]], Path] = {}


def seeded_demo(history_days: int, env: dict[str, str]) -> Path:
    """Return a folder seeded by `dostq demo` with these settings, made once per process."""
    # The demo reads two settings: the day's time zone (history) and the cost of its hashes.
    seeding = ("DOSTQ_TIMEZONE", "DOSTQ_PASSWORD_PROFILE")
    key = (history_days, tuple((name, env.get(name, "")) for name in seeding))
    if key not in _SEEDS:
        base = Path(tempfile.mkdtemp(prefix="dostq-seed-"))
        atexit.register(shutil.rmtree, base, ignore_errors=True)
        subprocess.run(
            [sys.executable, "-m", "server", "demo", "--data-dir", str(base / "center"),
             "--history-days", str(history_days)],
            check=True, env=env, capture_output=True,
        )  # fmt: skip
        _SEEDS[key] = base / "center"
    return _SEEDS[key]


def _serve(data_dir: Path, port: int, env: dict[str, str], tls: bool) -> subprocess.Popen[bytes]:
    """Start `dostq serve` and wait until it answers."""
    dostq = [sys.executable, "-m", "server"]
    with (data_dir / "server.log").open("ab") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [*dostq, "serve", "--data-dir", str(data_dir), "--port", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
    verify = str(data_dir / "tls" / "cert.pem") if tls else True
    if not answers_once_started(f"{url}/healthz", verify):
        _kill(process)
        raise RuntimeError(f"server did not start: {(data_dir / 'server.log').read_text()}")
    return process


def answers_once_started(url: str, verify: bool | str = True) -> bool:
    """Wait until a starting server answers ``url``; False after START_TIMEOUT_S.

    A refused connection means not listening yet; a slow first answer (a loaded machine, the
    services starting with the first request) means not ready yet: both are waited out.
    """
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=HTTP_TIMEOUT_S, verify=verify).ok:
                return True
        except requests.RequestException:
            time.sleep(0.1)
    return False


def _kill(process: subprocess.Popen[bytes]) -> None:
    """Kill a server that did not start, and reap it (no process left behind)."""
    process.kill()
    process.wait(timeout=STOP_TIMEOUT_S)


@dataclass
class LiveHq:
    """Real `dostq hq serve` processes on loopback sharing one database.

    One process on its SQLite file; on PostgreSQL (``database``) possibly several, each on its
    own port behind ``url``, a proxy that hands the centers' requests to each in turn.
    """

    url: str
    data_dir: Path
    database: str = ""
    ports: list[int] = field(default_factory=list)
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    front: Any = None  # the round-robin proxy in front of several processes
    settings: dict[str, str] = field(default_factory=dict)  # DOSTQ_<NAME> for the processes

    def dostq_hq(self, *args: str, **run: Any) -> subprocess.CompletedProcess[Any]:
        """Run a `dostq hq` command on this HQ's folder and database."""
        return subprocess.run(
            [sys.executable, "-m", "server", "hq", *args, "--data-dir", str(self.data_dir),
             "--database", self.database],
            check=True, capture_output=True, **run,
        )  # fmt: skip

    def add_center(self, code: str, name: str) -> str:
        """Register a center with `dostq hq add-center` and return its key."""
        return str(self.dostq_hq("add-center", code, "--name", name, text=True).stdout.strip())

    def create_user(self, username: str, password: str, role: str = "manager") -> None:
        """Create an analyst (or an HQ ``admin``) with `dostq hq create-user`."""
        self.dostq_hq("create-user", username, "--role", role, "--password-file", "-",
                      input=f"{password}\n".encode())  # fmt: skip

    def open_database(self) -> Database:
        """Open the database these processes share (to read what HQ holds)."""
        from hq.database import open_database

        return open_database(self.data_dir, self.database)

    def start(self) -> None:
        """Start serving (again) on the same ports and data."""
        env = {**os.environ, **{f"DOSTQ_{k}": v for k, v in self.settings.items()}}
        self.processes = [_serve_hq(self.data_dir, port, self.database, env) for port in self.ports]

    def start_with(self, settings: dict[str, str]) -> None:
        """Start serving with these settings (``{"HQ_NOW_STALE_S": "2"}``)."""
        self.settings = settings
        self.start()

    def kill(self) -> None:
        """Kill every process outright, as a power cut would (SIGKILL: no clean shutdown)."""
        for process in self.processes:
            process.kill()
            process.wait(timeout=STOP_TIMEOUT_S)
        self.processes = []

    def stop(self) -> None:
        """Stop the processes that run, and the proxy in front of them."""
        for process in self.processes:
            process.send_signal(QUICK_STOP)
            process.wait(timeout=STOP_TIMEOUT_S)
        self.processes = []
        if self.front is not None:
            self.front.close()
            self.front = None


def start_hq(data_dir: Path, serve: bool = True, database: str = "", processes: int = 1) -> LiveHq:
    """Prepare an HQ in ``data_dir`` on free ports; serve it unless ``serve`` is False."""
    from tests.fault_proxy import FaultProxy

    data_dir.mkdir(parents=True, exist_ok=True)
    ports = [free_port() for _ in range(processes)]
    hq = LiveHq(f"http://127.0.0.1:{ports[0]}", data_dir, database, ports)
    if processes > 1:
        every = [f"http://127.0.0.1:{port}" for port in ports]
        hq.front = FaultProxy(every, weights=(1, 0, 0, 0, 0, 0))  # forwards all, in turn
        hq.url = hq.front.url
    if serve:
        hq.start()
    return hq


def _serve_hq(
    data_dir: Path, port: int, database: str, env: dict[str, str]
) -> subprocess.Popen[bytes]:
    """Start `dostq hq serve` and wait until it answers."""
    with (data_dir / f"hq-{port}.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "hq", "serve", "--data-dir", str(data_dir),
             "--port", str(port), "--database", database],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )  # fmt: skip
    if not answers_once_started(f"http://127.0.0.1:{port}/healthz"):
        _kill(process)
        raise RuntimeError(f"HQ did not start: {(data_dir / f'hq-{port}.log').read_text()}")
    return process
