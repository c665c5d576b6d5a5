"""Manager pages through the app: who may see them, administration changes and their audit."""

import io
import json

import pytest

from server.queue.storage import get_setting
from tests.conftest import login

MANAGER_PAGES = [
    "/manager/",
    "/manager/floor.json",
    "/manager/report",
    "/manager/report.csv",
    "/manager/visits.xlsx",
    "/manager/admin/",
    "/manager/admin/counters",
    "/manager/admin/people",
    "/manager/admin/rules",
]


@pytest.fixture
def manager(app_center):
    client = app_center.app.test_client()
    client.csrf = login(client, "manager", "floor-boss-secret")
    return client


def test_every_staff_page_and_the_command_say_which_version_runs(app_center, manager):
    from click.testing import CliRunner

    from server import VERSION
    from server.cli import main

    for path in ("/manager/", "/manager/report", "/counter/"):
        assert f"dost-queue {VERSION}</" in manager.get(path).get_data(as_text=True), path
    assert CliRunner().invoke(main, ["--version"]).output == f"dostq {VERSION}\n"


@pytest.mark.parametrize(
    "path",
    [
        "/manager/admin/users/9223372036854775808",
        "/manager/admin/devices/99999999999999999999",
        "/manager/admin/counters/9223372036854775808",
        "/manager/assistance/9223372036854775808/resolve",
    ],
)
def test_an_id_past_sqlites_integers_matches_no_route(manager, path):
    # It once reached the database and overflowed (a 500 the fuzz tier found).
    assert manager.post(path, headers=manager.csrf).status_code == 404


def audit_actions(app_center):
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        return [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]


def read(app_center, sql, *args):
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        return conn.execute(sql, args).fetchall()


@pytest.mark.parametrize("path", MANAGER_PAGES)
def test_only_managers_and_admins_see_manager_pages(app_center, manager, path):
    assert manager.get(path).status_code == 200
    anonymous = app_center.app.test_client()
    assert anonymous.get(path).status_code in (302, 401)
    clerk = app_center.app.test_client()
    login(clerk, "clerk1", "masa-one-secret")
    assert clerk.get(path).status_code == 403


def test_a_change_without_the_csrf_token_is_refused(app_center, manager):
    response = manager.post("/manager/admin/areas/2", data={"letter": "Z", "name_az": "X"})
    assert response.status_code == 403
    assert read(app_center, "SELECT letter FROM areas WHERE code = '2'")[0][0] == "B"


def test_area_and_service_changes_apply_at_once_and_are_audited(app_center, manager):
    response = manager.post(
        "/manager/admin/services/2.1",
        data={"name_az": "Əmək müqaviləsi", "name_en": "Contracts", "target_minutes": "25",
              "active": "on"},
        headers=manager.csrf,
    )  # fmt: skip
    assert response.status_code == 302
    catalog = manager.get("/counter/catalog").get_json()
    service = next(s for a in catalog["areas"] for s in a["services"] if s["code"] == "2.1")
    assert service["target_minutes"] == 25 and service["name"]["en"] == "Contracts"
    assert "service_changed" in audit_actions(app_center)


def test_a_refused_change_says_why_and_keeps_what_was_stored(app_center, manager):
    response = manager.post(
        "/manager/admin/areas/2",
        data={"letter": "D", "name_az": "Əmək"},
        headers=manager.csrf,
        follow_redirects=True,
    )
    assert "D hərfi 4 sahəsinə verilib" in response.get_data(as_text=True)
    assert read(app_center, "SELECT letter FROM areas WHERE code = '2'")[0][0] == "B"
    assert "area_changed" not in audit_actions(app_center)


