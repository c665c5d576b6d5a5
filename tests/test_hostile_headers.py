"""Headers nobody sends by mistake get a clear 4xx, never a 500 (L3)."""

from server.hq_link import signing
from tests.conftest import center_app


def test_a_timestamp_past_any_clock_is_refused_not_a_500(hq_client):
    # 400 digits once reached a float comparison: OverflowError, 500, from anyone.
    for stamp in ("9" * 400, "-5", "1e9", "١٢٣", ""):
        refused = hq_client.post(
            "/hq/api/v1/records",
            data=b"{}",
            content_type="application/json",
            headers={signing.CENTER_HEADER: "baku-1", signing.TIMESTAMP_HEADER: stamp,
                     signing.SIGNATURE_HEADER: "x" * 64},
        )  # fmt: skip
        assert refused.status_code == 401, (stamp, refused.status_code)
        assert "whole number of seconds" in refused.get_json()["error"]["message"]


def test_over_https_a_referrer_with_a_broken_port_is_refused_not_a_500(tmp_path):
    app = center_app(tmp_path, TLS=True)
    client = app.test_client()
    https = {"base_url": "https://localhost:8443"}
    token = client.get("/api/v1/session", **https).get_json()["csrf_token"]
    for referrer in ("https://localhost:8443.evil.example/", "https://localhost:99999999/"):
        refused = client.post(
            "/api/v1/session", json={"username": "x", "password": "y"}, **https,
            headers={"X-CSRFToken": token, "Referer": referrer},
        )  # fmt: skip
        assert refused.status_code == 403, (referrer, refused.status_code)
        assert refused.get_json()["error"]["code"] == "csrf_failed"
    app.extensions["dostq.center"].store.close()


def test_over_https_the_device_cookie_is_host_prefixed_and_an_old_one_is_renewed(tmp_path):
    # The session cookie had the __Host- prefix over HTTPS, the device cookie did not (L7).
    from server.office import accounts

    app = center_app(tmp_path, TLS=True)
    store = app.extensions["dostq.center"].store
    with store.write() as conn:
        token = accounts.enrol_device(conn, "kiosk-9", "kiosk", 1.0)
    https = {"base_url": "https://localhost:8443"}
    client = app.test_client()
    page = client.get("/kiosk/enrol", **https).get_data(as_text=True)
    csrf = page.split('name="csrf_token" value="')[1].split('"')[0]
    enrolled = client.post("/kiosk/enrol", data={"csrf_token": csrf, "token": token}, **https,
                           headers={"Referer": "https://localhost:8443/kiosk/enrol"})  # fmt: skip
    cookie = enrolled.headers["Set-Cookie"]
    assert cookie.startswith("__Host-dostq_device=") and "Secure" in cookie and "Path=/" in cookie
    old = app.test_client()  # a kiosk enrolled before the prefix
    old.set_cookie("dostq_device", token, domain="localhost")
    state = old.get("/kiosk/state", **https)
    assert state.status_code == 200
    renewed = state.headers.getlist("Set-Cookie")
    assert any(c.startswith("__Host-dostq_device=") for c in renewed)
    assert any(c.startswith("dostq_device=;") for c in renewed)  # the plain one removed
    store.close()


def test_a_forwarded_address_counts_only_behind_a_declared_proxy(tmp_path):
    # Behind a proxy every client had the proxy's address: one booking bucket for the whole
    # country, and /metrics public to anyone through a proxy on the same host (M4).
    from hq.app import create_hq_app

    for hops, forwarded_metrics in ((0, 404), (1, 404)):  # relayed: never this machine's
        app = create_hq_app({"HQ_DATA_DIR": str(tmp_path / f"hq{hops}"), "TESTING": True,
                             "PROXY_HOPS": hops})  # fmt: skip
        client = app.test_client()
        far = {"X-Forwarded-For": "203.0.113.9"}
        assert client.get("/metrics", headers=far).status_code == forwarded_metrics
        seen = app.test_client().get("/metrics")  # the proxy itself, or this PC: always
        assert seen.status_code == 200
        app.extensions["dostq.hq_store"].close()
