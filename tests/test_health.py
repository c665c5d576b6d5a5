"""/healthz and /metrics: scraped from a real center server with Prometheus' own parser."""

import shutil
import subprocess
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from hq.app import create_hq_app
from hq.storage import add_center
from tests.test_realtime import CLERK, COUNTER, Screen, issue


def promtool_accepts(text):
    """Check an exposition with Prometheus' own linter (Debian's prometheus: scripts/test)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool (Debian's prometheus) is installed by scripts/test's full tier")
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr


def scrape(url, **kwargs):
    response = requests.get(f"{url}/metrics", timeout=10, **kwargs)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    promtool_accepts(response.text)  # it rejected dostq_hq_backlog_days: units are base units
    return {family.name: family for family in text_string_to_metric_families(response.text)}


def samples(families, name, **labels):
    """Return the values of the samples named ``name`` whose labels include ``labels``."""
    family = families[name.removesuffix("_total").removesuffix("_bucket").removesuffix("_count")]
    return [
        s.value for s in family.samples if s.name == name and labels.items() <= s.labels.items()
    ]


def test_a_center_exposes_its_queue_sockets_devices_sync_and_backups(live_center):
    display = Screen(live_center.url, auth={"device_token": live_center.tokens["display-1"]})
    display.next("snapshot")
    tickets = [issue(live_center)["token"] for _ in range(3)]
    clerk = live_center.session(*CLERK)
    base = f"{live_center.url}/api/v1/counters/{COUNTER}"
    clerk.post(f"{base}/session", timeout=10).raise_for_status()
    clerk.post(f"{base}/call-next", timeout=10).raise_for_status()
    clerk.post(f"{base}/start", timeout=10).raise_for_status()
    clerk.post(f"{base}/finish", json={"delivered": ["4.4"]}, timeout=10).raise_for_status()
    requests.get(f"{live_center.url}/t/{tickets[0]}", timeout=10)

    families = scrape(live_center.url)
    display.close()

    assert samples(families, "dostq_tickets_issued_total", service="4.4") == [3]
    assert samples(families, "dostq_calls_total", service="4.4") == [1]
    assert samples(families, "dostq_wait_seconds_count", service="4.4") == [1]
    assert samples(families, "dostq_wait_seconds_bucket", service="4.4", le="+Inf") == [1]
    assert samples(families, "dostq_service_seconds_count", service="4.4") == [1]
    assert samples(families, "dostq_sockets_open", kind="display") == [1]
    assert samples(families, "dostq_sockets_held") == [1]  # the display
    assert samples(families, "dostq_sockets_limit") == [2000]
    assert "dostq_printer_state" in families and "dostq_serial_line_connected" in families
    assert samples(families, "dostq_hq_unsent_day_records") == [1]  # today, not yet at HQ
    # +Inf while none was taken; after the night's hour the server takes one as it starts.
    (age,) = samples(families, "dostq_backup_age_seconds")
    taken = list((live_center.data_dir / "backups").glob("dostq-*.db"))
    assert age == float("inf") if not taken else 0 <= age < 3600
    assert samples(families, "dostq_disk_free_bytes")[0] > 0
    assert len(samples(families, "dostq_build_info")) == 1
    routes = {
        s.labels["route"]
        for s in families["dostq_http_request_duration_seconds"].samples
        if s.name.endswith("_count")
    }
    assert {
        "/api/v1/tickets",
        "/t/<token>",
        "/api/v1/counters/<id:counter_id>/call-next",
    } <= routes
    scraped = requests.get(f"{live_center.url}/metrics", timeout=10).text
    assert not any(token in scraped for token in tickets)  # the rule is the label, not the path


def test_metrics_are_served_to_this_machine_or_to_the_token_only(app_center):
    app_center.app.config["METRICS_TOKEN"] = ""
    lan = {"REMOTE_ADDR": "192.168.1.20"}
    client = app_center.app.test_client()
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", environ_base=lan).status_code == 404

    from server.app import create_app

    data_dir = app_center.app.config["DATA_DIR"]
    app = create_app(
        {"DATA_DIR": str(data_dir), "METRICS_TOKEN": "scrape-me", "TESTING": True,
         "WORKER": "threads"}
    )  # fmt: skip
    lan_client = app.test_client()
    assert lan_client.get("/metrics", environ_base=lan).status_code == 404
    wrong = {"Authorization": "Bearer scrape-you"}
    assert lan_client.get("/metrics", environ_base=lan, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer scrape-me"}
    answer = lan_client.get("/metrics", environ_base=lan, headers=right)
    assert answer.status_code == 200 and b"dostq_tickets_issued" in answer.data


def test_hq_exposes_each_centers_backlog_and_last_sync(tmp_path):
    app = create_hq_app({"HQ_DATA_DIR": str(tmp_path / "hq"), "TESTING": True})
    store = app.extensions["dostq.hq_store"]
    with store.write() as conn:
        add_center(conn, "baku-1", "Bakı 1", "sealed", time.time())
        conn.execute("UPDATE centers SET pending = 12, last_sync_at = 1000 WHERE code = 'baku-1'")
    client = app.test_client()
    text = client.get("/metrics").get_data(as_text=True)
    promtool_accepts(text)
    families = {f.name: f for f in text_string_to_metric_families(text)}
    assert samples(families, "dostq_hq_center_unsent_day_records", center="baku-1") == [12]
    assert samples(families, "dostq_hq_center_last_sync_timestamp_seconds") == [1000]
    assert samples(families, "dostq_hq_centers") == [1]
    assert client.get("/healthz").get_json()["ok"] is True


def test_healthz_says_what_is_wrong_with_a_503(app_center, monkeypatch):
    client = app_center.app.test_client()
    body = client.get("/healthz").get_json()
    assert body["ok"] and body["database"] == "writable" and body["disk_free_mb"] > 0

    real = shutil.disk_usage
    monkeypatch.setattr(
        "server.web.health.shutil.disk_usage",
        lambda path: real(path)._replace(free=10 * 2**20),
    )
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.get_json()["problems"] == ["disk"] and answer.get_json()["disk_low"]

    monkeypatch.undo()
    app_center.app.extensions["dostq.center"].store.close()
    answer = client.get("/healthz")
    assert answer.status_code == 503 and answer.get_json()["problems"] == ["database"]


def test_made_up_methods_and_paths_never_grow_the_metrics(app_center, hq_client):
    # Any method token a client sends once became a label (20,000 grew the worker by 100 MB).
    for client in (app_center.app.test_client(), hq_client):
        for n in range(300):
            client.open(f"/nothing-{n}", method=f"M{n}X")
            client.open(f"/t/token-{n}", method="GET")
        text = client.get("/metrics").get_data(as_text=True)
        series = [
            line
            for line in text.splitlines()
            if line.startswith("dostq_http_request_duration_seconds_count")
        ]
        assert len(series) < 20, series
        assert 'method="other"' in text and "M1X" not in text