def test_catalog_import_upload_closes_what_it_does_not_list(app_center, manager):
    csv_text = (
        "area_code,area_letter,area_name_az,service_code,service_name_az,target_minutes\n"
        "2,B,Əmək münasibətləri,2.1,Əmək müqaviləsi,12\n"
    )
    shown = manager.post(
        "/manager/admin/catalog/import",
        data={"catalog": (io.BytesIO(csv_text.encode()), "full.csv")},
        headers=manager.csrf,
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    assert 'data-section="deactivated"' in shown and "(41)" in shown  # seen, not yet done
    assert 'name="force"' in shown
    assert read(app_center, "SELECT count(*) FROM services WHERE active = 1")[0][0] == 42
    confirm = {"filename": "full.csv", "catalog": csv_text}
    refused = manager.post(
        "/manager/admin/catalog/import/confirm", data=confirm, headers=manager.csrf,
        follow_redirects=True,
    )  # fmt: skip
    assert "42 açıq xidmətdən 41-ni bağlayır" in refused.get_data(as_text=True)
    done = manager.post(
        "/manager/admin/catalog/import/confirm", data={**confirm, "force": "1"},
        headers=manager.csrf, follow_redirects=True,
    )  # fmt: skip
    assert "sahələr 1, xidmətlər 1" in done.get_data(as_text=True)
    assert read(app_center, "SELECT count(*) FROM services WHERE active = 1")[0][0] == 1


def test_counter_services_and_categories_are_edited(app_center, manager):
    response = manager.post(
        "/manager/admin/counters/1",
        data={"zone": "hall2", "service": ["4.4", "6"], "weight_4.4": "2", "category": "elderly"},
        headers=manager.csrf,
    )
    assert response.status_code == 302
    served = read(
        app_center,
        "SELECT s.code, cs.weight FROM counter_services cs JOIN services s ON s.id = cs.service_id"
        " WHERE cs.counter_id = 1 ORDER BY s.code",
    )
    assert [tuple(r) for r in served] == [("4.4", 2.0), ("6", 1.0)]
    zone, categories = read(app_center, "SELECT zone, categories FROM counters WHERE id = 1")[0]
    assert (zone, json.loads(categories)) == ("hall2", ["elderly"])


def test_a_whole_area_is_served_in_one_tick_with_exceptions(app_center, manager):
    def served():
        rows = read(
            app_center,
            "SELECT s.code FROM counter_services cs JOIN services s ON s.id = cs.service_id"
            " WHERE cs.counter_id = 1 ORDER BY s.code",
        )
        return {r[0] for r in rows}

    pensions = {r[0] for r in read(
        app_center, "SELECT s.code FROM services s JOIN areas a ON a.id = s.area_id "
        "WHERE a.code = '5'",
    )}  # fmt: skip
    save = "/manager/admin/counters/1"
    form = {"zone": "main", "service": ["6"], "group": "area_5", "was_area_5": "0"}
    manager.post(save, data=form, headers=manager.csrf)
    assert served() == pensions | {"6"} and len(pensions) == 12
    # The area is ticked and was: each service's own box decides (5.x3 left out).
    kept = sorted(pensions - {"5.x3"})
    manager.post(save, data={**form, "service": ["6", *kept], "was_area_5": "1"},
                 headers=manager.csrf)  # fmt: skip
    assert served() == set(kept) | {"6"}
    manager.post(
        save,
        data={"zone": "main", "service": ["6", *kept], "was_area_5": "1"},
        headers=manager.csrf,
    )  # fmt: skip  (unticked: the whole area goes)
    assert served() == {"6"}
    page = manager.get("/manager/admin/counters").get_data(as_text=True)
    assert 'aria-label="Bütün sahə: Əmək pensiyası və sosial müavinətlər"' in page


def test_a_manager_cannot_make_an_admin(app_center, manager):
    response = manager.post(
        "/manager/admin/users",
        data={"username": "boss", "role": "admin", "password": "long-enough-pass"},
        headers=manager.csrf,
        follow_redirects=True,
    )
    assert "Bunu yalnız admin edə bilər" in response.get_data(as_text=True)
    assert read(app_center, "SELECT count(*) FROM users WHERE username = 'boss'")[0][0] == 0


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("elevenchars", "ən azı 12 simvol"),  # the admin's page is in Azerbaijani
        ("1qaz2wsx3edc", "ən çox işlədilənlərdəndir"),
        ("new-clerk1-pw", "istifadəçi adı olmamalıdır"),
    ],
)
def test_a_reset_to_a_weak_password_is_refused_and_the_old_one_kept(
    app_center, manager, password, why
):
    response = manager.post(
        f"/manager/admin/users/{app_center.ids['clerk1']}/password",
        data={"password": password},
        headers=manager.csrf,
        follow_redirects=True,
    )
    assert why in response.get_data(as_text=True)
    clerk = app_center.app.test_client()
    login(clerk, "clerk1", "masa-one-secret")
    assert clerk.get("/counter/").status_code == 200


