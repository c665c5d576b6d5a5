"""Center server figures under real load: kiosks issuing, clerks calling, thousands of sockets.

One `dostq serve` (its default gevent worker) is measured in three cases, clients and server
sharing this machine's cores:
1. 8 kiosk processes issue tickets over keep-alive HTTP: tickets/s, latency, server CPU.
2. 10 clerks call at once, in rounds (all press Call in the same instant), then back to back,
   while 100 displays and 1,000 visitors' phones are connected, each following a waiting
   ticket (the phones of the tickets being called among them, so their places move with every
   call): every call is checked on every display (call → display latency, calls lost, the call
   rate and CPU when saturated), and the statuses the phones heard are counted.
3. Sockets are opened up to the limit: a ticket's HTTP latency there against idle, and one
   more socket must be refused cleanly.
Sockets are held by a few processes speaking Engine.IO/Socket.IO over raw WebSockets (one
select loop each, answering pings), so 2,000 of them cost the client side little.
"""

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

import psutil
import requests

from bench.sockets import SocketHolders, displays
from server.office import accounts
from server.queue.storage import Store
from tests.live import HTTP_TIMEOUT_S, LiveCenter, start_live_center

KIOSKS = 8
ISSUES_PER_KIOSK = 400
CLERKS = 10
CALLS_PER_CLERK = 30
CALL_ROUNDS = 30
ROUND_GAP_S = 0.2
DISPLAYS = 100
PHONES = 1000  # visitors' phones, each following its ticket, while the clerks call
MAX_SOCKETS = 2000
LATENCY_SAMPLES = 300
CALL_SERVICE = "4.7"


def percentile(values: list[float], share: float) -> float:
    """Return the nearest-rank percentile (share in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def _issue_worker(url: str, token: str, count: int) -> list[float]:
    """Issue ``count`` tickets over one keep-alive connection; return latencies in ms."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    headers = {"Authorization": f"Device {token}", "Content-Type": "application/json"}
    body = json.dumps({"service": "4.4", "print": False})
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


def worker_cpu_s(live: LiveCenter) -> float:
    """Return the CPU seconds the server's processes (master and worker) have used."""
    return server_cpu_s(live.process.pid)


def server_cpu_s(pid: int) -> float:
    """Return the CPU seconds a server process and its children (gunicorn's worker) used."""
    process = psutil.Process(pid)
    return sum(sum(p.cpu_times()[:2]) for p in [process, *process.children(recursive=True)])


def measure_issue(live: LiveCenter, kiosk_tokens: list[str]) -> dict[str, float]:
    """Issue tickets from KIOSKS kiosk processes at once, as fast as the server answers."""
    return issue_figures(live.url, live.process.pid, kiosk_tokens)


def issue_figures(url: str, pid: int, kiosk_tokens: list[str]) -> dict[str, float]:
    """POST tickets to ``url`` from one process per token at once; the server is ``pid``."""
    with get_context("spawn").Pool(len(kiosk_tokens)) as pool:
        pool.starmap(_issue_worker, [(url, t, 10) for t in kiosk_tokens])  # warm up
        cpu_before = server_cpu_s(pid)
        start = time.perf_counter()
        results = pool.starmap(
            _issue_worker, [(url, token, ISSUES_PER_KIOSK) for token in kiosk_tokens]
        )
        elapsed = time.perf_counter() - start
        cpu = server_cpu_s(pid) - cpu_before
    latencies = [ms for result in results for ms in result]
    return {
        "kiosks_issuing": len(kiosk_tokens),
        "tickets_per_s": round(len(latencies) / elapsed, 1),
        "issue_p50_ms": round(percentile(latencies, 0.50), 2),
        "issue_p99_ms": round(percentile(latencies, 0.99), 2),
        "cpu_per_ticket_ms": round(cpu * 1000 / len(latencies), 3),
    }


