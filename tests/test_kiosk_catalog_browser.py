"""The kiosk at a real center's scale, in headless Chromium: a 160-service catalog in three
languages, searched with the on-screen keyboard with and without Azerbaijani letters, a
40-service area paged through, the documents shown before the ticket; and every area and
service of the shipped catalog walked in Russian and English."""

import json

import pytest
import requests

from server.office.catalog import import_catalog
from server.office.catalog_files import default_catalog_path, parse_catalog
from tests.accessibility import keep_screen
from tests.live import HTTP_TIMEOUT_S, start_live_center

TOTAL_SERVICES = 160
LARGE_AREA = "5"  # pensions and benefits: 40 services
BENEFITS = [  # (az, ru, en) kinds of a benefit, to make names that differ like real ones do
    ("uşağa görə", "на ребёнка", "for a child"),
    ("əlilliyə görə", "по инвалидности", "for disability"),
    ("ailə başçısını itirməyə görə", "по потере кормильца", "for the loss of the family head"),
    ("şəhid ailəsinə", "семье шехида", "for a martyr's family"),
    ("çoxuşaqlı anaya", "многодетной матери", "for a mother of many children"),
]
DOCUMENTS = {
    "az": "şəxsiyyət vəsiqəsi, əmək kitabçası",
    "ru": "удостоверение личности, трудовая книжка",
    "en": "identity card, employment record book",
}


def center_catalog():
    """The shipped catalog grown to 160 services, 40 of them in one area, with documents."""
    raw = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    areas = raw["areas"]
    large = next(a for a in areas if a["code"] == LARGE_AREA)
    for service in large["services"]:
        service["documents"] = DOCUMENTS
    others = [a for a in areas if a is not large]
    n = 0
    while sum(len(a["services"]) for a in areas) < TOTAL_SERVICES:
        area = large if len(large["services"]) < 40 else others[n % len(others)]
        az, ru, en = BENEFITS[n % len(BENEFITS)]
        area["services"].append(
            {
                "code": f"{area['code']}.g{n}",
                "name": {
                    "az": f"Sosial müavinət {az}, növ {n}",
                    "ru": f"Социальное пособие {ru}, вид {n}",
                    "en": f"Social benefit {en}, kind {n}",
                },
                "target_minutes": 10,
            }
        )
        n += 1
    return raw


def import_center_catalog(store):
    with store.write() as conn:  # counters that serve an area serve its new services too
        import_catalog(conn, parse_catalog(center_catalog()), force=True)


@pytest.fixture(scope="module")
def big_center(tmp_path_factory):
    live = start_live_center(
        tmp_path_factory.mktemp("big") / "center", prepare=import_center_catalog
    )
    yield live
    live.stop()


def open_kiosk(browser, live, language="az"):
    page = browser.new_page(viewport={"width": 1080, "height": 1920})
    page.goto(f"{live.url}/kiosk/enrol")
    page.fill("input[name=token]", live.tokens["kiosk-1"])
    page.click("form.login button[type=submit]")
    page.wait_for_selector(".area")
    if language != "az":
        page.click(f"button.lang:text-is('{language.upper()}')")
        page.wait_for_selector(f"html[lang={language}]")
    return page


def every_page(page):
    """Return the names of the services listed, over all pages of the list."""
    names = [n.strip() for n in page.locator(".service .name").all_text_contents()]
    while page.locator(".page-next").count() and page.is_enabled(".page-next"):
        before = page.text_content(".pager .page")
        page.click(".page-next")
        page.wait_for_function(
            "before => document.querySelector('.pager .page').textContent !== before", arg=before
        )
        names += [n.strip() for n in page.locator(".service .name").all_text_contents()]
    return names


def type_on_screen(page, text):
    for key in text:
        page.click(".key.space" if key == " " else f".key:text-is('{key}')")


def api_search(live, text, language):
    response = requests.get(
        f"{live.url}/api/v1/catalog/search",
        params={"q": text, "lang": language},
        timeout=HTTP_TIMEOUT_S,
    )
    return response.json()["services"]


