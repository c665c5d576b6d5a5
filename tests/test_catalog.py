"""Catalog import: the shipped DOST catalog, canonical JSON, CSV, and bad input."""

import json

import pytest

from server.office.catalog import import_catalog, read_catalog
from server.office.catalog_files import default_catalog_path, load_catalog, parse_catalog
from server.queue.errors import Invalid
from tests.conftest import login

AZ_LETTERS = "əƏğĞıIİiöÖüÜşŞçÇ"


def test_shipped_catalog_has_all_fourteen_areas_with_unique_letters():
    areas = load_catalog(default_catalog_path())
    assert len(areas) == 14
    assert [a.letter for a in areas] == list("ABCDEFGHIJKLMN")
    assert sum(len(a.services) for a in areas) == 42
    assert areas[3].name["az"] == "Məşğulluq"


def test_shipped_catalog_names_every_service_in_three_languages_with_its_source():
    raw = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    for area in raw["areas"]:
        assert set(area["name"]) == {"az", "ru", "en"}
        for service in area["services"]:
            names = service["name"]
            assert set(names) == {"az", "ru", "en"} and all(names.values()), service["code"]
            assert service["source"].startswith("http"), service["code"]
            assert set(service["translated"]) <= {"az", "ru", "en"}
            # No placeholder, no English in the Azerbaijani name, no Latin in the Russian one.
            assert not any(w in names["az"] for w in ("Xidmət ", "Service ", " the ", " of "))
            assert not any("a" <= c.lower() <= "z" for c in names["ru"]), service["code"]
            assert not names["en"].endswith((" cen", "(translation)")), service["code"]
    codes = [s["code"] for a in raw["areas"] for s in a["services"]]
    assert "4.2" not in codes and "3.8" not in codes  # known only by their number: left out


def test_shipped_catalog_keeps_passport_standard_minutes():
    services = {s.code: s for a in load_catalog(default_catalog_path()) for s in a.services}
    assert services["4.4"].target_minutes == 15
    assert services["4.7"].target_minutes == 20


def test_area_without_services_is_offered_as_one_service_of_its_name():
    area = next(a for a in load_catalog(default_catalog_path()) if a.code == "8")
    assert [s.name["az"] for s in area.services] == [area.name["az"]]


def test_canonical_json_round_trips_azerbaijani_letters(center):
    catalog = {
        "areas": [
            {
                "code": "emp",
                "letter": "E",
                "name": {"az": f"Məşğulluq {AZ_LETTERS}"},
                "services": [
                    {
                        "code": "e1",
                        "name": {"az": "İşsizlik", "ru": "Безработица", "en": "Unemployment"},
                        "target_minutes": 12,
                    }
                ],
            }
        ]
    }
    with center.store.write() as conn:
        import_catalog(conn, parse_catalog(catalog), force=True)
    with center.store.read() as conn:
        areas = read_catalog(conn)["areas"]
    assert [a["code"] for a in areas] == ["emp"]
    assert areas[0]["name"]["az"].endswith(AZ_LETTERS)
    assert areas[0]["services"][0]["name"] == {
        "az": "İşsizlik",
        "ru": "Безработица",
        "en": "Unemployment",
    }