def _clerk_worker(url: str, username: str, counter_id: int, steps: Any, results: Any) -> None:
    """One clerk's PC: sign in at the counter, then call in two rounds as ``steps`` says.

    First CALL_ROUNDS rounds "at once": every clerk presses Call together (a barrier), and
    marks the no-show only once every call of the round is made, as a clerk would a minute
    later. Then CALLS_PER_CLERK calls back to back, each with its no-show, as fast as the
    server answers. Reports, per round and per call, its seq, when the clerk sent it and when
    the server made it.
    """
    clerk = requests.Session()
    csrf = clerk.get(f"{url}/api/v1/session", timeout=HTTP_TIMEOUT_S).json()["csrf_token"]
    signed_in = clerk.post(
        f"{url}/api/v1/session", json={"username": username, "password": "bench-clerk-secret"},
        headers={"X-CSRFToken": csrf}, timeout=HTTP_TIMEOUT_S,
    )  # fmt: skip
    clerk.headers["X-CSRFToken"] = signed_in.json()["csrf_token"]
    base = f"{url}/api/v1/counters/{counter_id}"
    clerk.post(f"{base}/session", timeout=HTTP_TIMEOUT_S).raise_for_status()

    def call() -> tuple[int, float, float]:
        started = time.time()
        answer = clerk.post(f"{base}/call-next", timeout=HTTP_TIMEOUT_S)
        answer.raise_for_status()
        event = answer.json()["call"]
        return event["seq"], started, event["at"]

    def no_show() -> None:
        clerk.post(f"{base}/no-show", timeout=HTTP_TIMEOUT_S).raise_for_status()

    steps.wait()  # everyone signed in
    together = []
    for _ in range(CALL_ROUNDS):
        steps.wait()
        together.append(call())
        steps.wait()
        no_show()
        steps.wait()
        time.sleep(ROUND_GAP_S)  # the round's pushes are out before the next round
    steps.wait()  # the back-to-back part starts here (the parent measures from it)
    back_to_back = []
    for _ in range(CALLS_PER_CLERK):
        back_to_back.append(call())
        no_show()
    results.put((together, back_to_back))


def _deliveries(
    received: list[list[tuple[int, float]]], calls: list[tuple[int, float, float]]
) -> tuple[list[float], list[float]]:
    """Return each delivery's latency from the clerk's press, and from the server's commit."""
    sent = {seq: started for seq, started, _made in calls}
    made = {seq: at for seq, _started, at in calls}
    arrivals = [(seq, at) for holder in received for seq, at in holder if seq in sent]
    return [(at - sent[seq]) * 1000 for seq, at in arrivals], [
        (at - made[seq]) * 1000 for seq, at in arrivals
    ]


