"""The sync in one process: the outbox, signatures, HQ refusals and its newest-wins rule."""

import json
import time

import pytest

from hq.app import create_hq_app
from hq.storage import add_center
from server.hq_link import signing, sync, worker
from server.queue.visits import issue_ticket
from tests.conftest import KEY

PATH = "/hq/api/v1/records"


def record(day="2026-03-02", revision=1, visits=10):
    totals = {"visits": visits, "served": visits - 1, "no_show": 1, "transferred": 0,
              "priority": 1, "called": visits, "within_target": visits,
              "wait_mean_s": 300.0, "service_mean_s": 600.0}  # fmt: skip
    return {"day": day, "revision": revision, "final": True, "totals": totals,
            "hours": [{"hour": 9, "arrived": visits, "served": visits - 1}]}  # fmt: skip


def post(client, records, key=KEY, center="baku-1", at=None, body=None, signature=None):
    body = (
        body
        if body is not None
        else json.dumps({"center": center, "pending": 0, "records": records}).encode()
    )
    headers = signing.signed_headers(key, center, int(at or time.time()), "POST", PATH, body)
    if signature:
        headers[signing.SIGNATURE_HEADER] = signature
    return client.post(PATH, data=body, headers=headers, content_type="application/json")


def stored(client):
    with client.store.read() as conn:
        rows = conn.execute("SELECT day, revision, visits FROM day_records ORDER BY day")
        return [tuple(r) for r in rows]


def test_newest_revision_wins_whatever_the_order(hq_client):
    assert post(hq_client, [record(revision=2, visits=12)]).get_json() == {"applied": 1, "stale": 0}
    assert post(hq_client, [record(revision=1, visits=10)]).get_json() == {"applied": 0, "stale": 1}
    # A resend is a new request: a new timestamp, so a new signature (not a replay).
    resent = post(hq_client, [record(revision=2, visits=12)], at=time.time() + 1)
    assert resent.get_json() == {"applied": 0, "stale": 1}
    assert post(hq_client, [record(revision=3, visits=13)]).get_json() == {"applied": 1, "stale": 0}
    assert stored(hq_client) == [("2026-03-02", 3, 13)]


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"key": "wrong" * 9}, 401, "bad_signature"),
        ({"center": "nowhere"}, 401, "unknown_center"),
        ({"at": time.time() - 3600}, 401, "bad_signature"),
        ({"signature": "0" * 64}, 401, "bad_signature"),
        ({"body": b"{not json"}, 422, "not_json"),
        ({"body": b"[" * 100_000 + b"]" * 100_000}, 422, "not_json"),  # was a 500
        ({"body": b'{"center": "baku-1\\ud800", "pending": 0, "records": []}'}, 422,
         "not_json"),  # a lone surrogate: was a 500
        ({"body": json.dumps({"center": "baku-1", "pending": 0,
                              "records": [{"day": "today"}]}).encode()}, 422, "bad_batch"),
    ],
)  # fmt: skip
def test_bad_requests_get_a_clear_4xx_and_change_nothing(hq_client, change, status, code):
    response = post(hq_client, [record()], **change)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert stored(hq_client) == []


def changed(path, value):
    """A batch of one good record with the field at ``path`` (a/b/0/c) set to ``value``."""
    records = [record()]
    target = records[0]
    *parents, last = path.split("/")
    for part in parents:
        target = target[int(part) if part.isdigit() else part]
    target[int(last) if last.isdigit() else last] = value
    return json.dumps({"center": "baku-1", "pending": 0, "records": records}).encode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (changed("totals/visits", 2**63), "records/0/totals/visits"),  # was a 500
        (changed("totals/visits", 2**53 + 1), "records/0/totals/visits"),
        (changed("revision", -1), "records/0/revision"),
        (changed("totals/wait_mean_s", "long"), "records/0/totals/wait_mean_s"),  # was a 500
        (changed("totals/service_mean_s", -5.0), "records/0/totals/service_mean_s"),
        (changed("hours/0/hour", 24), "records/0/hours/0/hour"),
        (changed("hours", [{"hour": 9, "arrived": 1, "served": 0}] * 2), "records/0"),  # a 500
        (changed("day", "9999-99-99"), "records/0/day"),
        (changed("day", "2026-02-30"), "records/0/day"),
        (changed("day", "1200-01-01"), "records/0"),
        (changed("totals/served", 11), "records/0/totals/served"),
        (changed("totals/called", 5), "records/0/totals/within_target"),
        (json.dumps({"center": "baku-1", "pending": 0,
                     "records": [record(), record(revision=2)]}).encode(), "records/1"),
    ],
)  # fmt: skip
def test_a_signed_batch_no_center_could_send_is_refused_naming_the_place(hq_client, body, field):
    response = post(hq_client, [], body=body)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "bad_batch"
    if field:
        assert error["field"] == field
    assert stored(hq_client) == []