@pytest.mark.parametrize(
    ("language", "typed", "expected"),
    [
        ("az", "pensiya", "Yaşa görə əmək pensiyası"),
        ("az", "yasa gore", "Yaşa görə əmək pensiyası"),  # no Azerbaijani letters
        ("az", "təqaüd", "Peşə hazırlığına cəlb olunan işsiz şəxsə verilən təqaüdün"),
        ("ru", "пенси", "Трудовая пенсия по возрасту"),
        ("ru", "пособие многодет", "Социальное пособие многодетной матери"),
        ("en", "age pens", "Age pension"),
        ("en", "adoption", "Acceptance of adoption applications"),
    ],
)
def test_search_finds_services_in_each_language_and_every_result_is_reachable(
    browser, big_center, language, typed, expected
):
    page = open_kiosk(browser, big_center, language)
    page.click(".search")
    type_on_screen(page, typed)
    page.wait_for_selector(f".service:has-text('{expected}')")
    if typed in ("pensiya", "пенси", "age pens"):
        keep_screen(page, f"kiosk-search-{language}")
    found = every_page(page)
    assert any(name.startswith(expected) for name in found)
    codes = api_search(big_center, typed, language)
    assert len(found) == len(codes)  # every match on some page, none twice
    page.close()


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_a_forty_service_area_pages_through_all_its_services_most_used_first(
    browser, big_center, language
):
    kiosk = big_center.kiosk()
    for _ in range(3):  # the area's last service is the one most taken this month
        kiosk.post(f"{big_center.url}/api/v1/tickets", json={"service": "5.g27", "print": False},
                   timeout=HTTP_TIMEOUT_S).raise_for_status()  # fmt: skip
    page = open_kiosk(browser, big_center, language)
    page.click(".area >> nth=4")  # pensions and benefits
    page.wait_for_selector(".pager")
    keep_screen(page, f"kiosk-large-area-{language}")
    names = every_page(page)
    assert len(names) == len(set(names)) == 40
    assert names[0].endswith(" 27")  # "…, növ 27", "…, вид 27", "…, kind 27"
    assert all(box["height"] >= 60 for box in boxes(page, ".page-next, .page-previous"))
    page.close()


def boxes(page, selector):
    return [node.bounding_box() for node in page.query_selector_all(selector)]


@pytest.mark.parametrize("language", ["az", "ru", "en"])
def test_documents_are_shown_before_the_ticket_is_taken(browser, big_center, language):
    age_pension = {"az": "Yaşa görə", "ru": "по возрасту", "en": "Age pension"}[language]
    page = open_kiosk(browser, big_center, language)
    page.click(".area >> nth=4")  # pensions and benefits
    page.click(f".service:has-text('{age_pension}')")
    page.wait_for_selector(".bring")
    assert DOCUMENTS[language] in page.text_content(".bring")
    assert page.is_visible(".general")  # still before the ticket
    keep_screen(page, f"kiosk-documents-{language}")
    page.close()


@pytest.fixture(scope="module")
def shipped_center(tmp_path_factory):
    live = start_live_center(tmp_path_factory.mktemp("shipped") / "center")
    yield live
    live.stop()


@pytest.mark.parametrize("language", ["ru", "en"])
def test_every_area_and_service_has_its_own_name_in_russian_and_english(
    browser, shipped_center, language
):
    catalog = json.loads(default_catalog_path().read_text(encoding="utf-8"))
    page = open_kiosk(browser, shipped_center, language)
    areas = [n.strip() for n in page.locator(".area .name").all_text_contents()]
    assert areas == [a["name"][language] for a in catalog["areas"]]
    for index, area in enumerate(catalog["areas"]):
        page.click(f".area >> nth={index}")
        page.wait_for_selector(".service")
        shown = every_page(page)
        assert sorted(shown) == sorted(s["name"][language] for s in area["services"])
        azerbaijani = {s["name"]["az"] for s in area["services"]}
        assert not azerbaijani & set(shown), area["code"]
        page.click(".navigation .nav >> nth=1")  # home
        page.wait_for_selector(".area")
    page.close()
