"""Which enrolled device a token names, kept in memory between requests.

Every kiosk request carries its token; reading the devices table for each was a transaction of
its own per ticket (the real-time issue, #40). A device is looked up once and kept until:
- this process changes a device: the operation's ``DeviceRevoked``, ``DeviceChanged`` or
  ``PrintingChanged`` fact empties the cache before the answer is sent, so a revoked token
  is refused on its very next request, as before;
- another process commits anything (a ``dostq`` command, another connection): the store's
  ``changed_elsewhere`` mark moves and the cache is emptied at the next request.
Unknown tokens are never kept, so guessing cannot fill it; it holds at most the enrolled devices.
"""

from __future__ import annotations

import threading

from server.office import accounts
from server.queue.actors import Device
from server.queue.storage import Store


class DeviceTokens:
    """Token -> the active device holding it, as last read; emptied by any device change."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._devices: dict[str, Device] = {}  # by the token's stored hash, never the token
        self._mark: tuple[int, int] | None = None
        self._lock = threading.Lock()

    def device(self, token: str) -> Device | None:
        """Return the active device holding ``token``, or None."""
        digest = accounts.token_hash(token)
        mark = self.store.changed_elsewhere()
        with self._lock:
            if mark != self._mark:
                self._devices.clear()
                self._mark = mark
            known = self._devices.get(digest)
        if known is not None:
            return known
        with self.store.read() as conn:
            found = accounts.device_for_token(conn, token)
        if found is not None:
            with self._lock:
                if self._mark == mark:  # not emptied while it was being read
                    self._devices[digest] = found
        return found

    def forget(self, _fact: object = None) -> None:
        """Empty the cache: a device changed in this process (revoked, changed, calibrated)."""
        with self._lock:
            self._devices.clear()
            self._mark = None
