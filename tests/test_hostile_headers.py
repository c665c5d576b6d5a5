"""Headers nobody sends by mistake get a clear 4xx, never a 500 (L3)."""

from server.hq_link import signing


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
    from server.app import create_app

    app = create_app({"DATA_DIR": str(tmp_path), "TESTING": True, "WORKER": "threads",
                      "TLS": True})  # fmt: skip
    app.extensions["dostq.day_closer"].stop()
    app.extensions["dostq.national_catalog"].stop()
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
