"""Sign-in throttling: waits that grow, a lock, per account and address, and an admin unlock."""

import threading

import pytest

from server.web.signin_guard import SignInGuard
from tests.conftest import FakeClock, login


def test_one_typo_is_free_then_each_failure_waits_longer_then_the_account_locks():
    clock = FakeClock(0)
    guard = SignInGuard(max_failures=5, lock_s=900, clock=clock)
    waits = []
    for _ in range(5):
        guard.failed("clerk1", "10.0.0.7")
        waits.append(guard.wait_s("clerk1", "10.0.0.9"))  # another PC: the account's wait
    assert waits == [0, 1, 2, 4, 900]
    clock.advance(899)
    assert guard.wait_s("clerk1", "10.0.0.9") == 1
    clock.advance(1)
    assert guard.wait_s("clerk1", "10.0.0.9") == 0
    assert guard.wait_s("clerk2", "10.0.0.9") == 0  # nobody else is held up


def test_an_address_trying_many_accounts_is_locked_and_success_clears_only_the_account():
    clock = FakeClock(0)
    guard = SignInGuard(max_failures=5, lock_s=900, clock=clock)
    for n in range(20):
        guard.failed(f"guess{n}", "10.0.0.66")
    assert guard.wait_s("someone-else", "10.0.0.66") == 900
    assert guard.wait_s("someone-else", "10.0.0.5") == 0
    guard.failed("clerk1", "10.0.0.5")
    guard.failed("clerk1", "10.0.0.5")
    guard.succeeded("clerk1")
    assert guard.wait_s("clerk1", "10.0.0.8") == 0


def test_at_most_the_allowed_number_of_passwords_are_hashed_at_once():
    guard = SignInGuard(max_parallel=1)
    entered = threading.Event()

    def second_attempt():
        with guard.hashing():
            entered.set()

    with guard.hashing():
        waiting = threading.Thread(target=second_attempt)
        waiting.start()
        assert not entered.wait(0.2)  # held back while the first hashes
    assert entered.wait(10)
    waiting.join()


@pytest.fixture
def guarded(app_center):
    guard = SignInGuard(max_failures=3, lock_s=900, clock=FakeClock(0))
    app_center.app.extensions["dostq.signin_guard"] = guard
    return app_center


def test_a_locked_account_is_refused_even_the_right_password_until_an_admin_unlocks(guarded):
    client = guarded.app.test_client()

    def sign_in(password):  # a fresh CSRF token each time, as the sign-in page gets
        csrf = client.get("/api/v1/session").get_json()["csrf_token"]
        return client.post(
            "/api/v1/session",
            json={"username": "clerk1", "password": password},
            headers={"X-CSRFToken": csrf},
        )

    assert [sign_in("wrong").status_code for _ in range(2)] == [401, 401]
    guarded.app.extensions["dostq.signin_guard"].clock.advance(5)  # past the short wait
    assert sign_in("wrong").status_code == 401  # the third: locked now
    refused = sign_in("masa-one-secret")
    assert refused.status_code == 429
    assert "try again in 15 min" in refused.get_json()["error"]["message"]
    manager = guarded.app.test_client()
    headers = login(manager, "manager", "floor-boss-secret")
    unlocked = manager.post(
        f"/manager/admin/users/{guarded.ids['clerk1']}/unlock", headers=headers,
        follow_redirects=True,
    )  # fmt: skip
    assert "clerk1 yenidən daxil ola bilər" in unlocked.get_data(as_text=True)
    assert sign_in("masa-one-secret").status_code == 200
    with guarded.app.extensions["dostq.center"].store.read() as conn:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions.count("login_failed") == 3 and "login_throttled" in actions
    assert "sign_in_unlocked" in actions and actions[-1] == "login"