def measure_calls(live: LiveCenter, holders: SocketHolders, display_tokens: list[str],
                  counters: dict[str, int]) -> dict[str, float]:  # fmt: skip
    """CLERKS clerks call at once, then back to back; every display must get every call,
    with PHONES visitors' phones following their tickets."""
    kiosk = live.kiosk()

    def issue(service: str) -> str:
        answer = kiosk.post(
            f"{live.url}/api/v1/tickets", json={"service": service, "print": False},
            timeout=HTTP_TIMEOUT_S,
        )  # fmt: skip
        answer.raise_for_status()
        return str(answer.json()["token"])

    called = [issue(CALL_SERVICE) for _ in range(CLERKS * (CALL_ROUNDS + CALLS_PER_CLERK))]
    waiting = [issue("4.4") for _ in range(max(0, PHONES - len(called)))]
    phones_held = holders.open([{"ticket_token": t} for t in (called + waiting)[:PHONES]])
    statuses_before = holders.statuses.value
    display_holders = SocketHolders(live.url)
    displays_held = display_holders.open(displays(display_tokens))
    context = get_context("spawn")
    steps, results = context.Barrier(CLERKS + 1), context.Queue()
    clerks = [
        context.Process(target=_clerk_worker, args=(live.url, name, counter_id, steps, results))
        for name, counter_id in counters.items()
    ]
    for clerk in clerks:
        clerk.start()
    steps.wait(timeout=120)  # every clerk signed in at their counter
    for _ in range(CALL_ROUNDS * 3):
        steps.wait(timeout=120)
    cpu_before, start = worker_cpu_s(live), time.perf_counter()
    steps.wait(timeout=120)
    reports = [results.get(timeout=300) for _ in clerks]
    busy_s, busy_cpu_s = time.perf_counter() - start, worker_cpu_s(live) - cpu_before
    for clerk in clerks:
        clerk.join(timeout=30)
    together = [call for report in reports for call in report[0]]
    back_to_back = [call for report in reports for call in report[1]]
    expected = displays_held * (len(together) + len(back_to_back))
    display_holders.wait_for(expected, timeout_s=60)  # what has not come by then is lost
    received = display_holders.close()
    deadline = time.monotonic() + 30  # the displays' sockets are gone before the next case
    while open_sockets(live) > phones_held and time.monotonic() < deadline:
        time.sleep(0.2)
    latencies, pushed = _deliveries(received, together)
    busy_latencies, _ = _deliveries(received, back_to_back)
    return {
        "clerks_calling": len(clerks),
        "displays_connected": displays_held,
        # The 1,000 sockets besides the displays are visitors' phones, each on its ticket.
        "idle_sockets": phones_held,
        "phone_statuses_heard": holders.statuses.value - statuses_before,
        "calls_made": len(together) + len(back_to_back),
        "call_deliveries": len(latencies) + len(busy_latencies),
        "calls_lost": expected - len(latencies) - len(busy_latencies),
        # Ten clerks pressing Call in the same instant: the last of ten calls on the last of
        # the displays.
        "call_to_display_p50_ms": round(statistics.median(latencies), 2),
        "call_to_display_p99_ms": round(percentile(latencies, 0.99), 2),
        "call_to_display_max_ms": round(max(latencies), 2),
        # From the server's commit of the call to the display: the clerk's own HTTP left out.
        "call_commit_to_display_p99_ms": round(percentile(pushed, 0.99), 2),
        # Ten clerks calling back to back: the server saturated, so a call waits behind the
        # other nine clerks' requests (latency = clerks / rate).
        "calls_per_s_back_to_back": round(len(back_to_back) / busy_s, 1),
        "call_to_display_p99_ms_back_to_back": round(percentile(busy_latencies, 0.99), 2),
        # Server CPU per call with its no-show and its push to every display.
        "cpu_per_call_ms": round(busy_cpu_s * 1000 / len(back_to_back), 3),
        # The one core's time a round of calls pressed together needs: the round's last call
        # reaches its displays no sooner (what bounds call_to_display_p99_ms).
        "call_round_cpu_ms": round(len(clerks) * busy_cpu_s * 1000 / len(back_to_back), 1),
    }


def issue_latency_p99(live: LiveCenter) -> float:
    """Return the p99 of LATENCY_SAMPLES ticket issues, one after another."""
    return percentile(_issue_worker(live.url, live.tokens["kiosk-1"], LATENCY_SAMPLES), 0.99)


def open_sockets(live: LiveCenter) -> int:
    """Return the Engine.IO sessions the server holds now (the floor's count)."""
    manager = live.session("manager", "demo-floor-lead")
    floor = manager.get(f"{live.url}/manager/floor.json", timeout=HTTP_TIMEOUT_S).json()
    return int(floor["sockets"]["open"])


