"""HTTPS as a center runs it: `dostq cert`, then `dostq serve` picks the certificate up."""

import pytest
import requests

from tests.live import start_live_center

pytestmark = pytest.mark.live


def test_https_center_sets_a_secure_host_prefixed_cookie(tmp_path):
    live = start_live_center(tmp_path / "center", tls=True)
    try:
        cert = str(live.data_dir / "tls" / "cert.pem")
        http = requests.Session()  # verify per request: REQUESTS_CA_BUNDLE would override
        csrf = http.get(f"{live.url}/api/v1/session", timeout=10, verify=cert).json()["csrf_token"]
        login = {"username": "clerk1", "password": "demo-counter-1"}
        # Over HTTPS the CSRF check also wants a same-origin Referer, as a browser sends.
        refused = http.post(
            f"{live.url}/api/v1/session",
            headers={"X-CSRFToken": csrf},
            json=login,
            timeout=10,
            verify=cert,
        )
        assert refused.status_code == 403 and "referrer" in refused.json()["error"]["message"]
        response = http.post(
            f"{live.url}/api/v1/session",
            json=login,
            timeout=10,
            verify=cert,
            headers={"X-CSRFToken": csrf, "Referer": f"{live.url}/login"},
        )
        assert response.status_code == 200
        cookie = response.headers["Set-Cookie"]
        assert cookie.startswith("__Host-dostq=")
        assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    finally:
        live.process.terminate()
        live.process.wait(timeout=10)
