"""The database schemas each release shipped: a schema change is a new version.

HQ's dashboard shows the version each center last synced with, and a newer database is
refused by an older program; both mean something only if the version moves whenever the
schema does. ``tests/test_releases.py`` fails when a migration is added and the version in
``setup.cfg`` (and this table, and the CHANGELOG) was not moved on with it.
"""

from __future__ import annotations

# version: (the center's schema, HQ's on SQLite, HQ's on PostgreSQL), as `PRAGMA user_version`
# and HQ's own counter leave them after the release's migrations.
SCHEMAS: dict[str, tuple[int, int, int]] = {
    "0.2.0": (20, 10, 6),
    "0.3.0": (21, 13, 9),
}
