"""Centers' signing keys at rest: sealed under a key file HQ keeps beside its database, not in it.

HQ must hold each center's HMAC key itself to check that center's signatures, so the keys
cannot be stored as hashes. They are stored encrypted (Fernet: AES-128-CBC with an HMAC) under
``center_keys.key`` (mode 0600), so a copy of ``hq.db`` alone (a backup, a database dump, a
disk image of the database) gives away no center's key. A key from before sealing is sealed
at the next start.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from hq import storage
from server.queue.errors import QueueError
from server.queue.storage import SqlConnection

KEY_FILE = "center_keys.key"
SEALED = "fernet:"


class KeyFileMismatch(QueueError):
    """A center's key was sealed under another key file than the one HQ has now."""

    status = 503


class CenterKeys:
    """Seals centers' keys for the database and opens them to check a signature."""

    def __init__(self, fernet: Fernet) -> None:
        self._fernet = fernet

    @classmethod
    def in_folder(cls, data_dir: Path) -> CenterKeys:
        """Return the keys sealed under ``data_dir``'s key file, made once (mode 0600)."""
        path = data_dir / KEY_FILE
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # made before, maybe by the other of `dostq hq` and the server
            pass
        else:
            with os.fdopen(descriptor, "wb") as file:
                file.write(Fernet.generate_key())
        return cls(Fernet(path.read_bytes().strip()))

    def seal(self, key: str) -> str:
        """Return ``key`` as the database keeps it."""
        return SEALED + self._fernet.encrypt(key.encode()).decode()

    def open(self, stored: str) -> str:
        """Return the key the database keeps as ``stored`` (sealed, or from before sealing)."""
        if not stored.startswith(SEALED):
            return stored
        try:
            return self._fernet.decrypt(stored[len(SEALED) :].encode()).decode()
        except InvalidToken as exc:
            raise KeyFileMismatch(
                "key_file_mismatch",
                f"HQ cannot open this center's key: {KEY_FILE} is not the file it was sealed "
                "under. Put the right key file back, or add the center again (a new key).",
            ) from exc

    def seal_plain_keys(self, conn: SqlConnection) -> int:
        """Seal every key still stored in clear; return how many."""
        plain = [(c, k) for c, k in storage.stored_keys(conn) if not k.startswith(SEALED)]
        for code, key in plain:
            storage.replace_key(conn, code, self.seal(key))
        return len(plain)
