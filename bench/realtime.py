"""Center server figures: tickets issued per second, call-to-display latency, peak memory."""

from __future__ import annotations

import http.client
import json
import statistics
import time
from collections.abc import Callable
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import socketio

from server.office import accounts
from server.queue.storage import Store
from tests.live import LiveCenter, start_live_center

ISSUE_PROCESSES = 4
ISSUES_PER_PROCESS = 750
DISPLAYS = 100
DISPLAY_PROCESSES = 4
CALLS = 150
CALL_INTERVAL_S = 0.05


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (share in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _issue_worker(url: str, token: str, count: int) -> list[float]:
    """Issue ``count`` tickets over one keep-alive connection; return latencies in ms."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    headers = {"Authorization": f"Device {token}", "Content-Type": "application/json"}
    body = json.dumps({"service": "4.2", "print": False})
    latencies = []
    for _ in range(count):
        start = time.perf_counter()
        conn.request("POST", "/api/v1/tickets", body, headers)
        response = conn.getresponse()
        response.read()
        if response.status != 201:
            raise RuntimeError(f"issue failed: {response.status}")
        latencies.append((time.perf_counter() - start) * 1000)
    conn.close()
    return latencies


def measure_issue(live: LiveCenter) -> dict[str, float]:
    """Issue tickets from several kiosk processes at once, as fast as the server answers."""
    token = live.tokens["kiosk-1"]
    with get_context("spawn").Pool(ISSUE_PROCESSES) as pool:
        pool.apply(_issue_worker, (live.url, token, 20))  # warm up imports and connections
        start = time.perf_counter()
        results = pool.starmap(
            _issue_worker, [(live.url, token, ISSUES_PER_PROCESS)] * ISSUE_PROCESSES
        )
        elapsed = time.perf_counter() - start
    latencies = [ms for result in results for ms in result]
    return {
        "tickets_per_s": round(len(latencies) / elapsed, 1),
        "issue_p50_ms": round(percentile(latencies, 0.50), 2),
        "issue_p99_ms": round(percentile(latencies, 0.99), 2),
    }


def _display_worker(url: str, tokens: list[str], calls: int, ready: Any, results: Any) -> None:
    """Connect displays; record the wall-clock arrival of each ticket_called event."""
    arrivals: list[tuple[int, float]] = []
    clients = []
    for token in tokens:
        client = socketio.Client(reconnection=False)
        # list.append is atomic under the GIL: the client threads may share the list.
        client.on("ticket_called", lambda data: arrivals.append((data["seq"], time.time())))
        client.connect(url, auth={"device_token": token}, transports=["websocket"], wait_timeout=30)
        clients.append(client)
    ready.put(len(clients))
    deadline = time.monotonic() + 120
    while len(arrivals) < calls * len(clients) and time.monotonic() < deadline:
        time.sleep(0.05)
    for client in clients:
        client.disconnect()
    results.put(arrivals)


def measure_call_to_display(live: LiveCenter, display_tokens: list[str]) -> dict[str, float]:
    """A clerk calls CALLS tickets; each of DISPLAYS connected displays must receive each."""
    clerk = live.session("clerk1", "demo-clerk1-pass")
    base = f"{live.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10).raise_for_status()
    kiosk = live.kiosk()
    for _ in range(CALLS):
        kiosk.post(
            f"{live.url}/api/v1/tickets", json={"service": "4.7", "print": False}, timeout=10
        ).raise_for_status()
    context = get_context("spawn")
    ready, results = context.Queue(), context.Queue()
    share = len(display_tokens) // DISPLAY_PROCESSES
    workers = [
        context.Process(
            target=_display_worker,
            args=(live.url, display_tokens[i * share : (i + 1) * share], CALLS, ready, results),
        )
        for i in range(DISPLAY_PROCESSES)
    ]
    for worker in workers:
        worker.start()
    connected = sum(ready.get(timeout=120) for _ in workers)
    sent: dict[int, float] = {}
    for _ in range(CALLS):
        started = time.time()
        call = clerk.post(f"{base}/call-next", timeout=10)
        call.raise_for_status()
        sent[call.json()["call"]["seq"]] = started
        clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
        time.sleep(CALL_INTERVAL_S)
    arrivals = [a for _ in workers for a in results.get(timeout=180)]
    for worker in workers:
        worker.join(timeout=30)
    latencies = [(at - sent[seq]) * 1000 for seq, at in arrivals if seq in sent]
    return {
        "displays_connected": connected,
        "call_deliveries": len(latencies),
        "call_deliveries_expected": connected * CALLS,
        "call_to_display_p50_ms": round(statistics.median(latencies), 2),
        "call_to_display_p99_ms": round(percentile(latencies, 0.99), 2),
    }


def peak_rss_mb(pid: int) -> float:
    """Return the peak resident memory of the server (gunicorn master and its worker)."""
    import psutil

    process = psutil.Process(pid)
    total_kb = 0
    for member in [process, *process.children(recursive=True)]:
        status = Path(f"/proc/{member.pid}/status").read_text()
        total_kb += int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
        )
    return round(total_kb / 1024, 1)


def enrol_displays(count: int) -> tuple[Callable[[Store], None], list[str]]:
    """Return a prepare step that enrols ``count`` displays, and the list it fills."""
    tokens: list[str] = []

    def prepare(store: Store) -> None:
        with store.write() as conn:
            tokens.extend(
                accounts.enrol_device(conn, f"bench-display-{n}", "display", time.time())
                for n in range(count)
            )

    return prepare, tokens


def run(work_dir: Path) -> dict[str, float]:
    """Start a real center and measure it; return the figures."""
    prepare, display_tokens = enrol_displays(DISPLAYS)
    # The per-kiosk ticket limit guards against pranks; here we measure the server itself.
    live = start_live_center(
        work_dir / "center", prepare=prepare, settings={"KIOSK_TICKETS_PER_MINUTE": "1000000"}
    )
    try:
        figures: dict[str, float] = {}
        figures.update(measure_issue(live))
        figures.update(measure_call_to_display(live, display_tokens))
        figures["peak_rss_mb"] = peak_rss_mb(live.process.pid)
        return figures
    finally:
        live.stop()
