"""The services the app factory wired, as views reach them: center, publisher, sockets, lines."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app

from server.live.counter_devices import CounterDevices
from server.live.publisher import Publisher
from server.live.sockets import Sockets
from server.queue.center import Center
from server.queue.facts import Fact
from server.web.device_tokens import DeviceTokens


def center() -> Center:
    """Return this app's Center."""
    return current_app.extensions["dostq.center"]  # type: ignore[no-any-return]


def publish(facts: Iterable[Fact]) -> None:
    """Publish the facts an operation caused (after its transaction committed)."""
    publisher: Publisher = current_app.extensions["dostq.publisher"]
    publisher.publish(facts)


def device_tokens() -> DeviceTokens:
    """Return which device each token names, kept between requests."""
    return current_app.extensions["dostq.device_tokens"]  # type: ignore[no-any-return]


def sockets() -> Sockets:
    """Return who is connected, and the means to close their sockets."""
    return current_app.extensions["dostq.sockets"]  # type: ignore[no-any-return]


def counter_devices() -> CounterDevices:
    """Return the serial lines of counter LED displays and keypads, with their state."""
    return current_app.extensions["dostq.counter_devices"]  # type: ignore[no-any-return]
