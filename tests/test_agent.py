"""The edge agent as deployed: a real server process, a real `dostq agent` process, and a
printer on loopback that the agent (not the server) talks to."""

import os
import subprocess
import sys
import time

import pytest

from hardware.decode import decode
from server.office import accounts
from tests.conftest import wait_until
from tests.fake_printer import TcpPrinter
from tests.live import start_live_center

pytestmark = pytest.mark.live


def enrol_agent_kiosk(store):
    with store.write() as conn:
        token = accounts.enrol_device(conn, "kiosk-pc-7", "kiosk", time.time(), printer="agent:")
    (store.path.parent / "agent-token").write_text(token)


@pytest.fixture
def center_with_agent_kiosk(tmp_path):
    live = start_live_center(tmp_path / "center", prepare=enrol_agent_kiosk)
    live.tokens["kiosk-pc-7"] = (live.data_dir / "agent-token").read_text()
    yield live
    live.stop()


def start_agent(live, printer):
    env = {**os.environ, "DOSTQ_DEVICE_TOKEN": live.tokens["kiosk-pc-7"]}
    trust = ["--ca-file", str(live.data_dir / "tls" / "cert.pem")] if live.tls else []
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "server",
            "agent",
            "--server",
            live.url,
            "--printer",
            printer.url,
            *trust,
        ],  # fmt: skip
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def issue(live):
    http = live.kiosk()
    http.headers["Authorization"] = f"Device {live.tokens['kiosk-pc-7']}"
    response = http.post(f"{live.url}/api/v1/tickets", json={"service": "6"}, timeout=10)
    assert response.status_code == 201
    return response.json()


def wait_printed(live, token, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = live.kiosk().get(f"{live.url}/api/v1/tickets/status/{token}", timeout=10).json()
        if status["state"] != "issued":
            return status
        time.sleep(0.1)
    raise AssertionError("ticket never confirmed")


def test_agent_prints_jobs_including_one_issued_while_it_was_away(center_with_agent_kiosk):
    live = center_with_agent_kiosk
    printer = TcpPrinter()
    early = issue(live)  # no agent connected yet: the server holds the job
    agent = start_agent(live, printer)
    try:
        assert wait_printed(live, early["token"])["state"] == "waiting"
        later = issue(live)
        assert wait_printed(live, later["token"])["state"] == "waiting"
        jobs = printer.wait_for_jobs(2)
        assert [early["label"] in decode(j).lines for j in jobs] == [True, False]
        assert later["label"] in decode(jobs[1]).lines
        snapshot = (
            live.session("manager", "demo-floor-lead")
            .get(f"{live.url}/api/v1/snapshot", timeout=10)
            .json()
        )
        assert {"device": "kiosk-pc-7", "state": "ready"} in [
            {"device": p["device"], "state": p["state"]} for p in snapshot["printers"]
        ]
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        printer.unplug()
    assert len(printer.jobs) == 2  # nothing printed twice: the agent is gone


def test_agent_with_a_wrong_token_gets_no_held_job(center_with_agent_kiosk):
    live = center_with_agent_kiosk
    ticket = issue(live)  # held by the server for the kiosk's agent
    live.tokens["kiosk-pc-7"] = "not-the-token"
    printer = TcpPrinter()
    agent = start_agent(live, printer)
    try:
        log = live.data_dir / "server.log"
        # Wait until the server has refused the agent's socket: only then can no job mean none.
        assert wait_until(lambda: "unknown device token" in log.read_text(), 60)
        assert printer.jobs == []
        status = (
            live.kiosk()
            .get(f"{live.url}/api/v1/tickets/status/{ticket['token']}", timeout=10)
            .json()
        )
        assert status["state"] == "issued"
    finally:
        agent.terminate()
        agent.wait(timeout=10)
        printer.unplug()


def test_agent_prints_over_https_trusting_the_centers_own_certificate(tmp_path):
    # Installed, the agent talks HTTPS to a center whose certificate `dostq cert` made: its
    # --ca-file never reached the WebSocket, so it retried for ever and printed nothing.
    live = start_live_center(tmp_path / "center", prepare=enrol_agent_kiosk, tls=True)
    live.tokens["kiosk-pc-7"] = (live.data_dir / "agent-token").read_text()
    printer = TcpPrinter()
    agent = start_agent(live, printer)
    try:
        ticket = issue(live)
        assert wait_printed(live, ticket["token"])["state"] == "waiting"
        (job,) = printer.wait_for_jobs(1)
        assert ticket["label"] in decode(job).lines
    finally:
        agent.terminate()
        agent.wait(timeout=30)
        live.stop()
