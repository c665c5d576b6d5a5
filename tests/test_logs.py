"""Logs: a real server writing JSON lines, one per request and per queue action, no token."""

import json
import logging
from types import SimpleNamespace

import pytest
import requests

from server.web.logs import JsonLines, Redact, redact
from tests.live import start_live_center
from tests.test_realtime import CLERK, COUNTER, Screen, issue


@pytest.mark.live
def test_a_json_server_logs_each_request_and_queue_action_and_never_a_token(tmp_path):
    live = start_live_center(
        tmp_path / "center", settings={"LOG_FORMAT": "json", "ACCESS_LOG": "1"}
    )
    try:
        ticket = issue(live)
        token = ticket["token"]
        requests.get(f"{live.url}/t/{token}", timeout=10).raise_for_status()
        requests.get(f"{live.url}/api/v1/tickets/status/{token}", timeout=10).raise_for_status()
        requests.get(f"{live.url}/t/{token}?token={token}", timeout=10)
        phone = Screen(live.url, auth={"ticket_token": token})
        phone.close()
        clerk = live.session(*CLERK)
        base = f"{live.url}/api/v1/counters/{COUNTER}"
        clerk.post(f"{base}/session", timeout=10).raise_for_status()
        clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
        clerk.post(f"{base}/no-show", timeout=10).raise_for_status()
    finally:
        live.stop()
    text = (live.data_dir / "server.log").read_text()
    device_tokens = list(live.tokens.values())
    assert token not in text and not any(t in text for t in device_tokens)

    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    requests_logged = [(line["method"], line["route"]) for line in lines if "route" in line]
    assert ("GET", "/t/<token>") in requests_logged
    assert ("GET", "/api/v1/tickets/status/<token>") in requests_logged
    assert ("POST", "/api/v1/tickets") in requests_logged
    actions = [
        (line["action"], line["label"], line.get("counter"), line.get("clerk"))
        for line in lines
        if line["logger"] == "dostq.queue"
    ]
    label = ticket["label"]
    assert actions == [
        ("issue", label, None, None),
        ("call", label, "Masa 1", "clerk1"),
        ("no_show", label, "Masa 1", "clerk1"),
    ]
    assert any(line["logger"].startswith("gunicorn") for line in lines)  # its lines too


def test_a_token_is_cut_out_of_any_line_whoever_logs_it(caplog):
    record = logging.LogRecord(
        "gunicorn.error", logging.ERROR, __file__, 1,
        "Error handling request /t/%s?x=1 and /api/v1/tickets/status/%s/cancel token=%s",
        ("AbC-123_xyz", "AbC-123_xyz", "s3cr3t"), None,
    )  # fmt: skip
    assert Redact().filter(record)
    message = record.getMessage()
    assert "AbC" not in message and "s3cr3t" not in message
    assert message == (
        "Error handling request /t/…?x=1 and /api/v1/tickets/status/…/cancel token=…"
    )
    assert redact("GET /display/ 200") == "GET /display/ 200"
    line = json.loads(JsonLines().format(record))
    assert line["level"] == "ERROR" and line["logger"] == "gunicorn.error"
    assert line["message"] == message and line["at"][:2] == "20"


@pytest.mark.live
def test_hostile_socket_packets_cost_a_line_each_and_socket_answers_carry_headers(live_center):
    # Each hostile Socket.IO packet once logged two full tracebacks (a log flood), and the
    # Socket.IO answers carried none of the pages' protective headers (L10).
    import websocket

    handshake = requests.get(f"{live_center.url}/socket.io/?EIO=4&transport=polling", timeout=10)
    assert handshake.headers["X-Content-Type-Options"] == "nosniff"
    assert handshake.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in handshake.headers["Content-Security-Policy"]
    hostile = ["4", "4garbage", "42[", "40{not json", "43[]", "4-1", "49", '42["x"' * 50]
    for packet in hostile:
        ws = websocket.create_connection(
            live_center.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
            timeout=10,
        )
        ws.recv()  # Engine.IO open
        ws.send(packet)
        ws.close()
    answered = requests.get(f"{live_center.url}/healthz", timeout=10)
    assert answered.ok
    log = (live_center.data_dir / "server.log").read_text()
    assert "Traceback" not in log


def test_a_call_reads_the_queue_journal_once(center):
    from server.live import queue_log
    from server.live.publisher import Publisher
    from server.office.accounts import authenticate
    from server.queue import calls, desk, visits

    class Silent:  # a Socket.IO server with nobody connected
        server = SimpleNamespace(manager=SimpleNamespace(get_participants=lambda *a: iter(())))

        def emit(self, *args, **kwargs):
            pass

    class Counting(queue_log.QueueLog):
        reads = 0

        def catch_up(self, _fact=None):
            Counting.reads += 1

    publisher = Publisher(center, Silent())
    Counting(center, publisher)
    with center.store.write() as conn:
        clerk = authenticate(conn, "clerk1", "masa-one-secret")
    desk.sign_in(center, 1, clerk)
    visits.issue_ticket(center, "6", device=None)
    _, facts = calls.call_next(center, 1, clerk)
    publisher.publish(facts)
    assert Counting.reads == 1  # the Called and the QueueChanged of one call: one read