def test_disabling_a_clerk_ends_their_session(app_center, manager):
    clerk = app_center.app.test_client()
    login(clerk, "clerk1", "masa-one-secret")
    assert clerk.get("/counter/").status_code == 200
    manager.post(
        f"/manager/admin/users/{app_center.ids['clerk1']}",
        data={"display_name": "Clerk One", "role": "clerk"},  # "active" unticked
        headers=manager.csrf,
    )
    assert clerk.get("/counter/").status_code == 302
    assert "user_changed" in audit_actions(app_center)


def test_enrolled_device_token_is_shown_once_and_works(app_center, manager):
    response = manager.post(
        "/manager/admin/devices",
        data={"name": "kiosk-9", "kind": "kiosk", "print_mode": "text"},
        headers=manager.csrf,
    )
    page = response.get_data(as_text=True)
    token = page.split('id="device-token">')[1].split("<")[0]
    device = app_center.app.test_client()
    issued = device.post(
        "/api/v1/tickets", json={"service": "2.1"}, headers={"Authorization": f"Device {token}"}
    )
    assert issued.status_code == 201
    logged = read(app_center, "SELECT detail FROM audit_log WHERE action = 'device_enrolled'")
    assert logged and all(token not in (row[0] or "") for row in logged)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("printer", "usb:dostq.db", "usb:/dev/usb/lpN"),
        ("printer", "virtual:../..", "inside the data folder"),
        ("profile", "TM-NOSUCH", "Known models"),
    ],
)
def test_enrolment_refuses_a_printer_that_is_not_one(app_center, manager, field, value, says):
    form = {"name": "kiosk-9", "kind": "kiosk", "printer": "tcp://10.0.0.21", "profile": "RP326"}
    response = manager.post(
        "/manager/admin/devices", data={**form, field: value}, headers=manager.csrf,
        follow_redirects=True,
    )  # fmt: skip
    assert says in response.get_data(as_text=True)
    assert not read(app_center, "SELECT 1 FROM devices WHERE name = 'kiosk-9'")


def test_rules_apply_without_a_restart(app_center, manager):
    for path, data in [
        ("/manager/admin/fairness", {"priority_streak_limit": "3", "overdue_minutes": "30"}),
        ("/manager/admin/service-level", {"target_minutes": "15", "goal_percent": "85"}),
        ("/manager/admin/notice", {"notice_az": "Bu gün 18:00-a qədər", "notice_en": ""}),
        ("/manager/admin/categories", {"code": "pregnant", "name_az": "Hamilə", "active": "on"}),
    ]:
        assert manager.post(path, data=data, headers=manager.csrf).status_code == 302
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        assert get_setting(conn, "fairness", {}) == {
            "priority_streak_limit": 3,
            "overdue_after_s": 1800,
        }
        assert get_setting(conn, "notices", {}) == {"az": "Bu gün 18:00-a qədər"}
    assert manager.get("/manager/report").status_code == 200
    catalog = manager.get("/counter/catalog").get_json()
    assert "pregnant" in [c["code"] for c in catalog["priority_categories"]]
    bad = manager.post(
        "/manager/admin/fairness",
        data={"priority_streak_limit": "many", "overdue_minutes": "30"},
        headers=manager.csrf,
        follow_redirects=True,
    )
    assert "Tam ədəd yazın" in bad.get_data(as_text=True)


