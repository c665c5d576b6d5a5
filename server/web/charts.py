"""Charts drawn as SVG on the server: nothing to download, nothing to run in the browser."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 40
LEGEND_CHAR_PX = 7  # a 12 px axis letter's width, rounded up (Latin and Cyrillic alike)


def _nice_ceiling(value: int) -> int:
    """Return a round axis maximum at or above ``value`` (10, 20, 50, 100, 200...)."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if value <= step * multiple * 10:
                return step * multiple * 10
        step *= 10


def hours_chart(hours: list[dict[str, Any]], arrived_label: str, served_label: str) -> Markup:
    """Draw arrivals and served visits per hour as paired bars."""
    return bar_chart(
        [f"{h['hour']:02d}" for h in hours],
        [("arrived", arrived_label, [h["arrived"] for h in hours]),
         ("served", served_label, [h["served"] for h in hours])],
    )  # fmt: skip


def bar_chart(labels: list[str], series: list[tuple[str, str, list[int]]]) -> Markup:
    """Draw grouped bars, one group per label; ``series`` are (css class, legend, values)."""
    if not labels:
        return Markup("")
    top = _nice_ceiling(max(max(values) for _, _, values in series))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(labels)
    bar = slot * 0.76 / len(series)

    def y(value: int) -> float:
        return TOP + plot_h * (1 - value / top)

    legend = " / ".join(title for _, title, _ in series)
    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(legend)}" xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(5):
        value = top * tick // 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value}</text>'
        )
    every = max(1, len(labels) // 24)  # at most ~24 axis labels, however many bars
    for index, label in enumerate(labels):
        x = LEFT + index * slot + slot * 0.12
        for number, (css, title, values) in enumerate(series):
            value = values[index]
            parts.append(
                f'<rect class="{escape(css)}" x="{x + number * bar:.1f}" y="{y(value):.1f}" '
                f'width="{bar:.1f}" height="{plot_h * value / top:.1f}">'
                f"<title>{escape(label)} {escape(title)}: {value}</title></rect>"
            )
        if index % every == 0:
            parts.append(
                f'<text class="axis" x="{LEFT + (index + 0.5) * slot:.1f}" '
                f'y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{escape(label)}</text>'
            )
    x = LEFT
    for css, title, _ in series:
        parts.append(
            f'<rect class="{escape(css)}" x="{x}" y="{HEIGHT - 18}" width="12" height="12"/>'
            f'<text class="axis" x="{x + 18}" y="{HEIGHT - 8}">{escape(title)}</text>'
        )
        # An SVG cannot measure its text: the next entry goes past this one's widest guess.
        x += 18 + LEGEND_CHAR_PX * len(title) + 24
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
