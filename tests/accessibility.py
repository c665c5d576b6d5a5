"""The axe tier: every page state the browser tests visit is checked by axe-core against the
WCAG 2.0, 2.1 and 2.2 A and AA rules (axe-core from axe-playwright-python, which ships it;
MPL-2.0). A violation fails the test with what and where; the count of states checked is in
the test run's summary."""

from axe_playwright_python.sync_playwright import Axe

from tests.conftest import SCREENSHOTS

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
_axe = Axe()
checked: list[str] = []  # the page states checked in this run, for the summary


def assert_accessible(page, state: str) -> None:
    """Fail with each violation (rule, impact, the first nodes) of the page as it is now."""
    results = _axe.run(
        page, options={"runOnly": {"type": "tag", "values": WCAG_AA}, "resultTypes": ["violations"]}
    )
    violations = results.response["violations"]
    checked.append(state)
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + "; ".join(" ".join(node["target"]) for node in v["nodes"][:3])
        for v in violations
    ]
    assert found == [], f"{state}: {found}"


def keep_screen(page, name: str, full_page: bool = False) -> None:
    """Keep the page as docs/screenshots/<name>.png, once axe found nothing on it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)
    assert_accessible(page, name)
