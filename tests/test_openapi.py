"""schemathesis against the live server: every documented operation, generated inputs.

Two passes, because one request cannot be both a device and a member of staff (a request
with an Authorization header is judged by it alone): kiosk and public operations, then the
clerk's operations signed in at a counter.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

CONFIG = Path(__file__).with_name("schemathesis.toml")
KIOSK_AND_PUBLIC = (
    r"^/(catalog|tickets$|tickets/\{ticket_id\}/print-result|tickets/status|snapshot|session)"
)
STAFF = r"^/(counters|reception|tickets/\{ticket_id\}/(cancel|reprint))"


def run_schemathesis(live, paths, csrf=""):
    cli = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(cli),
            "--config-file",
            str(CONFIG),
            "run",
            f"{live.url}/api/v1/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            "60",
            "--seed",
            "1",
            "--include-path-regex",
            paths,
            "--header",
            f"X-CSRFToken: {csrf or 'none'}",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        env={
            **os.environ,
            "DOSTQ_TEST_DEVICE_AUTH": f"Device {live.tokens['kiosk-1']}",
            "DOSTQ_TEST_STAFF_COOKIE": live.staff_cookie,
        },
    )
    assert result.returncode == 0, result.stdout[-6000:]


@pytest.mark.slow
def test_kiosk_and_public_operations_conform(live_center):
    live_center.staff_cookie = "none"
    run_schemathesis(live_center, KIOSK_AND_PUBLIC)


@pytest.mark.slow
def test_clerk_operations_conform(live_center):
    clerk = live_center.session("clerk1", "demo-counter-1")
    clerk.post(f"{live_center.url}/api/v1/counters/1/session", timeout=10).raise_for_status()
    live_center.staff_cookie = clerk.cookies["dostq"]
    run_schemathesis(live_center, STAFF, clerk.headers["X-CSRFToken"])
