"""The layout check the browser tests run on every page they keep (layout_check.js): boxes that
overlap, labels broken one word per line, sideways scrolling."""

from pathlib import Path

LAYOUT_CHECK = "\n".join(
    line
    for line in (Path(__file__).parent / "layout_check.js").read_text("utf-8").splitlines()
    if not line.startswith("//")  # the function alone, as Playwright expects it
)


def layout_problems(page) -> tuple[list[str], list[str], bool]:
    """(overlaps, broken labels, sideways) once the page's stylesheets and fonts are in.

    The element a test waits for can be parsed before a stylesheet linked in the head has
    arrived; measured then, a breadcrumb laid out without its CSS overlaps itself (seen in CI on
    a loaded machine). The "load" state waits for the stylesheets, ``document.fonts.ready`` for
    the fonts."""
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready.then(() => true)")
    found = page.evaluate(LAYOUT_CHECK)
    return found["overlaps"], found["broken"], found["sideways"]