def test_a_refusal_never_echoes_a_large_body(hq_client):
    body = changed("day", "x" * 1_000_000)
    response = post(hq_client, [], body=body)
    assert response.status_code == 422 and len(response.data) < 1000


def test_a_replayed_request_is_refused(hq_client):
    body = json.dumps({"center": "baku-1", "pending": 0, "records": [record()]}).encode()
    headers = signing.signed_headers(KEY, "baku-1", int(time.time()), "POST", PATH, body)
    first = hq_client.post(PATH, data=body, headers=headers, content_type="application/json")
    again = hq_client.post(PATH, data=body, headers=headers, content_type="application/json")
    assert (first.status_code, again.status_code) == (200, 409)
    assert again.get_json()["error"]["code"] == "replayed"


def test_an_altered_body_is_refused(hq_client):
    body = json.dumps({"center": "baku-1", "pending": 0, "records": [record()]}).encode()
    headers = signing.signed_headers(KEY, "baku-1", int(time.time()), "POST", PATH, body)
    altered = body.replace(b'"visits": 10', b'"visits": 99')
    response = hq_client.post(PATH, data=altered, headers=headers, content_type="application/json")
    assert response.status_code == 401 and stored(hq_client) == []


def test_an_oversized_request_is_refused(tmp_path):
    app = create_hq_app({"HQ_DATA_DIR": str(tmp_path), "HQ_MAX_BATCH_BYTES": 1000})
    response = app.test_client().post(PATH, data=b"x" * 2000, content_type="application/json")
    assert response.status_code == 413 and response.get_json()["error"]["code"]


def test_any_change_to_a_day_marks_it_for_hq_in_the_same_transaction(center, clock):
    day = center.day(clock.now)
    with center.store.read() as conn:
        assert sync.pending_days(conn) == []
    issue_ticket(center, "2.1", device=None)
    issue_ticket(center, "2.1", device=None)
    with center.store.read() as conn:
        assert sync.pending_days(conn) == [(day, 2)]
        built = sync.day_record(center, conn, day, 2)
    assert built["totals"]["visits"] == 2 and not built["final"]
    assert "clerks" not in built and "B-001" not in json.dumps(built)  # nothing personal
    with center.store.write() as conn:
        conn.execute("UPDATE hq_outbox SET sent_revision = 2")
    issue_ticket(center, "2.1", device=None)
    with center.store.read() as conn:
        assert sync.pending_days(conn) == [(day, 3)]


def test_retries_back_off_with_jitter_up_to_a_ceiling(center, tmp_path):
    sender = worker.SyncWorker(center, tmp_path, retry_max_s=60, jitter=lambda: 1.0)
    assert [sender.next_delay(n) for n in (1, 2, 3, 10, 50)] == [2.0, 4.0, 8.0, 60.0, 60.0]
    low = worker.SyncWorker(center, tmp_path, retry_max_s=60, jitter=lambda: 0.0)
    assert low.next_delay(3) == 4.0  # never less than half the doubling


