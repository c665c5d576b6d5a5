"""The one place that publishes: each fact an operation caused goes to the rooms that show it.

Rooms are named after what they show: ``display:<zone>`` (``display:all`` for a display with no
zone), ``counters``, ``managers``, ``kiosks``, ``agent:<device id>`` and ``feedback:<counter
id>`` (the feedback tablet on a counter). ``EVENTS`` names the
Socket.IO event each fact becomes; services that act on facts (printing, serial LED displays,
socket bookkeeping) ``subscribe`` to fact types and are called after the emit. ``publish`` is
only ever called after the transaction that caused the facts has committed.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from flask_socketio import SocketIO

from server.queue import facts as f
from server.queue.center import Center
from server.queue.views import waiting_summary

FactT = TypeVar("FactT", bound=f.Fact)
STAFF = ["counters", "managers"]
PRINTING = ["kiosks", "counters", "managers"]

# Each fact's Socket.IO event (the rest are heard by subscribers only).
EVENTS: dict[type[Any], str] = {
    f.Called: "ticket_called",
    f.CounterChanged: "counter_changed",
    f.PrintFinished: "print_result",
    f.PrinterStatusChanged: "printer_status",
    f.AssistanceRequested: "assistance_requested",
    f.AssistanceResolved: "assistance_resolved",
    f.ScreenOnline: "display_status",
    f.SerialLineStatus: "device_status",
    f.KeypadRefused: "keypad_refused",
    f.AgentPrintJob: "print_job",
    f.VisitFinished: "feedback_wanted",
}
# Sent by the live layer outside publish: the answer to a connect, and the waiting counts.
SNAPSHOT, QUEUE_CHANGED, REQUEST_SNAPSHOT = "snapshot", "queue_changed", "request_snapshot"


def _message(fact: f.Fact) -> tuple[Any, list[str]]:
    """Return what the event carries and the rooms it goes to."""
    match fact:
        case f.Called(call=call):
            return call, [f"display:{call['zone']}", "display:all", *STAFF]
        case f.CounterChanged(counter=counter):
            return counter, STAFF
        case f.PrintFinished():
            return {
                "device": fact.device,
                "ticket_id": fact.ticket_id,
                "label": fact.label,
                "printed": fact.printed,
                "message": fact.message,
            }, PRINTING
        case f.PrinterStatusChanged():
            return {"device": fact.device, "state": fact.state, "message": fact.message}, PRINTING
        case f.AssistanceRequested():
            return {"id": fact.id, "device": fact.device, "zone": fact.zone, "at": fact.at}, [
                "managers",
                "counters",
            ]
        case f.AssistanceResolved():
            return {"id": fact.id}, ["managers", "counters"]
        case f.ScreenOnline():
            return {"device": fact.device, "kind": fact.kind, "online": fact.online}, ["managers"]
        case f.SerialLineStatus():
            return {
                "device": fact.line,
                "connected": fact.connected,
                "message": fact.message,
            }, STAFF
        case f.KeypadRefused():
            payload = {"counter_id": fact.counter_id, "code": fact.code, "message": fact.message}
            return payload, ["counters"]
        case f.AgentPrintJob():
            return {"ticket_id": fact.ticket_id, "data": fact.data}, [f"agent:{fact.device_id}"]
        case f.VisitFinished():
            payload = {"ticket_id": fact.ticket_id, "label": fact.label, "language": fact.language}
            return payload, [f"feedback:{fact.counter_id}"]
    raise TypeError(f"{type(fact).__name__} has no Socket.IO event")


class Publisher:
    """Turns facts into Socket.IO events and calls the subscribers of each fact type."""

    def __init__(self, center: Center, socketio: SocketIO) -> None:
        self.center = center
        self.socketio = socketio
        self._subscribers: dict[type[Any], list[Callable[[Any], None]]] = defaultdict(list)
        self._lock = threading.Lock()

    def subscribe(self, fact_type: type[FactT], handler: Callable[[FactT], None]) -> None:
        """Call ``handler(fact)`` for every published fact of ``fact_type``."""
        with self._lock:
            self._subscribers[fact_type].append(handler)

    def publish(self, facts: Iterable[f.Fact]) -> None:
        """Publish committed facts in order; waiting counts are pushed once, at the end."""
        queue_changed = False
        for fact in facts:
            if isinstance(fact, f.QueueChanged):
                queue_changed = True
                continue
            if type(fact) in EVENTS:
                payload, rooms = _message(fact)
                # A list of rooms is Flask-SocketIO's own API; its stub types ``to`` as one room.
                self.socketio.emit(EVENTS[type(fact)], payload, to=rooms)  # type: ignore[arg-type]
            with self._lock:
                handlers = list(self._subscribers[type(fact)])
            for handler in handlers:
                handler(fact)
        if queue_changed:
            self._push_waiting()
            with self._lock:
                handlers = list(self._subscribers[f.QueueChanged])
            for handler in handlers:
                handler(f.QueueChanged())

    def _push_waiting(self) -> None:
        rooms = ["counters", "managers", "kiosks"]
        manager = self.socketio.server.manager  # type: ignore[attr-defined]  # not in the stub
        if not any(True for _ in manager.get_participants("/", rooms)):
            return  # nobody to tell: skip the query
        now = self.center.now()
        with self.center.store.read() as conn:
            waiting = waiting_summary(conn, self.center.day(now), now)
        self.socketio.emit(QUEUE_CHANGED, {"at": now, "waiting": waiting}, to=rooms)  # type: ignore[arg-type]
