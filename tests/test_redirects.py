"""Where a sign-in or a language switch sends the browser: this server only, never a 500.

A browser drops tabs, CR and LF anywhere in a URL and reads a backslash as a slash, so each
``next`` below is another site (or a broken header) once the browser has read it.
"""

import re
import time

import pytest

from server.office import accounts

HOSTILE_NEXT = [
    "/\t/evil.example",
    "/\n/evil.example",
    "/\r\nSet-Cookie: stolen=1",
    "/\\evil.example",
    "\\\\evil.example",
    "//evil.example",
    "https://evil.example/",
    "/%09/evil.example",  # already decoded once by the server: stays a path of ours
]


def token_of(client, path):
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text).group(1)


def assert_stays_here(response, home):
    assert response.status_code in (302, 303), response.status_code
    location = response.headers["Location"]
    assert location == home or (location.startswith("/") and not location.startswith("//"))
    assert not any(ord(c) < 0x20 or c == "\\" for c in location)


def assert_sign_in_and_switch_stay_here(client, prefix, login, target, home):
    token = token_of(client, f"{prefix}/login")
    switched = client.post(f"{prefix}/language", data={"language": "en", "next": target},
                           headers={"X-CSRFToken": token})  # fmt: skip
    assert_stays_here(switched, "/")
    signed_in = client.post(f"{prefix}/login", query_string={"next": target}, data=login,
                            headers={"X-CSRFToken": token})  # fmt: skip
    assert_stays_here(signed_in, home)


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_the_centers_sign_in_and_language_switch_stay_on_this_server(app_center, target):
    manager = {"username": "manager", "password": "floor-boss-secret"}
    assert_sign_in_and_switch_stay_here(app_center.app.test_client(), "", manager, target, "/")


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_hqs_sign_in_and_language_switch_stay_on_this_server(hq_client, target):
    with hq_client.store.write() as conn:
        accounts.create_user(conn, "analyst", "hesabat-oxuyan-9", "manager", time.time())
    analyst = {"username": "analyst", "password": "hesabat-oxuyan-9"}
    assert_sign_in_and_switch_stay_here(hq_client, "/hq", analyst, target, "/hq/")
