"""A release's version moves with its schema, and the CHANGELOG has a section for it."""

import configparser
from pathlib import Path

from hq.schema import HQ_MIGRATIONS, HQ_POSTGRES_MIGRATIONS
from server.queue.schema import MIGRATIONS
from server.releases import SCHEMAS

ROOT = Path(__file__).resolve().parents[1]


def declared_version():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    return config["metadata"]["version"]


def test_a_schema_change_comes_with_a_new_version():
    version = declared_version()
    assert version in SCHEMAS, f"add {version} to server/releases.py SCHEMAS"
    now = (len(MIGRATIONS), len(HQ_MIGRATIONS), len(HQ_POSTGRES_MIGRATIONS))
    assert SCHEMAS[version] == now, (
        f"the schema is now {now} but {version} shipped {SCHEMAS[version]}: a schema change "
        "is a new version (setup.cfg, server/releases.py and a CHANGELOG section)"
    )
    shipped = list(SCHEMAS.values())
    assert shipped == sorted(shipped) and len(set(shipped)) == len(shipped)


def test_the_changelog_has_a_dated_section_for_the_version():
    changelog = (ROOT / "CHANGELOG.md").read_text()
    assert f"\n## [{declared_version()}] - 20" in changelog
