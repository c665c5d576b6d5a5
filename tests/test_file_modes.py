"""The center's data is its own user's only: folder 0700, database, WAL and SHM 0600."""

import os
import stat

from server.queue.storage import Store


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_is_private_whatever_the_umask(tmp_path):
    old = os.umask(0o022)  # a Debian service's default: files readable by every user
    try:
        store = Store(tmp_path / "data" / "dostq.db")
        with store.write() as conn:
            conn.execute("INSERT INTO settings (key, value) VALUES ('x', '1')")
        files = [tmp_path / "data" / name for name in ("dostq.db", "dostq.db-wal", "dostq.db-shm")]
        assert mode(tmp_path / "data") == 0o700
        assert [mode(f) for f in files] == [0o600] * 3
        store.close()
    finally:
        os.umask(old)


def test_an_existing_readable_database_is_made_private_when_opened(tmp_path):
    Store(tmp_path / "dostq.db").close()
    (tmp_path / "dostq.db").chmod(0o644)
    tmp_path.chmod(0o755)
    store = Store(tmp_path / "dostq.db")
    assert (mode(tmp_path), mode(tmp_path / "dostq.db")) == (0o700, 0o600)
    store.close()
