"""Group commit in the center's Store: writers that come together share one commit, and each
returns only once its own block is committed; a refused block undoes only itself.

The batching case runs under gevent, as `dostq serve` does, in a child process (the test
process itself must not be monkey-patched): there, greenlets spawned together form a batch.
"""

import json
import sqlite3
import subprocess
import sys
import textwrap

import pytest

from server.queue.storage import Store

SCHEMA = "CREATE TABLE rows (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"

GEVENT_WRITERS = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()

    import json, sqlite3, sys
    from pathlib import Path

    import gevent

    from server.app import disk_thread
    from server.queue.storage import Store

    path = Path(sys.argv[1])
    commits = []
    disk = disk_thread("gevent")

    def counted(call):
        commits.append(1)
        return disk(call)

    store = Store(path, (sys.argv[2],), counted)
    seen_by_another_connection = []

    def writer(n):
        try:
            with store.write() as conn:
                conn.execute("INSERT INTO rows (name) VALUES (?)", (f"row {n}",))
                if n == 7:
                    raise ValueError("refused")
        except ValueError:
            return
        other = sqlite3.connect(path)  # what a crash would leave: committed rows only
        found = other.execute("SELECT 1 FROM rows WHERE name = ?", (f"row {n}",)).fetchone()
        other.close()
        seen_by_another_connection.append(found is not None)

    gevent.joinall([gevent.spawn(writer, n) for n in range(20)])
    with store.read() as conn:
        names = sorted(r[0] for r in conn.execute("SELECT name FROM rows"))
    print(json.dumps({
        "commits": len(commits),
        "names": names,
        "seen": seen_by_another_connection,
        "open": store.db.conn.in_transaction,
    }))
    """
)


def under_gevent(script, database):
    """Run ``script`` in a child process patched by gevent; return the JSON it printed last."""
    result = subprocess.run(
        [sys.executable, "-c", script, str(database), SCHEMA],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_writers_that_come_together_share_one_commit_under_gevent(tmp_path):
    outcome = under_gevent(GEVENT_WRITERS, tmp_path / "g.db")
    # 19 blocks went through, the refused one (7) undid only itself...
    assert outcome["names"] == sorted(f"row {n}" for n in range(20) if n != 7)
    # ...each writer returned only once another connection could read its row...
    assert outcome["seen"] == [True] * 19
    # ...and they shared commits: one per writer before group commit.
    assert 1 <= outcome["commits"] < 19
    assert outcome["open"] is False


@pytest.fixture
def store(tmp_path):
    store = Store(tmp_path / "s.db", (SCHEMA,))
    yield store
    store.close()


def names(path):
    with sqlite3.connect(path) as other:
        return [r[0] for r in other.execute("SELECT name FROM rows ORDER BY id")]


def test_a_refused_block_alone_leaves_nothing_open(store):
    with pytest.raises(ValueError), store.write() as conn:
        conn.execute("INSERT INTO rows (name) VALUES ('undone')")
        raise ValueError("refused")
    assert not store.db.conn.in_transaction
    with store.write() as conn:
        conn.execute("INSERT INTO rows (name) VALUES ('kept')")
    assert names(store.path) == ["kept"]


def test_a_nested_write_and_a_write_inside_a_read_are_the_outer_blocks(store):
    with store.write() as conn:
        conn.execute("INSERT INTO rows (name) VALUES ('outer')")
        with store.write() as inner:
            inner.execute("INSERT INTO rows (name) VALUES ('inner')")
        assert names(store.path) == []  # not committed before the outer block ends
    with store.read(), store.write() as conn:
        conn.execute("INSERT INTO rows (name) VALUES ('in a read')")
    assert names(store.path) == ["outer", "inner", "in a read"]
    assert not store.db.conn.in_transaction


def test_a_failed_commit_fails_its_writer_and_loses_no_later_write(tmp_path):
    failing = {"commit": True}

    def disk(call):
        if failing["commit"]:
            raise sqlite3.OperationalError("disk I/O error")
        return call()

    store = Store(tmp_path / "f.db", (SCHEMA,), disk)
    with pytest.raises(sqlite3.OperationalError, match="not committed: disk I/O error"):
        with store.write() as conn:
            conn.execute("INSERT INTO rows (name) VALUES ('lost')")
    assert not store.db.conn.in_transaction
    failing["commit"] = False
    with store.write() as conn:
        conn.execute("INSERT INTO rows (name) VALUES ('after')")
    assert names(store.path) == ["after"]
    store.close()


CLOSE_WHILE_PENDING = textwrap.dedent(
    """
    from gevent import monkey
    monkey.patch_all()

    import json, sqlite3, sys
    from pathlib import Path

    import gevent

    from server.queue.storage import Store

    path = Path(sys.argv[1])
    store = Store(path, (sys.argv[2],))
    outcome = {}

    def writer():
        with store.write() as conn:
            conn.execute("INSERT INTO rows (name) VALUES ('pending')")
        outcome["writer"] = "returned"

    def closer():  # runs while the writer yields between its block and the commit
        store.close()

    gevent.joinall([gevent.spawn(writer), gevent.spawn(closer)])
    other = sqlite3.connect(path)
    outcome["rows"] = [r[0] for r in other.execute("SELECT name FROM rows")]
    print(json.dumps(outcome))
    """
)


def test_closing_commits_a_batch_still_waiting_for_its_commit(tmp_path):
    outcome = under_gevent(CLOSE_WHILE_PENDING, tmp_path / "c.db")
    assert outcome == {"writer": "returned", "rows": ["pending"]}