def test_assistance_request_stays_on_the_floor_until_answered(app_center, manager):
    kiosk = app_center.app.test_client()
    auth = {"Authorization": f"Device {app_center.kiosk_token}"}
    assert kiosk.post("/api/v1/assistance", headers=auth).status_code == 202
    (help_request,) = manager.get("/manager/floor.json").get_json()["assistance"]
    assert help_request["device"] == "kiosk-1"
    path = f"/manager/assistance/{help_request['id']}/resolve"
    assert manager.post(path, headers=manager.csrf).status_code == 200
    assert manager.get("/manager/floor.json").get_json()["assistance"] == []
    assert manager.post(path, headers=manager.csrf).status_code == 404


def test_a_replaced_token_works_and_the_old_one_stops_at_once(app_center, manager):
    old = {"Authorization": f"Device {app_center.kiosk_token}"}
    device = app_center.app.test_client()
    assert device.post("/api/v1/tickets", json={"service": "2.1"}, headers=old).status_code == 201
    (device_id,) = read(app_center, "SELECT id FROM devices WHERE name = 'kiosk-1'")[0]
    page = manager.post(f"/manager/admin/devices/{device_id}/token", headers=manager.csrf)
    token = page.get_data(as_text=True).split('id="device-token">')[1].split("<")[0]
    new = {"Authorization": f"Device {token}"}
    assert device.post("/api/v1/tickets", json={"service": "2.1"}, headers=old).status_code == 401
    assert device.post("/api/v1/tickets", json={"service": "2.1"}, headers=new).status_code == 201
    renamed = manager.post(
        f"/manager/admin/devices/{device_id}",
        data={"name": "display-1", "zone": "", "active": "on"},  # taken by the display
        headers=manager.csrf,
        follow_redirects=True,
    )
    assert "«display-1» adlı cihaz artıq var" in renamed.get_data(as_text=True)
    assert "device_token_replaced" in audit_actions(app_center)


def test_the_floor_alerts_a_wait_past_its_target_and_a_counter_idle_while_people_wait(
    app_center, manager
):
    kiosk = {"Authorization": f"Device {app_center.kiosk_token}"}
    device = app_center.app.test_client()
    for service in ("2.1", "6"):
        body = {"service": service, "print": False}
        assert device.post("/api/v1/tickets", json=body, headers=kiosk).status_code == 201
    clerk = app_center.app.test_client()
    headers = login(clerk, "clerk2", "masa-two-secret")
    assert clerk.post("/api/v1/counters/2/session", headers=headers).status_code == 200
    assert manager.get("/manager/floor.json").get_json()["alerts"] == []  # all just happened
    app_center.clock.advance(9 * 60)  # 2.1 and 6 have an 8-minute target
    alerts = manager.get("/manager/floor.json").get_json()["alerts"]
    assert sorted(a["service"] for a in alerts if a["kind"] == "wait_over_target") == ["2.1", "6"]
    (idle,) = [a for a in alerts if a["kind"] == "counter_idle"]
    # Masa 2 serves 2.1 (one waits); counters 1 and 3 are closed, so not idle.
    assert idle["counter_id"] == 2 and idle["waiting"] == 1
    assert idle["counter"] == "Masa 2"
    assert clerk.post("/api/v1/counters/2/call-next", headers=headers).status_code == 200
    alerts = manager.get("/manager/floor.json").get_json()["alerts"]
    assert [a["service"] for a in alerts] == ["6"]  # 2.1 was called; nobody else idles


def test_the_floor_shows_kiosk_screens_with_their_last_sign_of_life(app_center, manager):
    socketio = app_center.app.extensions["socketio"]
    kiosk = socketio.test_client(app_center.app, auth={"device_token": app_center.kiosk_token})
    assert kiosk.is_connected()
    (screen,) = manager.get("/manager/floor.json").get_json()["kiosks"]
    assert screen["online"] and screen["last_seen_at"] == app_center.clock.now
    app_center.clock.advance(60)
    kiosk.disconnect()
    (screen,) = manager.get("/manager/floor.json").get_json()["kiosks"]
    # Gone, its last sign of life kept: the floor alerts a kiosk screen that went away.
    assert not screen["online"] and screen["last_seen_at"] == app_center.clock.now