def test_a_day_is_sent_again_as_final_once_it_has_ended(center, clock):
    issue_ticket(center, "2.1", device=None)
    day = center.day(clock.now)
    with center.store.write() as conn:
        conn.execute("UPDATE hq_outbox SET sent_revision = revision")
        assert sync.close_past_days(conn, day) == 0  # the day is still on
    clock.advance(24 * 3600)
    with center.store.write() as conn:
        assert sync.close_past_days(conn, center.day(clock.now)) == 1
        assert sync.close_past_days(conn, center.day(clock.now)) == 0  # once per day
        ((pending_day, revision),) = sync.pending_days(conn)
        assert pending_day == day and sync.day_record(center, conn, day, revision)["final"]


def test_hq_sign_in_is_audited_like_the_centers(hq_client):
    import re

    from server.office import accounts

    with hq_client.store.write() as conn:
        accounts.create_user(conn, "analyst", "hq-reader-secret-1", "manager", time.time())

    def sign_in(password):
        page = hq_client.get("/hq/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        form = {"username": "analyst", "password": password, "csrf_token": token}
        return hq_client.post("/hq/login", data=form)

    assert sign_in("wrong-password").status_code == 200  # the form again, with the message
    assert sign_in("hq-reader-secret-1").status_code == 302
    with hq_client.store.read() as conn:
        rows = conn.execute("SELECT action, detail FROM audit_log ORDER BY id").fetchall()
    assert [r["action"] for r in rows] == ["login_failed", "login"]
    assert all(json.loads(r["detail"]) == {"username": "analyst"} for r in rows)
    # The sign-in page again while signed in: on to the dashboard (it was a 500, BuildError).
    again = hq_client.get("/hq/login")
    assert again.status_code == 302 and again.headers["Location"].endswith("/hq/")


def test_center_keys_are_sealed_at_rest_under_a_key_file_apart_from_the_database(tmp_path, caplog):
    from hq.schema import HQ_MIGRATIONS
    from server.queue.storage import Store

    folder = tmp_path / "hq"
    with Store(folder / "hq.db", HQ_MIGRATIONS).write() as conn:  # a key from before sealing
        add_center(conn, "baku-1", "Bakı 1", KEY, time.time())
    app = create_hq_app({"HQ_DATA_DIR": str(folder), "TESTING": True})
    client = app.test_client()
    client.store = app.extensions["dostq.hq_store"]
    assert post(client, [record()]).status_code == 200  # still verifies
    with client.store.read() as conn:
        (stored,) = conn.execute("SELECT key FROM centers").fetchone()
    assert stored.startswith("fernet:") and KEY not in stored
    client.store.close()  # checkpointed: every byte of the database is in hq.db
    assert KEY.encode() not in (folder / "hq.db").read_bytes()
    assert (folder / "center_keys.key").stat().st_mode & 0o777 == 0o600

    # A key file that is not the one the keys were sealed under: a clear 503, never a 500.
    (folder / "center_keys.key").unlink()
    other = create_hq_app({"HQ_DATA_DIR": str(folder), "TESTING": True}).test_client()
    refused = post(other, [record()], at=time.time() + 1)
    assert refused.status_code == 503
    assert refused.get_json()["error"]["code"] == "key_file_mismatch"
    # HQ's own log says it too (it said nothing, and the center only saw a 503).
    assert "Refused /hq/api/v1/records from 'baku-1': HQ cannot open this center's key" in (
        caplog.text
    )


def test_hqs_export_gives_a_centers_last_sync_as_a_local_time(hq_client):
    import csv
    import io
    import re

    from server.office import accounts

    with hq_client.store.write() as conn:
        accounts.create_user(conn, "analyst", "hq-reader-secret-1", "manager", time.time())
        conn.execute("UPDATE centers SET last_sync_at = 1795400000 WHERE code = 'baku-1'")
    page = hq_client.get("/hq/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    hq_client.post("/hq/login", data={"username": "analyst", "password": "hq-reader-secret-1",
                                      "csrf_token": token})  # fmt: skip
    export = hq_client.get("/hq/centers.csv?from=2026-11-01&to=2026-11-30")
    (row,) = csv.DictReader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff")))
    assert row["last_sync_at"] == "2026-11-23T06:13:20+04:00"  # was 1795400000.0
