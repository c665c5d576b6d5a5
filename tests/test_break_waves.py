"""Planned break waves: set at Admin → Counters, shown on the floor, refused in words."""

from datetime import datetime
from zoneinfo import ZoneInfo

from server.queue.storage import get_setting
from tests.conftest import T0, login

BAKU = ZoneInfo("Asia/Baku")


def post(client, path, data):
    return client.post(path, data=data, headers=client.csrf, follow_redirects=True)


def test_a_manager_plans_waves_and_the_floor_shows_who_goes_when(app_center):
    manager = app_center.app.test_client()
    manager.csrf = login(manager, "manager", "floor-boss-secret")
    # T0 is 06:13 in Baku: a wave at 07:00 for Masa 1 and 2, another at 12:30 for Masa 1.
    page = post(manager, "/manager/admin/break-waves",
                {"starts": "12:30", "minutes": "30", "counter": ["1"]})  # fmt: skip
    assert "12:30" in page.get_data(as_text=True)
    post(manager, "/manager/admin/break-waves",
         {"starts": "07:00", "minutes": "15", "counter": ["1", "2"]})  # fmt: skip
    center = app_center.app.extensions["dostq.center"]
    with center.store.read() as conn:
        stored = get_setting(conn, "break_waves", [])
    assert {w["starts"] for w in stored} == {"07:00", "12:30"}
    floor = manager.get("/manager/floor.json").get_json()
    by_name = {c["id"]: c["break_planned"] for c in floor["counters"]}
    seven = datetime.fromtimestamp(T0, BAKU).replace(hour=7, minute=0, second=0).timestamp()
    assert by_name[1] == [seven, seven + 15 * 60] and by_name[2] == [seven, seven + 15 * 60]
    assert by_name[3] is None
    # The page lists them in the day's order; the first (07:00) changed, then removed.
    post(manager, "/manager/admin/break-waves",
         {"position": "0", "starts": "07:30", "minutes": "15", "counter": ["2"]})  # fmt: skip
    with center.store.read() as conn:
        assert [w["starts"] for w in get_setting(conn, "break_waves", [])] == ["07:30", "12:30"]
    post(manager, "/manager/admin/break-waves/remove", {"position": "0"})
    with center.store.read() as conn:
        assert [w["starts"] for w in get_setting(conn, "break_waves", [])] == ["12:30"]
    assert 'id="break-waves"' in manager.get("/manager/admin/counters").get_data(as_text=True)


def test_a_wave_the_center_cannot_use_is_refused_in_words_and_nothing_is_stored(app_center):
    manager = app_center.app.test_client()
    manager.csrf = login(manager, "manager", "floor-boss-secret")
    for form, says in [
        ({"starts": "half past twelve", "minutes": "30", "counter": ["1"]}, "SS:DD"),
        ({"starts": "12:30", "minutes": "300", "counter": ["1"]}, "5-120"),
        ({"starts": "12:30", "minutes": "30"}, "masaları seçin"),
        ({"starts": "12:30", "minutes": "30", "counter": ["999"]}, "masaları seçin"),
        ({"position": "7", "starts": "12:30", "minutes": "30", "counter": ["1"]}, "yeniləyin"),
    ]:
        page = post(manager, "/manager/admin/break-waves", form)
        assert page.status_code == 200 and says in page.get_data(as_text=True), form
    assert "yeniləyin" in post(manager, "/manager/admin/break-waves/remove",
                               {"position": "0"}).get_data(as_text=True)  # fmt: skip
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        assert get_setting(conn, "break_waves", []) == []
    clerk = app_center.app.test_client()
    clerk.csrf = login(clerk, "clerk1", "masa-one-secret")
    refused = clerk.post("/manager/admin/break-waves", headers=clerk.csrf,
                         data={"starts": "12:30", "minutes": "30", "counter": ["1"]})  # fmt: skip
    assert refused.status_code in (302, 403)