def measure_max_sockets(live: LiveCenter, holders: SocketHolders, spare: list[dict[str, str]],
                        idle_p99_ms: float) -> dict[str, Any]:  # fmt: skip
    """Fill the server up to MAX_SOCKETS; HTTP there, and one socket more must be refused."""
    used = 0
    for _ in range(10):  # top up: sockets that were closing may still have been counted
        missing = MAX_SOCKETS - open_sockets(live)
        if missing <= 0:
            break
        holders.open(spare[used : used + missing])
        used += missing
    held = open_sockets(live)
    at_max_p99 = issue_latency_p99(live)
    refusal = requests.get(f"{live.url}/socket.io/?EIO=4&transport=polling", timeout=HTTP_TIMEOUT_S)
    refused = refusal.status_code == 503 and (
        refusal.json().get("error", {}).get("code") == "too_many_sockets"
    )
    return {
        "sockets_held": held,
        "http_p99_ms_idle": round(idle_p99_ms, 2),
        "http_p99_ms_at_max_sockets": round(at_max_p99, 2),
        "refused_cleanly": refused and requests.get(f"{live.url}/healthz", timeout=10).ok,
        "server_rss_mb": rss_mb(live.process.pid),
    }


def rss_mb(pid: int) -> float:
    """Return the resident memory of the server now (gunicorn master and its worker)."""
    process = psutil.Process(pid)
    members = [process, *process.children(recursive=True)]
    return round(sum(p.memory_info().rss for p in members) / 2**20, 1)


def peak_rss_mb(pid: int) -> float:
    """Return the peak resident memory of the server (gunicorn master and its worker)."""
    process = psutil.Process(pid)
    total_kb = 0
    for member in [process, *process.children(recursive=True)]:
        status = Path(f"/proc/{member.pid}/status").read_text()
        total_kb += int(
            next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))
        )
    return round(total_kb / 1024, 1)


def enrol_everything(
    tokens: dict[str, list[str]], counters: dict[str, int]
) -> Callable[[Store], None]:
    """Return a prepare step: kiosks, displays (calling and idle), clerks and their counters."""

    def prepare(store: Store) -> None:
        now = time.time()
        with store.write() as conn:
            tokens["kiosks"] = [
                accounts.enrol_device(conn, f"bench-kiosk-{n}", "kiosk", now, prints=False)
                for n in range(KIOSKS)
            ]
            tokens["displays"] = [
                accounts.enrol_device(conn, f"bench-display-{n}", "display", now)
                for n in range(DISPLAYS)
            ]
            # Up to the socket limit: displays of a hall no counter calls to.
            tokens["idle"] = [
                accounts.enrol_device(conn, f"bench-idle-{n}", "display", now, zone="idle")
                for n in range(MAX_SOCKETS + 200)  # room to top up to the limit
            ]
            for n in range(1, CLERKS + 1):
                name = f"clerk{n + 10}"
                accounts.create_user(conn, name, "bench-clerk-secret", "clerk", now)
                counters[name] = accounts.create_counter(
                    conn, f"Bench {n}", {CALL_SERVICE: 1.0}, zone="main"
                )

    return prepare


def run(work_dir: Path) -> dict[str, Any]:
    """Start a real center and measure it in the three cases; return the figures."""
    tokens: dict[str, list[str]] = {}
    counters: dict[str, int] = {}
    # The per-kiosk ticket limit guards against pranks; here we measure the server itself.
    live = start_live_center(
        work_dir / "center",
        prepare=enrol_everything(tokens, counters),
        settings={
            "KIOSK_TICKETS_PER_MINUTE": "1000000",
            "PHONE_SOCKETS_PER_MINUTE": "1000000",  # every phone here shares one address
            "MAX_SOCKETS": str(MAX_SOCKETS),
        },
    )
    holders = SocketHolders(live.url)
    try:
        figures: dict[str, Any] = {}
        figures.update(measure_issue(live, tokens["kiosks"]))
        idle_p99 = issue_latency_p99(live)
        figures.update(measure_calls(live, holders, tokens["displays"], counters))
        figures.update(measure_max_sockets(live, holders, displays(tokens["idle"]), idle_p99))
        holders.close()
        figures["peak_rss_mb"] = peak_rss_mb(live.process.pid)
        return figures
    finally:
        live.stop()