def test_csv_import_and_reimport_deactivates_what_was_dropped(center, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(
        "area_code,area_letter,area_name_az,area_name_ru,area_name_en,service_code,"
        "service_name_az,service_name_ru,service_name_en,target_minutes\n"
        "p,P,Pensiya,Пенсия,Pensions,p1,Yaşa görə pensiya,,Old-age pension,25\n"
        "p,P,Pensiya,Пенсия,Pensions,p2,Əlillik pensiyası,,,\n",
        encoding="utf-8",
    )
    with center.store.write() as conn:
        import_catalog(conn, load_catalog(path), force=True)  # it closes every shipped service
    with center.store.read() as conn:
        services = read_catalog(conn)["areas"][0]["services"]
        old = conn.execute("SELECT active FROM services WHERE code = '2.1'").fetchone()[0]
    assert [(s["code"], s["target_minutes"]) for s in services] == [("p1", 25), ("p2", 8)]
    assert old == 0  # dropped from the catalog, kept for history


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        ({"areas": []}, "no service areas"),
        (
            {
                "areas": [
                    {
                        "code": "a",
                        "letter": "AB",
                        "name": {"az": "x"},
                        "services": [{"code": "s", "name": {"az": "y"}}],
                    }
                ]
            },
            "letter must be one of A-Z",
        ),  # fmt: skip
        (
            {
                "areas": [
                    {
                        "code": "a",
                        "letter": "A",
                        "name": {"az": "x"},
                        "services": [{"code": "s", "name": {"az": "y"}}],
                    },
                    {
                        "code": "b",
                        "letter": "A",
                        "name": {"az": "z"},
                        "services": [{"code": "t", "name": {"az": "y"}}],
                    },
                ]
            },
            "letter A is area a's too",
        ),
        (
            {"areas": [{"code": "a", "letter": "A", "name": {}, "services": [{"code": "s"}]}]},
            r"areas\[0\].name.az: the Azerbaijani name is required",
        ),
        ({"areas": [{"code": "1"}]}, r"areas\[0\]: 'services' must be a non-empty list"),
        (
            {"areas": [{"code": "a", "letter": "A", "name": {"az": "x"}, "services": {}}]},
            "'services' must be a non-empty list",
        ),
        (
            {
                "areas": [
                    {
                        "code": "a",
                        "letter": "A",
                        "name": {"az": "x"},
                        "services": [{"code": "s", "name": {"az": "y"}, "documents": 5}],
                    }
                ]
            },
            r"areas\[0\].services\[0\].documents: must map languages",
        ),  # fmt: skip
        ({"areas": [None]}, r"areas\[0\]: an area is an object"),
        (
            {
                "areas": [
                    {
                        "code": "a",
                        "letter": "A",
                        "name": {"az": "x"},
                        "services": [{"code": "s", "name": {"az": "y"}, "target_minutes": 0}],
                    }
                ]
            },
            "1 to 240 minutes",
        ),
        ([], "list of 'areas'"),
        (
            {
                "areas": [
                    {
                        "code": "a",
                        "letter": "A",
                        "name": {"az": "x"},
                        "services": [
                            {"code": "s1", "name": {"az": "Pensiya"}},
                            {"code": "s2", "name": {"az": " pensiya "}},
                        ],
                    }
                ]
            },
            "Service s2: its az name is service s1's too",
        ),  # fmt: skip  (two buttons a visitor could not tell apart)
    ],
)
def test_bad_catalog_is_refused_with_a_message(catalog, message, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(catalog))
    with pytest.raises(Invalid, match=message):
        load_catalog(path)


def small_catalog(*codes):
    return {
        "areas": [
            {
                "code": "4",
                "letter": "D",
                "name": {"az": "Məşğulluq"},
                "services": [{"code": c, "name": {"az": f"Xidmət adı {c}"}} for c in codes],
            }
        ]
    }


def test_malformed_import_changes_nothing(center, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"areas": [{"code": "1"}]}))
    with center.store.read() as conn:
        before = read_catalog(conn)
    with pytest.raises(Invalid) as refused:
        with center.store.write() as conn:
            import_catalog(conn, load_catalog(path))
    assert refused.value.field == "services"
    with center.store.read() as conn:
        assert read_catalog(conn) == before


def test_import_that_closes_most_services_needs_force(center):
    with center.store.write() as conn:
        with pytest.raises(Invalid, match="would close 41 of the 42 open services"):
            import_catalog(conn, parse_catalog(small_catalog("4.4")))
    with center.store.read() as conn:
        assert len([s for a in read_catalog(conn)["areas"] for s in a["services"]]) == 42
    with center.store.write() as conn:
        done = import_catalog(conn, parse_catalog(small_catalog("4.4")), force=True)
    assert len(done.deactivated) == 41 and done.services == 1


