"""Charts drawn as SVG on the server: nothing to download, nothing to run in the browser."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 16, 40


def _nice_ceiling(value: int) -> int:
    """Return a round axis maximum at or above ``value`` (10, 20, 50, 100, 200...)."""
    step = 1
    while True:
        for multiple in (1, 2, 5):
            if value <= step * multiple * 10:
                return step * multiple * 10
        step *= 10


def hours_chart(hours: list[dict[str, Any]], arrived_label: str, served_label: str) -> Markup:
    """Draw arrivals and served visits per hour as paired bars, with a labelled axis."""
    if not hours:
        return Markup("")
    top = _nice_ceiling(max(max(h["arrived"], h["served"]) for h in hours))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / len(hours)
    bar = slot * 0.38

    def y(value: int) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(arrived_label)} / {escape(served_label)}" '
        'xmlns="http://www.w3.org/2000/svg">'
    ]
    for tick in range(5):
        value = top * tick // 4
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}"/><text class="axis" x="{LEFT - 6}" y="{y(value) + 4:.1f}" '
            f'text-anchor="end">{value}</text>'
        )
    for index, hour in enumerate(hours):
        x = LEFT + index * slot + slot * 0.12
        for offset, key, css in ((0, "arrived", "arrived"), (bar, "served", "served")):
            value = hour[key]
            parts.append(
                f'<rect class="{css}" x="{x + offset:.1f}" y="{y(value):.1f}" '
                f'width="{bar:.1f}" height="{plot_h * value / top:.1f}">'
                f"<title>{hour['hour']:02d}:00 {escape(key)}: {value}</title></rect>"
            )
        parts.append(
            f'<text class="axis" x="{LEFT + (index + 0.5) * slot:.1f}" y="{HEIGHT - BOTTOM + 16}" '
            f'text-anchor="middle">{hour["hour"]:02d}</text>'
        )
    legend_y = HEIGHT - 8
    parts.append(
        f'<rect class="arrived" x="{LEFT}" y="{legend_y - 10}" width="12" height="12"/>'
        f'<text class="axis" x="{LEFT + 18}" y="{legend_y}">{escape(arrived_label)}</text>'
        f'<rect class="served" x="{LEFT + 200}" y="{legend_y - 10}" width="12" height="12"/>'
        f'<text class="axis" x="{LEFT + 218}" y="{legend_y}">{escape(served_label)}</text>'
    )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every text above is escaped)
