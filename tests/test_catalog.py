"""Catalog import: the shipped DOST catalog, canonical JSON, CSV, and bad input."""

import json

import pytest

from server.office.catalog import (
    default_catalog_path,
    import_catalog,
    load_catalog,
    parse_catalog,
    read_catalog,
)
from server.queue.errors import Invalid

AZ_LETTERS = "əƏğĞıIİiöÖüÜşŞçÇ"


def test_shipped_catalog_has_all_fourteen_areas_with_unique_letters():
    areas = load_catalog(default_catalog_path())
    assert len(areas) == 14
    assert [a.letter for a in areas] == list("ABCDEFGHIJKLMN")
    assert sum(len(a.services) for a in areas) >= 26
    assert areas[3].name["az"] == "Məşğulluq"


def test_shipped_catalog_keeps_passport_standard_minutes():
    services = {s.code: s for a in load_catalog(default_catalog_path()) for s in a.services}
    assert services["4.2"].target_minutes == 15
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
        import_catalog(conn, parse_catalog(catalog))
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
        import_catalog(conn, load_catalog(path))
    with center.store.read() as conn:
        services = read_catalog(conn)["areas"][0]["services"]
        old = conn.execute("SELECT active FROM services WHERE code = '2.1'").fetchone()[0]
    assert [(s["code"], s["target_minutes"]) for s in services] == [("p1", 25), ("p2", 15)]
    assert old == 0  # dropped from the catalog, kept for history


@pytest.mark.parametrize(
    ("catalog", "message"),
    [
        ({"areas": []}, "no service areas"),
        ({"areas": [{"code": "a", "letter": "AB", "name": {"az": "x"}, "services": []}]}, "letter"),
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
            "used by two areas",
        ),
        ({"areas": [{"code": "a", "letter": "A", "name": {}, "services": []}]}, "no name"),
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
            "1 to 480",
        ),
        ([], "list of 'areas'"),
    ],
)
def test_bad_catalog_is_refused_with_a_message(catalog, message, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(catalog))
    with pytest.raises(Invalid, match=message):
        load_catalog(path)


def test_csv_with_a_misspelt_column_is_refused_not_half_imported(tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(
        "area_code,area_letter,area_name_az,service_code,service_name_az,"
        "service_nmae_ru\n1,A,Arayışlar,1.1,Arayış,Справка\n",
        encoding="utf-8",
    )
    with pytest.raises(Invalid, match="unknown columns: service_nmae_ru"):
        load_catalog(path)
