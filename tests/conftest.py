"""Shared fixtures: a seeded center on a real SQLite file, the app, and a live server."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from hq.app import create_hq_app
from hq.storage import add_center
from server.office import accounts
from server.office.catalog import (
    default_priority_categories,
    import_catalog,
    import_priority_categories,
)
from server.office.catalog_files import default_catalog_path, load_catalog
from server.queue.center import Center
from server.queue.storage import Store
from server.settings import TIMEZONE
from tests.live import CHROMIUM_ARGS, LiveCenter, start_live_center
from tests.postgres import Cluster

# Passwords at argon2's cheapest cost through the product's own PASSWORD_PROFILE setting: this
# process, every app it builds and every `dostq` command or live server it starts inherit it.
os.environ["DOSTQ_PASSWORD_PROFILE"] = "CHEAPEST"
accounts.use_password_profile("CHEAPEST")
# A machine the suite runs on may have a center installed: no test reads its /etc/dostq.
os.environ["DOSTQ_CONFIG_DIR"] = str(Path(__file__).parent / "no-such-config-dir")

T0 = 1_795_400_000.0  # Monday 2026-11-23, 06:13 in Baku
KEY = "k" * 43  # the HQ key of hq_client's center baku-1


def wait_until(condition, timeout=5.0):
    """Poll ``condition`` until it is truthy; False if ``timeout`` seconds pass first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def center_today() -> date:
    """Return today at the center (Baku), not the machine's UTC date.

    From 20:00 to midnight UTC they differ: a test's "tomorrow" was the center's today.
    """
    return datetime.now(ZoneInfo(TIMEZONE)).date()


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def seed(store: Store) -> dict[str, int]:
    """Load the shipped catalog and categories; create two clerks and three counters."""
    with store.write() as conn:
        import_catalog(conn, load_catalog(default_catalog_path()))
        import_priority_categories(conn, default_priority_categories())
        ids = {
            "clerk1": accounts.create_user(conn, "clerk1", "masa-one-secret", "clerk", T0),
            "clerk2": accounts.create_user(conn, "clerk2", "masa-two-secret", "clerk", T0),
            "manager": accounts.create_user(conn, "manager", "floor-boss-secret", "manager", T0),
            "counter1": accounts.create_counter(conn, "Masa 1", {"2.1": 1, "2.2": 1, "6": 1}),
            "counter2": accounts.create_counter(conn, "Masa 2", {"2.1": 1, "4.4": 1}, zone="hall2"),
            "counter3": accounts.create_counter(
                conn, "Masa 3", {"6": 1}, categories=["disability"]
            ),
        }
    return ids


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def center(tmp_path: Path, clock: FakeClock) -> Iterator[Center]:
    store = Store(tmp_path / "dostq.db")
    seed(store)
    yield Center(store, clock=clock)
    store.close()


@pytest.fixture
def live_center(tmp_path: Path) -> Iterator[LiveCenter]:
    live = start_live_center(tmp_path / "center")
    yield live
    live.stop()


@dataclass
class AppCenter:
    """The Flask app on a seeded database, with device tokens and record ids."""

    app: object
    ids: dict[str, int]
    kiosk_token: str
    display_token: str
    clock: FakeClock


def center_app(data_dir: Path, **config: object):
    """Build a center app in this process, its own threads stopped (``config``: settings)."""
    from server.app import create_app

    # In-process tests run no gevent hub: the Flask test client drives the threads model.
    # Every live server (tests/live.py) runs `dostq serve` with its default gevent worker.
    app = create_app({"DATA_DIR": str(data_dir), "TESTING": True, "WORKER": "threads", **config})
    # Tests close days themselves, on their own clock, not on a thread's minute.
    app.extensions["dostq.day_closer"].stop()
    app.extensions["dostq.national_catalog"].stop()
    return app


@pytest.fixture
def app_center(tmp_path: Path, clock: FakeClock) -> Iterator[AppCenter]:
    app = center_app(tmp_path)
    center: Center = app.extensions["dostq.center"]
    center.clock = clock
    ids = seed(center.store)
    with center.store.write() as conn:
        kiosk = accounts.enrol_device(conn, "kiosk-1", "kiosk", T0)
        display = accounts.enrol_device(conn, "display-1", "display", T0, zone="main")
    yield AppCenter(app, ids, kiosk, display, clock)
    center.store.close()