def test_change_lists_added_renamed_deactivated_reactivated_and_offered(center):
    raw = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    employment = raw["areas"][3]
    employment["services"][0]["name"]["az"] = "Yeni ad"
    employment["services"].append({"code": "4.99", "name": {"az": "Yeni xidmət"}})
    raw["areas"][1]["services"].pop()  # 2.5 dropped
    with center.store.write() as conn:
        done = import_catalog(conn, parse_catalog(raw))
    assert done.added == ["4.99 Yeni xidmət"]
    assert done.renamed[0].startswith("4.1: İşçilərin") and done.renamed[0].endswith("-> Yeni ad")
    assert [line.split()[0] for line in done.deactivated] == ["2.5"]
    assert done.offered == ["4.99 -> Masa 2"]  # the counter serving 4.4 serves the area
    with center.store.read() as conn:
        served = conn.execute(
            "SELECT c.name FROM counter_services cs JOIN counters c ON c.id = cs.counter_id "
            "JOIN services s ON s.id = cs.service_id WHERE s.code = '4.99'"
        ).fetchall()
    assert [r[0] for r in served] == ["Masa 2"]
    raw["areas"][1]["services"].append({"code": "2.5", "name": {"az": "Təlim kursları"}})
    with center.store.write() as conn:
        again = import_catalog(conn, parse_catalog(raw))
    assert [line.split()[0] for line in again.reactivated] == ["2.5"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (  # a misspelt column would import as silently empty names
            "area_code,area_letter,area_name_az,service_code,service_name_az,service_nmae_ru\n"
            "1,A,Arayışlar,1.1,Arayış,Справка\n",
            "unknown columns: service_nmae_ru",
        ),
        (
            "area_code,area_letter,area_name_az,service_code,service_name_az,target_minutes\n"
            "1,A,Arayışlar,1.1,Arayış,15\n1,A,Arayışlar,1.2,,15\n",
            "CSV line 3, service_name.az: the Azerbaijani name",
        ),
    ],
)
def test_a_bad_csv_is_refused_naming_the_line_and_column(tmp_path, text, message):
    path = tmp_path / "catalog.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(Invalid, match=message):
        load_catalog(path)


@pytest.mark.parametrize("control", ["\x1b@", "\x1dV\x00", "\x10\x14\x01", "\t", "\x85"])
def test_a_name_with_a_control_character_is_refused_where_it_is(control):
    data = {"areas": [{"code": "1", "letter": "A", "name": {"az": f"Arayış{control}"},
                       "services": [{"code": "1.1", "name": {"az": "Arayış"}}]}]}  # fmt: skip
    with pytest.raises(Invalid) as refused:
        parse_catalog(data)
    assert "areas[0].name.az" in refused.value.message and "control" in refused.value.message


@pytest.mark.parametrize(
    ("path", "form"),
    [
        ("/manager/admin/areas/1", {"letter": "A", "name_az": "Arayış\x1b@", "active": "1"}),
        ("/manager/admin/notice", {"notice_az": "Bu gün\x1dV\x00 bağlıyıq"}),
        ("/manager/admin/counters", {"name": "Masa\x109", "zone": "main", "service": "2.1"}),
    ],
)
def test_the_admin_pages_refuse_a_control_character_in_the_users_language(app_center, path, form):
    client = app_center.app.test_client()
    csrf = login(client, "manager", "floor-boss-secret")
    page = client.post(path, data=form, headers=csrf, follow_redirects=True)
    assert page.status_code == 200
    # The flash, not the page's own catalog of texts (which holds every message).
    assert "Dəyişmədi: Ad və ya elan idarəetmə simvolu" in page.get_data(as_text=True)
    with app_center.app.extensions["dostq.center"].store.read() as conn:
        names = [
            r[0]
            for r in conn.execute("SELECT name_az FROM areas UNION ALL SELECT name FROM counters")
        ]
    assert not any("\x1b" in n or "\x10" in n for n in names)
