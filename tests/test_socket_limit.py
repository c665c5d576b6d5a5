"""The socket limit and the reaping of dead sockets, on a real `dostq serve` (gevent worker)."""

from __future__ import annotations

import json
import socket
import time

import pytest
import requests
import socketio
import websocket

from server.live.limit import STRANGERS_PER_ADDRESS
from server.office import accounts
from tests.conftest import wait_until
from tests.live import HTTP_TIMEOUT_S, start_live_center

pytestmark = pytest.mark.live

LIMIT = 5
DISPLAYS = LIMIT + 2


def _enrol_displays(tokens):
    def prepare(store):
        with store.write() as conn:
            tokens.extend(
                accounts.enrol_device(conn, f"wall-{n}", "display", time.time())
                for n in range(DISPLAYS)
            )

    return prepare


def _center(tmp_path, **settings):
    tokens: list[str] = []
    live = start_live_center(
        tmp_path / "center", prepare=_enrol_displays(tokens),
        settings={"MAX_SOCKETS": str(LIMIT), **settings},
    )  # fmt: skip
    live.tokens["walls"] = tokens  # type: ignore[assignment]
    return live


@pytest.fixture
def small_center(tmp_path):
    """A center that takes LIMIT sockets and pings rarely, so a held raw socket stays held."""
    live = _center(tmp_path, SOCKET_PING_INTERVAL_S="120", SOCKET_PING_TIMEOUT_S="60")
    yield live
    live.stop()


@pytest.fixture
def quick_ping_center(tmp_path):
    """A center that pings every second and drops a socket silent for one more."""
    live = _center(tmp_path, SOCKET_PING_INTERVAL_S="1", SOCKET_PING_TIMEOUT_S="1")
    yield live
    live.stop()


def raw_display(url: str, token: str) -> websocket.WebSocket:
    """Connect a display the way the protocol goes, by hand: Engine.IO open, Socket.IO connect.

    The socket answers nothing afterwards, not even a ping: a TV whose cable was pulled.
    """
    ws = websocket.create_connection(
        url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=HTTP_TIMEOUT_S,
    )
    assert ws.recv().startswith("0")  # Engine.IO open
    ws.send("40" + json.dumps({"device_token": token}))
    # The snapshot is sent from the connect handler, so it may come before the ack.
    first, second = ws.recv(), ws.recv()
    assert {first[:2], second[:2]} == {"40", "42"}, (first[:80], second[:80])
    return ws


def floor(live, manager):
    return manager.get(f"{live.url}/manager/floor.json", timeout=HTTP_TIMEOUT_S).json()


def test_a_socket_over_the_limit_is_refused_at_the_handshake_and_http_still_answers(
    small_center,
):
    live = small_center
    walls = live.tokens["walls"]
    held = [raw_display(live.url, token) for token in walls[:LIMIT]]
    try:
        handshake = requests.get(
            f"{live.url}/socket.io/?EIO=4&transport=polling", timeout=HTTP_TIMEOUT_S
        )
        assert handshake.status_code == 503
        assert handshake.json()["error"]["code"] == "too_many_sockets"
        assert "DOSTQ_MAX_SOCKETS" in handshake.json()["error"]["message"]
        one_more = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            one_more.connect(
                live.url, auth={"device_token": walls[LIMIT]}, transports=["websocket"]
            )
        # HTTP is served at the limit: a kiosk still issues, the health check answers.
        assert requests.get(f"{live.url}/healthz", timeout=HTTP_TIMEOUT_S).ok
        issued = live.kiosk().post(
            f"{live.url}/api/v1/tickets", json={"service": "4.7", "print": False},
            timeout=HTTP_TIMEOUT_S,
        )  # fmt: skip
        assert issued.status_code == 201
        log = (live.data_dir / "server.log").read_text()
        assert "refused a socket" in log and "the limit is 5" in log
    finally:
        for ws in held:
            ws.close()
    # Once screens leave, a new one is let in again.
    manager = live.session("manager", "demo-floor-lead")
    assert wait_until(lambda: floor(live, manager)["sockets"]["open"] < LIMIT, 30)
    again = socketio.Client(reconnection=False)
    again.connect(live.url, auth={"device_token": walls[LIMIT]}, transports=["websocket"])
    again.disconnect()


def test_a_socket_that_vanishes_without_closing_is_reaped(quick_ping_center):
    live = quick_ping_center
    manager = live.session("manager", "demo-floor-lead")
    ghost = raw_display(live.url, live.tokens["walls"][0])
    try:
        seen = floor(live, manager)
        assert seen["sockets"]["by_kind"]["display"] == 1
        assert any(d["name"] == "wall-0" and d["online"] for d in seen["displays"])
        # It never answers a ping: the server drops it after one interval and one timeout.
        assert wait_until(lambda: floor(live, manager)["sockets"]["by_kind"]["display"] == 0, 30)
        (wall,) = [d for d in floor(live, manager)["displays"] if d["name"] == "wall-0"]
        # Gone, with its last sign of life kept: the floor alerts a display that went away.
        assert not wall["online"] and wall["last_seen_at"] is not None
    finally:
        ghost.close()


def test_the_floor_warns_when_live_screens_near_the_limit(small_center):
    live = small_center
    manager = live.session("manager", "demo-floor-lead")
    held = [raw_display(live.url, token) for token in live.tokens["walls"][: LIMIT - 1]]
    try:
        sockets = floor(live, manager)["sockets"]
        assert sockets["open"] >= 4 and sockets["limit"] == LIMIT
        assert sockets["near_limit"] is True
    finally:
        for ws in held:
            ws.close()


def stranger(live, source="127.0.0.2"):
    """An Engine.IO session from another address that never signs in (no Socket.IO CONNECT)."""
    port = int(live.url.rsplit(":", 1)[1])
    raw = socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT_S,
                                   source_address=(source, 0))  # fmt: skip
    ws = websocket.create_connection(
        live.url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=HTTP_TIMEOUT_S,
        socket=raw,
    )
    assert ws.recv().startswith("0")  # Engine.IO open, and nothing more from it
    return ws


@pytest.fixture
def center_with_strangers(tmp_path):
    live = _center(tmp_path, SOCKET_PING_INTERVAL_S="120", SOCKET_PING_TIMEOUT_S="60",
                   SOCKET_SIGN_IN_S="2")  # fmt: skip
    yield live
    live.stop()


def test_sockets_that_never_sign_in_neither_fill_the_limit_nor_stay(center_with_strangers):
    # 2,000 anonymous sessions answering pings once held the whole limit: every screen got 503.
    live = center_with_strangers
    held, refused = [], 0
    try:
        for _ in range(LIMIT * 4):
            try:
                held.append(stranger(live))
            except websocket.WebSocketBadStatusException as exc:
                assert exc.status_code == 503
                refused += 1
        assert len(held) == STRANGERS_PER_ADDRESS and refused == LIMIT * 4 - len(held)
        walls = live.tokens["walls"]
        displays = [raw_display(live.url, token) for token in walls[:LIMIT]]  # all of them
        manager = live.session("manager", "demo-floor-lead")
        sockets = floor(live, manager)["sockets"]
        assert sockets["open"] == LIMIT and sockets["by_kind"]["display"] == LIMIT
        for ws in displays:
            ws.close()
        # Not signed in within SOCKET_SIGN_IN_S: closed by the server, and the floor says so.
        assert wait_until(lambda: floor(live, manager)["sockets"]["strangers"] == 0, 30)
        log = (live.data_dir / "server.log").read_text()
        assert "did not sign in" in log and "have not signed in" in log
    finally:
        for ws in held:
            ws.close()