def login(client, username: str, password: str):
    """Sign a Flask test client in; return the CSRF headers for its changes."""
    token = client.get("/api/v1/session").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/session",
        json={"username": username, "password": password},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200, response.get_json()
    return {"X-CSRFToken": response.get_json()["csrf_token"]}


CHROMIUM = "/usr/bin/chromium"
# A test run writes its screenshots to an ignored folder, so it changes no tracked file;
# scripts/screenshots points this at docs/screenshots to regenerate the README's pictures.
ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "build" / "screenshots")


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (scripts/test installs both)."""
    import shutil

    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or CHROMIUM
    if not Path(executable).exists():
        pytest.fail(
            "Chromium is missing: run scripts/test (it installs Debian's chromium), "
            "or: apt-get install -y chromium"
        )
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable,
            args=CHROMIUM_ARGS,
        )
        yield chromium
        chromium.close()


def pytest_collection_modifyitems(items) -> None:
    """Mark each test by the tier its fixtures put it in (setup.cfg lists the markers).

    Chromium means ``browser`` and ``live``; a live center ``live``; HQ's PostgreSQL case of
    ``hq_database``, or the cluster itself, ``postgres``. A test that starts servers in its
    own body carries the marker by hand, and ``tier_is_marked`` fails it if it does not.
    """
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        callspec = getattr(item, "callspec", None)
        if "browser" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "browser" in fixtures or "live_center" in fixtures:
            item.add_marker(pytest.mark.live)
        if "postgres" in fixtures or (
            callspec is not None and "postgresql" in callspec.params.values()
        ):
            item.add_marker(pytest.mark.postgres)


@contextmanager
def tier_is_marked(item: pytest.Item) -> Iterator[None]:
    """Fail a test that starts a server or PostgreSQL without its tier's marker.

    The quick tier (``scripts/test --quick``) selects by marker: an unmarked live test would
    make it slow, and a marker nobody checks drifts. Module-scoped fixtures count too.
    """
    from tests import live, postgres

    def refuse(marker: str):
        def refused(*args, **kwargs):
            pytest.fail(f"{item.nodeid} starts a real server: mark it @pytest.mark.{marker}")

        return refused

    with ExitStack() as stack:
        if item.get_closest_marker("live") is None:
            for starter in ("_serve", "_serve_hq", "seeded_demo"):
                stack.enter_context(mock.patch.object(live, starter, refuse("live")))
        if item.get_closest_marker("postgres") is None:
            stack.enter_context(mock.patch.object(postgres.Cluster, "__init__", refuse("postgres")))
        yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item):
    with tier_is_marked(item):
        return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    with tier_is_marked(item):
        return (yield)


# Page states axe checked, counted from each test's report: under pytest-xdist the tests run in
# worker processes and only their reports reach this one.
AXE_STATES: list[int] = []


@pytest.fixture(autouse=True)
def count_axe_states(request: pytest.FixtureRequest) -> Iterator[None]:
    """Report how many page states this test had axe check."""
    from tests import accessibility

    before = len(accessibility.checked)
    yield
    request.node.user_properties.append(("axe_states", len(accessibility.checked) - before))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "teardown":
        AXE_STATES.extend(int(n) for name, n in report.user_properties if name == "axe_states")


def pytest_terminal_summary(terminalreporter) -> None:
    """Say how many page states the axe tier checked (each with no violation, or it failed)."""
    if sum(AXE_STATES):
        terminalreporter.write_line(
            f"axe-core: {sum(AXE_STATES)} page states checked against WCAG 2.2 A/AA"
        )


@pytest.fixture(scope="session")
def postgres() -> Iterator[Cluster]:
    """A throw-away PostgreSQL server for the session (tests/postgres.py)."""
    cluster = Cluster()
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def hq_database(request: pytest.FixtureRequest) -> str:
    """HQ's ``--database``: empty (its SQLite file), then a new database on PostgreSQL."""
    if request.param == "sqlite":
        return ""
    return str(request.getfixturevalue("postgres").new_database())


@pytest.fixture
def hq_client(tmp_path, hq_database):
    """HQ in this process, on its SQLite file and then on PostgreSQL, knowing baku-1 by KEY."""
    config = {"HQ_DATA_DIR": str(tmp_path / "hq"), "HQ_DATABASE": hq_database, "TESTING": True}
    app = create_hq_app(config)
    store = app.extensions["dostq.hq_store"]
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", app.extensions["dostq.hq_keys"].seal(KEY), time.time())
    client = app.test_client()
    client.store = store
    yield client
    store.close()
