"""Serial counter devices: LED displays show each call, keypads act for the signed-in clerk.

Lines are configured with ``dostq serial-line add URL``; each carries any number of displays
and keypads addressed by counter id (hardware.serial_devices documents the protocol).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from hardware.serial_devices import Key, LineProtocol, SerialLink
from server.live.events import Events
from server.office import accounts
from server.queue import desk as counters
from server.queue.center import Center
from server.queue.engine import QueueError
from server.queue.storage import get_setting

log = logging.getLogger(__name__)


class CounterDevices:
    """Opens the configured serial lines and joins them to the queue's facts."""

    def __init__(self, center: Center, events: Events) -> None:
        self.center = center
        self.events = events
        self.protocol = LineProtocol()
        self.links: list[SerialLink] = []
        self._started = False
        self._lock = threading.Lock()
        events.listeners.append(self.on_fact)

    def start(self) -> None:
        """Open the configured lines (once, in the serving process)."""
        with self._lock:
            if self._started:
                return
            self._started = True
            with self.center.store.read() as conn:
                lines = get_setting(conn, "serial_lines", [])
            for line in lines:
                link = SerialLink(
                    line["url"],
                    self.on_line,
                    self._state_reporter(line["url"]),
                    baudrate=int(line.get("baudrate", 9600)),
                )
                link.start()
                self.links.append(link)

    def stop(self) -> None:
        """Close every line."""
        for link in self.links:
            link.stop()

    def on_fact(self, fact: str, data: dict[str, Any]) -> None:
        """Show a call on its counter's display; blank the display when the counter is free."""
        if fact == "ticket_called":
            self._broadcast(self.protocol.show(data["counter_id"], data["label"]))
        elif fact == "counter_freed":
            self._broadcast(self.protocol.clear(data["counter_id"]))

    def _broadcast(self, data: bytes) -> None:
        for link in self.links:
            link.send(data)

    def on_line(self, line: bytes) -> None:
        """Act on a keypad press as the clerk signed in at that counter."""
        press = self.protocol.parse(line)
        if press is None:
            log.info("ignored serial line %r", line)
            return
        with self.center.store.read() as conn:
            clerk = accounts.clerk_at_counter(conn, press.counter)
        if clerk is None:
            self.events.keypad_refused(press.counter, "Nobody is signed in at this counter.")
            return
        try:
            self._act(press.key, press.counter, clerk)
        except QueueError as error:
            self.events.keypad_refused(press.counter, error.message)

    def _act(self, key: Key, counter_id: int, clerk: accounts.User) -> None:
        if key in (Key.NEXT, Key.RECALL):
            operation = counters.call_next if key is Key.NEXT else counters.recall
            self.events.ticket_called(operation(self.center, counter_id, clerk)["call"])
        elif key is Key.START:
            counters.start_service(self.center, counter_id, clerk)
            self.events.queue_changed()
        else:
            if key is Key.NO_SHOW:
                counters.mark_no_show(self.center, counter_id, clerk)
            else:
                counters.finish(self.center, counter_id, clerk, [])
            self.events.counter_freed(counter_id)

    def _state_reporter(self, url: str) -> Callable[[bool, str], None]:
        def report(connected: bool, message: str) -> None:
            self.events.device_status(url, connected, message)

        return report
