"""Socket.IO: who joins which room on connect, and the facts pushed after each committed change.

Rooms are named after what they show: ``display:<zone>`` (``display:all`` for a display with no
zone), ``counters``, ``managers``, ``kiosks``. Every screen gets a full ``snapshot`` on connect,
so a reconnect never misses a call; ``ticket_called`` carries ``seq`` so a gap is detectable.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from flask import request, session
from flask_socketio import SocketIO, join_room

from server.office import accounts
from server.office.accounts import AGENT_PRINTER
from server.queue.center import Center
from server.queue.visits import center_snapshot, waiting_summary
from server.web.auth import DEVICE_COOKIE


class Events:
    """Publishes queue facts to the rooms that show them and tracks staff sockets."""

    def __init__(self, center: Center, socketio: SocketIO) -> None:
        self.center = center
        self.socketio = socketio
        # Other outlets for the same facts (serial LED displays): called as listener(fact, data).
        self.listeners: list[Callable[[str, dict[str, Any]], None]] = []
        self._user_sids: dict[int, set[str]] = defaultdict(set)
        self._sid_user: dict[str, int] = {}
        self._agents: dict[str, accounts.Device] = {}
        self._displays: dict[str, str] = {}  # socket id -> display name
        self._lock = threading.Lock()

    def connect(self, auth: Any) -> bool:
        """Authenticate a new socket and join its rooms; refuse it otherwise."""
        token = auth.get("device_token") if isinstance(auth, dict) else None
        # A kiosk or display page sends its enrolment cookie with the handshake instead.
        token = token or request.cookies.get(DEVICE_COOKIE)
        zone: str | None = None
        auth = auth if isinstance(auth, dict) else {}
        if isinstance(token, str) and token:
            with self.center.store.read() as conn:
                device = accounts.device_for_token(conn, token)
            if device is None:
                return False
            if device.kind == "display":
                zone = device.zone
                join_room(f"display:{zone}" if zone else "display:all")
                with self._lock:
                    self._displays[request.sid] = device.name  # type: ignore[attr-defined]
                self._display_status(device.name, online=True)
            else:
                join_room("kiosks")
                if auth.get("agent") is True and device.printer == AGENT_PRINTER:
                    join_room(f"agent:{device.id}")
                    with self._lock:
                        self._agents[request.sid] = device  # type: ignore[attr-defined]
                    self._tell_listeners("agent_connected", {"device": device})
        else:
            with self.center.store.read() as conn:
                user = accounts.load_user(conn, session.get("uid", 0), session.get("sv", 0))
            if user is None:
                return False
            join_room("counters")
            if user.role in ("manager", "admin"):
                join_room("managers")
            with self._lock:
                self._user_sids[user.id].add(request.sid)  # type: ignore[attr-defined]
                self._sid_user[request.sid] = user.id  # type: ignore[attr-defined]
        self.socketio.emit("snapshot", center_snapshot(self.center, zone), to=request.sid)  # type: ignore[attr-defined]
        return True

    def forget(self, sid: str) -> None:
        """Drop a closed socket from the staff map."""
        with self._lock:
            self._agents.pop(sid, None)
            display = self._displays.pop(sid, None)
            user_id = self._sid_user.pop(sid, None)
            if user_id is not None:
                self._user_sids[user_id].discard(sid)
        if display is not None:
            self._display_status(display, online=False)

    def _display_status(self, name: str, online: bool) -> None:
        self.socketio.emit("display_status", {"device": name, "online": online}, to="managers")

    def disconnect_user(self, user_id: int) -> None:
        """Close every socket of a user (logout, disabled account)."""
        with self._lock:
            sids = list(self._user_sids.pop(user_id, ()))
        for sid in sids:
            self.socketio.server.disconnect(sid, namespace="/")

    def ticket_called(self, call: dict[str, Any]) -> None:
        """Push a call (or recall) to the displays of its zone, counters and managers."""
        self.socketio.emit(
            "ticket_called",
            call,
            to=[f"display:{call['zone']}", "display:all", "counters", "managers"],
        )
        self._tell_listeners("ticket_called", call)
        self.queue_changed()

    def counter_freed(self, counter_id: int) -> None:
        """Publish that a counter's visitor left it (finished, no-show, held, transferred)."""
        self._tell_listeners("counter_freed", {"counter_id": counter_id})
        self.queue_changed()

    def assistance_requested(self, request_id: int, device: str, zone: str | None) -> None:
        """Alert the volunteers' room (managers) and counters that a visitor needs help."""
        self.socketio.emit(
            "assistance_requested",
            {"id": request_id, "device": device, "zone": zone, "at": self.center.now()},
            to=["managers", "counters"],
        )

    def assistance_resolved(self, request_id: int) -> None:
        """Tell staff screens that someone answered a call for help."""
        self.socketio.emit("assistance_resolved", {"id": request_id}, to=["managers", "counters"])

    def displays_online(self) -> set[str]:
        """Return the names of the displays with a socket open now."""
        with self._lock:
            return set(self._displays.values())

    def device_status(self, device: str, connected: bool, message: str) -> None:
        """Tell staff a serial line (LED displays, keypads) was lost or came back."""
        self.socketio.emit(
            "device_status",
            {"device": device, "connected": connected, "message": message},
            to=["counters", "managers"],
        )

    def keypad_refused(self, counter_id: int, message: str) -> None:
        """Tell the clerk's screen why a keypad press did nothing."""
        self.socketio.emit(
            "keypad_refused", {"counter_id": counter_id, "message": message}, to=["counters"]
        )

    def agent_reported(self, sid: str, report: Any) -> None:
        """Pass on a printer state reported by a connected edge agent (ignore anyone else)."""
        with self._lock:
            device = self._agents.get(sid)
        if device is not None and isinstance(report, dict):
            self._tell_listeners("agent_printer_status", {"device": device, **report})

    def send_print_job(self, device_id: int, ticket_id: int, data: bytes) -> None:
        """Send ESC/POS bytes to the edge agent of a kiosk (lost if none is connected)."""
        self.socketio.emit(
            "print_job", {"ticket_id": ticket_id, "data": data}, to=f"agent:{device_id}"
        )

    def _tell_listeners(self, fact: str, data: dict[str, Any]) -> None:
        for listener in self.listeners:
            listener(fact, data)

    def queue_changed(self) -> None:
        """Push the waiting counts to every screen that shows them (if any is connected)."""
        rooms = ["counters", "managers", "kiosks"]
        if not any(True for _ in self.socketio.server.manager.get_participants("/", rooms)):
            return  # nobody to tell: skip the query
        now = self.center.now()
        with self.center.store.read() as conn:
            waiting = waiting_summary(conn, self.center.day(now), now)
        self.socketio.emit("queue_changed", {"at": now, "waiting": waiting}, to=rooms)

    def print_result(
        self, device: str, ticket: dict[str, Any], printed: bool, message: str
    ) -> None:
        """Tell the kiosk and staff how a ticket's printing ended."""
        self.socketio.emit(
            "print_result",
            {
                "device": device,
                "ticket_id": ticket["id"],
                "label": ticket["label"],
                "printed": printed,
                "message": message,
            },
            to=["kiosks", "counters", "managers"],
        )
        self.queue_changed()

    def printer_status(self, device: str, state: str, message: str) -> None:
        """Tell staff (and kiosks) that a printer changed state: paper out, back online..."""
        self.socketio.emit(
            "printer_status",
            {"device": device, "state": state, "message": message},
            to=["kiosks", "counters", "managers"],
        )

    def counter_changed(self, counter: dict[str, Any]) -> None:
        """Push a counter's new status to staff screens."""
        self.socketio.emit("counter_changed", counter, to=["counters", "managers"])
        self.queue_changed()


def register_handlers(events: Events) -> None:
    """Bind the socket handlers to ``events`` (called once by the app factory)."""
    socketio = events.socketio

    @socketio.on("connect")
    def on_connect(auth: Any = None) -> bool:
        return events.connect(auth)

    @socketio.on("disconnect")
    def on_disconnect(*_reason: Any) -> None:
        events.forget(request.sid)  # type: ignore[attr-defined]

    @socketio.on("printer_status")
    def on_printer_status(report: Any = None) -> None:
        events.agent_reported(request.sid, report)  # type: ignore[attr-defined]

    @socketio.on("request_snapshot")
    def on_request_snapshot(data: Any = None) -> dict[str, Any]:
        # A display that sees a gap in ``seq`` asks again; the ack carries the answer.
        zone = data.get("zone") if isinstance(data, dict) else None
        return center_snapshot(events.center, zone if isinstance(zone, str) else None)
