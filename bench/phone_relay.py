"""The phone off the premises: from a clerk's call to the ticket's page at HQ, and to its SMS.

A real center relays its tickets to a real HQ (HQ_PUBLIC_URL set, linked), HQ has a real SMSC
(smpp34's server, tests/test_sms.py). For each of ``CALLS`` tickets a phone's stream of the
ticket's page at HQ is open (server-sent events, as the page reads it) and its number left
for an SMS; the clerk calls it; the delay is from the call's answer to the event saying
"called" on the stream, and to the "called" message submitted at the SMSC.
"""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path
from typing import Any

import requests

from bench.realtime import percentile
from server.hq_link import sync
from server.office.demo import DEMO_LOGINS
from tests.live import start_hq, start_live_center
from tests.smsc import Smsc

CALLS = 100


def _called_at(url: str, seen: dict[str, float], token: str, done: threading.Event) -> None:
    """Read a ticket's stream at HQ; note when it first says "called"."""
    with requests.get(url, stream=True, timeout=30) as stream:
        for line in stream.iter_lines(decode_unicode=True):
            if line and line.startswith("data: "):
                if json.loads(line[6:])["status"]["state"] == "called":
                    seen[token] = time.perf_counter()
                    break
            if done.is_set():
                break


def run(work: Path) -> dict[str, Any]:
    """Return the call → HQ page and call → SMS submit delays, p50 and p99, in ms."""
    smsc = Smsc()
    hq = start_hq(work / "relay-hq", serve=False)
    hq.start_with({"HQ_SMPP_URL": f"smpp://bench:secret@127.0.0.1:{smsc.port}",
                   "HQ_PHONE_REQUESTS_PER_MINUTE": "100000"})  # fmt: skip
    key = hq.add_center("baku-1", "Bakı 1 saylı DOST mərkəzi")

    def link(store: Any) -> None:
        with store.write() as conn:
            sync.set_up(conn, work / "relay-center", hq.url, "baku-1", key)

    relayed = {"HQ_PUBLIC_URL": hq.url, "KIOSK_TICKETS_PER_MINUTE": "100000"}
    center = start_live_center(work / "relay-center", prepare=link, settings=relayed)
    try:
        return _measure(center, hq.url, smsc)
    finally:
        center.stop()
        hq.stop()


def _measure(center: Any, hq_url: str, smsc: Smsc) -> dict[str, Any]:
    kiosk = center.kiosk()
    clerk = center.session("clerk1", DEMO_LOGINS["clerk1"])
    base = f"{center.url}/api/v1/counters/1"
    clerk.post(f"{base}/session", timeout=10).raise_for_status()
    to_page: list[float] = []
    to_sms: list[float] = []
    for n in range(CALLS):
        ticket = kiosk.post(f"{center.url}/api/v1/tickets", json={"service": "4.4", "print": False},
                            timeout=10).json()  # fmt: skip
        token = ticket["token"]
        deadline = time.monotonic() + 10
        while not requests.get(f"{hq_url}/hq/t/{token}/status", timeout=5).ok:
            if time.monotonic() > deadline:
                raise RuntimeError("HQ never heard of the ticket")
            time.sleep(0.05)
        requests.post(f"{hq_url}/hq/t/{token}/sms", json={"phone": f"05012{n:05d}"},
                      timeout=5).raise_for_status()  # fmt: skip
        seen: dict[str, float] = {}
        done = threading.Event()
        stream = f"{hq_url}/hq/t/{token}/events"
        reader = threading.Thread(target=_called_at, args=(stream, seen, token, done), daemon=True)
        reader.start()
        # The stream is open and has said "waiting"; the call comes at any moment after.
        time.sleep(0.2 + random.random())
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
        called = time.perf_counter()
        while token not in seen and time.perf_counter() - called < 15:
            time.sleep(0.005)
        while time.perf_counter() - called < 15:
            if any(ticket["label"] in text and "Masa 1" in text for text in smsc.texts()[-4:]):
                to_sms.append((time.perf_counter() - called) * 1000)
                break
            time.sleep(0.005)
        done.set()
        if token in seen:
            to_page.append((seen[token] - called) * 1000)
        clerk.post(f"{base}/no-show", timeout=10)
    return {
        "phone_hq_calls": CALLS,
        "phone_hq_page_seen": len(to_page),
        "call_to_hq_page_p50_ms": round(percentile(to_page, 0.5), 1),
        "call_to_hq_page_p99_ms": round(percentile(to_page, 0.99), 1),
        "call_to_sms_submit_p50_ms": round(percentile(to_sms, 0.5), 1),
        "call_to_sms_submit_p99_ms": round(percentile(to_sms, 0.99), 1),
    }


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        print(run(Path(folder)))
