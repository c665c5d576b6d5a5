"""Socket.IO connections: who may connect, which rooms each joins, and who is connected now.

A socket authenticates in ``connect`` with a device token (``auth``, or the enrolment cookie of
a kiosk or display browser) or a staff session, joins the rooms of what it shows, and gets a
full ``snapshot`` at once, so a reconnect never misses a call. What sockets tell the center (an
edge agent came, a display went) is published as facts like any other.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from typing import Any

from flask import request, session
from flask_socketio import join_room

from server.live.limit import open_sessions
from server.live.publisher import REQUEST_SNAPSHOT, SNAPSHOT, Publisher
from server.office import accounts
from server.queue.actors import AGENT_PRINTER, Device
from server.queue.facts import AgentConnected, AgentPrinterReported, DisplayOnline, SessionsEnded
from server.queue.views import center_snapshot
from server.settings import DEVICE_COOKIE

log = logging.getLogger(__name__)
SOCKET_KINDS = ("display", "kiosk", "counter", "manager")
# The floor warns when this share of the socket limit is in use.
NEAR_LIMIT = 0.8


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO


class Sockets:
    """Authenticates sockets, joins their rooms, and knows which staff and displays are on."""

    def __init__(self, publisher: Publisher, limit: int) -> None:
        self.publisher = publisher
        self.center = publisher.center
        self.limit = limit
        self._kinds: dict[str, str] = {}  # socket id -> display, kiosk, counter or manager
        self._user_sids: dict[int, set[str]] = defaultdict(set)
        self._sid_user: dict[str, int] = {}
        self._agents: dict[str, Device] = {}
        self._displays: dict[str, str] = {}  # socket id -> display name
        self._lock = threading.Lock()
        publisher.subscribe(SessionsEnded, lambda fact: self.disconnect_user(fact.user_id))

    def connect(self, auth: Any) -> bool:
        """Authenticate a new socket and join its rooms; refuse it otherwise."""
        auth = auth if isinstance(auth, dict) else {}
        token = auth.get("device_token") or request.cookies.get(DEVICE_COOKIE)
        if isinstance(token, str) and token:
            with self.center.store.read() as conn:
                device = accounts.device_for_token(conn, token)
            if device is None:
                log.warning("refused a socket from %s: unknown device token", request.remote_addr)
                return False
            zone = self._join_device(device, agent=auth.get("agent") is True)
            with self._lock:
                self._kinds[_sid()] = device.kind
        else:
            with self.center.store.read() as conn:
                user = accounts.load_user(conn, session.get("uid", 0), session.get("sv", 0))
            if user is None:
                log.warning("refused a socket from %s: no staff session", request.remote_addr)
                return False
            zone = None
            join_room("counters")
            if user.role in ("manager", "admin"):
                join_room("managers")
            with self._lock:
                self._user_sids[user.id].add(_sid())
                self._sid_user[_sid()] = user.id
                self._kinds[_sid()] = "manager" if user.role in ("manager", "admin") else "counter"
        self.publisher.socketio.emit(SNAPSHOT, center_snapshot(self.center, zone), to=_sid())
        return True

    def _join_device(self, device: Device, agent: bool) -> str | None:
        """Join a device's rooms; return the zone its snapshot is for."""
        if device.kind == "display":
            join_room(f"display:{device.zone}" if device.zone else "display:all")
            with self._lock:
                self._displays[_sid()] = device.name
            self.publisher.publish([DisplayOnline(device.name, online=True)])
            return device.zone
        join_room("kiosks")
        if agent and device.printer == AGENT_PRINTER:
            join_room(f"agent:{device.id}")
            with self._lock:
                self._agents[_sid()] = device
            self.publisher.publish([AgentConnected(device)])
        return None

    def forget(self, sid: str) -> None:
        """Drop a closed socket from what is known of who is connected."""
        with self._lock:
            self._kinds.pop(sid, None)
            self._agents.pop(sid, None)
            display = self._displays.pop(sid, None)
            user_id = self._sid_user.pop(sid, None)
            if user_id is not None:
                self._user_sids[user_id].discard(sid)
        if display is not None:
            self.publisher.publish([DisplayOnline(display, online=False)])

    def disconnect_user(self, user_id: int) -> None:
        """Close every socket of a user (their sessions ended)."""
        with self._lock:
            sids = list(self._user_sids.pop(user_id, ()))
        for sid in sids:
            # The python-socketio server is not in Flask-SocketIO's stub.
            self.publisher.socketio.server.disconnect(sid, namespace="/")  # type: ignore[attr-defined]

    def displays_online(self) -> set[str]:
        """Return the names of the displays with a socket open now."""
        with self._lock:
            return set(self._displays.values())

    def summary(self) -> dict[str, Any]:
        """Return the sockets open now: per kind, in all, the limit, and whether to worry.

        ``open`` counts every open Engine.IO session, signed in or not, as the limit does; a
        socket whose screen vanished counts until it misses a ping (``SOCKET_PING_*``).
        """
        with self._lock:
            kinds = list(self._kinds.values())
        held = open_sessions(self.publisher.socketio)
        return {
            "by_kind": {kind: kinds.count(kind) for kind in SOCKET_KINDS},
            "open": held,
            "limit": self.limit,
            "near_limit": held >= NEAR_LIMIT * self.limit,
        }

    def agent_reported(self, sid: str, report: Any) -> None:
        """Publish a printer state reported by a connected edge agent (ignore anyone else)."""
        with self._lock:
            device = self._agents.get(sid)
        state = report.get("state") if isinstance(report, dict) else None
        if device is not None and isinstance(state, str):
            self.publisher.publish([AgentPrinterReported(device, state)])

    def register_handlers(self) -> None:
        """Bind the Socket.IO handlers (called once by the app factory)."""
        socketio = self.publisher.socketio

        @socketio.on("connect")
        def on_connect(auth: Any = None) -> bool:
            return self.connect(auth)

        @socketio.on("disconnect")
        def on_disconnect(*_reason: Any) -> None:
            self.forget(_sid())

        @socketio.on("printer_status")
        def on_printer_status(report: Any = None) -> None:
            self.agent_reported(_sid(), report)

        @socketio.on(REQUEST_SNAPSHOT)
        def on_request_snapshot(data: Any = None) -> dict[str, Any]:
            # A display that sees a gap in ``seq`` asks again; the ack carries the answer.
            zone = data.get("zone") if isinstance(data, dict) else None
            return center_snapshot(self.center, zone if isinstance(zone, str) else None)
