"""Socket.IO connections: who may connect, which rooms each joins, and who is connected now.

A socket authenticates in ``connect`` with a device token (``auth``, or the enrolment cookie of
a kiosk or display browser) or a staff session, joins the rooms of what it shows, and gets a
full ``snapshot`` at once, so a reconnect never misses a call. What sockets tell the center (an
edge agent came, a display went) is published as facts like any other.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from flask import current_app, request, session
from flask_socketio import join_room

from server.live.limit import count_sessions
from server.live.phones import TICKET_STATUS, Phones, room
from server.live.publisher import REQUEST_SNAPSHOT, SNAPSHOT, Publisher
from server.live.ratelimit import RateLimit
from server.office import accounts
from server.queue.actors import AGENT_PRINTER, Device
from server.queue.facts import (
    AgentConnected,
    AgentPrinterReported,
    DeviceRevoked,
    ScreenOnline,
    SessionsEnded,
)
from server.queue.views import center_snapshot
from server.settings import device_token_cookie

log = logging.getLogger(__name__)
SOCKET_KINDS = ("display", "kiosk", "counter", "manager", "phone", "feedback")
# The floor warns when this share of the socket limit is in use.
NEAR_LIMIT = 0.8


def _token(value: Any) -> str | None:
    """Return a token a client sent if it can be one (ASCII text), else None.

    Tokens are URL-safe ASCII; a lone surrogate in JSON once reached the hashing and raised.
    """
    return value if isinstance(value, str) and value.isascii() and value else None


def _sid() -> str:
    return str(request.sid)  # type: ignore[attr-defined]  # set by Flask-SocketIO


@dataclass(frozen=True)
class Screen:
    """What an open socket is: its kind, its name, and who or what is behind it.

    ``token`` (a device's) or ``user_id`` with ``session_version`` (staff) is what it connected
    with; each event it sends is checked against them again, so access revoked from anywhere,
    the ``dostq`` command included, ends at the socket's next word.
    """

    kind: str  # one of SOCKET_KINDS
    name: str
    user_id: int | None = None
    device: Device | None = None
    agent: bool = False  # an edge agent driving this kiosk's printer
    token: str | None = field(default=None, repr=False)
    session_version: int = 0
    ticket: str | None = field(default=None, repr=False)  # a phone's ticket token


class Sockets:
    """Authenticates sockets, joins their rooms, and knows which screens are on now."""

    def __init__(
        self, publisher: Publisher, limit: int, phones: Phones, phone_limit: RateLimit
    ) -> None:
        self.publisher = publisher
        self.center = publisher.center
        self.limit = limit
        self.phones = phones
        # Tickets' tokens are long and random; guessing is still slowed per address.
        self.phone_limit = phone_limit
        # Every open, signed-in socket: the floor's counts, displays online, a user's
        # sockets and the agents are all read from this one map.
        self._screens: dict[str, Screen] = {}
        self._lock = threading.Lock()
        publisher.subscribe(SessionsEnded, lambda fact: self.disconnect_user(fact.user_id))
        publisher.subscribe(DeviceRevoked, lambda fact: self.disconnect_device(fact.device_id))

    def connect(self, auth: Any) -> bool:
        """Authenticate a new socket and join its rooms; refuse it otherwise."""
        auth = auth if isinstance(auth, dict) else {}
        ticket = _token(auth.get("ticket_token"))
        if ticket:
            return self._join_phone(ticket[:100])
        token = _token(
            auth.get("device_token")
            or device_token_cookie(request.cookies, bool(current_app.config["TLS"]))[0]
        )
        if token:
            with self.center.store.read() as conn:
                device = accounts.device_for_token(conn, token)
            if device is None:
                log.warning("refused a socket from %s: unknown device token", request.remote_addr)
                return False
            zone = self._join_device(device, token, agent=auth.get("agent") is True)
        else:
            with self.center.store.read() as conn:
                user = accounts.load_user(conn, session.get("uid", 0), session.get("sv", 0))
            if user is None:
                log.warning("refused a socket from %s: no staff session", request.remote_addr)
                return False
            zone = None
            join_room("counters")
            manager = user.role in ("manager", "admin")
            if manager:
                join_room("managers")
            kind = "manager" if manager else "counter"
            self._remember(
                Screen(kind, user.username, user_id=user.id, session_version=user.session_version)
            )
        self.publisher.socketio.emit(SNAPSHOT, center_snapshot(self.center, zone), to=_sid())
        return True

    def _join_phone(self, ticket: str) -> bool:
        """Join a visitor's phone to its own ticket's room, and nothing else."""
        if self.phone_limit.allow(request.remote_addr):
            log.warning("refused a phone socket from %s: too many", request.remote_addr)
            return False
        status = self.phones.status(ticket)
        if status is None:
            log.warning("refused a phone socket from %s: unknown ticket", request.remote_addr)
            return False
        join_room(room(ticket))
        self._remember(Screen("phone", str(status["label"]), ticket=ticket))
        self.phones.follow(ticket, status)
        self.publisher.socketio.emit(TICKET_STATUS, status, to=_sid())
        return True

    def _remember(self, screen: Screen) -> None:
        with self._lock:
            self._screens[_sid()] = screen

    def _join_device(self, device: Device, token: str, agent: bool) -> str | None:
        """Join a device's rooms; return the zone its snapshot is for."""
        if device.kind == "display":
            join_room(f"display:{device.zone}" if device.zone else "display:all")
            self._remember(Screen("display", device.name, device=device, token=token))
            self.publisher.publish([ScreenOnline(device.name, "display", online=True)])
            return device.zone
        if device.kind == "feedback":  # a tablet hears the visits its own counter finishes
            join_room(f"feedback:{device.counter_id}")
            self._remember(Screen("feedback", device.name, device=device, token=token))
            return None
        join_room("kiosks")
        self.publisher.publish([ScreenOnline(device.name, "kiosk", online=True)])
        if agent and device.printer == AGENT_PRINTER:
            join_room(f"agent:{device.id}")
            self._remember(Screen("kiosk", device.name, device=device, token=token, agent=True))
            self.publisher.publish([AgentConnected(device)])
        else:
            self._remember(Screen("kiosk", device.name, device=device, token=token))
        return None

    def still_allowed(self, sid: str) -> Screen | None:
        """Return what a socket is if its device or session still holds; else close it."""
        with self._lock:
            screen = self._screens.get(sid)
        if screen is not None:
            with self.center.store.read() as conn:
                if screen.ticket is not None:  # a ticket's token is its holder's for good
                    allowed = True
                elif screen.token is not None:
                    allowed = accounts.device_for_token(conn, screen.token) is not None
                else:
                    user = accounts.load_user(conn, screen.user_id or 0, screen.session_version)
                    allowed = user is not None
            if allowed:
                return screen
        self._close([sid])
        return None

    def knows(self, sid: str) -> bool:
        """Say whether the socket ``sid`` has signed in (and not closed)."""
        with self._lock:
            return sid in self._screens

    def forget(self, sid: str) -> None:
        """Drop a closed socket from what is known of who is connected."""
        with self._lock:
            screen = self._screens.pop(sid, None)
        if screen is not None and screen.kind in ("display", "kiosk"):
            self.publisher.publish([ScreenOnline(screen.name, screen.kind, online=False)])
        if screen is not None and screen.ticket is not None:
            self.phones.leave(screen.ticket)

    def disconnect_user(self, user_id: int) -> None:
        """Close every socket of a user (their sessions ended)."""
        with self._lock:
            sids = [sid for sid, screen in self._screens.items() if screen.user_id == user_id]
        self._close(sids)

    def disconnect_device(self, device_id: int) -> None:
        """Close every socket of a device (its token was revoked or replaced)."""
        with self._lock:
            sids = [
                sid
                for sid, screen in self._screens.items()
                if screen.device is not None and screen.device.id == device_id
            ]
        self._close(sids)

    def _close(self, sids: list[str]) -> None:
        for sid in sids:
            # The python-socketio server is not in Flask-SocketIO's stub.
            self.publisher.socketio.server.disconnect(sid, namespace="/")  # type: ignore[attr-defined]

    def screens_online(self) -> set[str]:
        """Return the names of the displays and kiosks with a socket open now."""
        with self._lock:
            return {s.name for s in self._screens.values() if s.kind in ("display", "kiosk")}

    def summary(self) -> dict[str, Any]:
        """Return the sockets open now: per kind, in all, the limit, and whether to worry.

        ``open`` counts the signed-in Engine.IO sessions, as the limit does; a socket whose
        screen vanished counts until it misses a ping (``SOCKET_PING_*``). ``strangers`` are
        sessions not signed in (yet): closed within seconds, never counted in ``open``.
        """
        with self._lock:
            kinds = [screen.kind for screen in self._screens.values()]
        held = count_sessions(self.publisher.socketio)
        return {
            "by_kind": {kind: kinds.count(kind) for kind in SOCKET_KINDS},
            "open": held.signed_in,
            "strangers": sum(held.strangers.values()),
            "limit": self.limit,
            "near_limit": held.signed_in >= NEAR_LIMIT * self.limit,
        }

    def agent_reported(self, sid: str, report: Any) -> None:
        """Publish a printer state reported by a connected edge agent (ignore anyone else)."""
        screen = self.still_allowed(sid)
        device = screen.device if screen is not None and screen.agent else None
        state = report.get("state") if isinstance(report, dict) else None
        if device is not None and isinstance(state, str):
            self.publisher.publish([AgentPrinterReported(device, state)])

    def register_handlers(self) -> None:
        """Bind the Socket.IO handlers (called once by the app factory)."""
        socketio = self.publisher.socketio

        # A client can also send events named "connect" and "disconnect" (python-socketio
        # hands them to these handlers): the socket fuzz found a screen could make the server
        # forget it, or sign in again as another. Only the real ones are acted on.
        @socketio.on("connect")
        def on_connect(auth: Any = None) -> bool:
            if self.knows(_sid()):  # an event, not a connection: already signed in
                return True
            return self.connect(auth)

        @socketio.on("disconnect")
        def on_disconnect(*_reason: Any) -> None:
            server = socketio.server  # type: ignore[attr-defined]
            if not server.manager.is_connected(_sid(), "/"):  # a real one is disconnecting
                self.forget(_sid())

        @socketio.on("printer_status")
        def on_printer_status(report: Any = None) -> None:
            self.agent_reported(_sid(), report)

        @socketio.on(REQUEST_SNAPSHOT)
        def on_request_snapshot(data: Any = None) -> dict[str, Any] | None:
            # A display that sees a gap in ``seq`` asks again; the ack carries the answer.
            screen = self.still_allowed(_sid())
            if screen is None or screen.kind == "phone":  # a phone sees its ticket only
                return None
            if screen.device is not None:  # a device sees its own hall, whatever it asks
                return center_snapshot(self.center, screen.device.zone)
            zone = data.get("zone") if isinstance(data, dict) else None
            return center_snapshot(self.center, zone if isinstance(zone, str) else None)
