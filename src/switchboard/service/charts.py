"""Server-rendered SVG charts for the review pages.

Why SVG from Python: the summary page needs one small chart (agreement per review day). A
chart library from a CDN would break offline and behind strict proxies, and a vendored one
would be more code than the chart; an SVG string built here renders everywhere, is escaped in
one place, and is tested without a browser (tests/service/test_charts.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

from switchboard.service.schemas import DayAgreement

WIDTH, HEIGHT = 480, 286  # drawn at up to 560 CSS px; a 375 px phone shrinks it by a quarter
LEFT, RIGHT, TOP, BOTTOM = 58, 12, 70, 62  # margins; TOP leaves room for a 100 % bar's label
Y_TICKS = (0.0, 0.25, 0.5, 0.75, 1.0)
MAX_DAYS = 30  # the most recent days shown
BAR_COLOUR = "#3b82f6"
INK, GRID, MUTED = "#1d2329", "#dde1e6", "#5b6672"


def _text(
    x: float, y: float, body: str, cls: str, size: int = 13, anchor: str = "start", **more: str
) -> str:
    """An SVG <text>; `more` are extra attributes (underscores become hyphens)."""
    attrs = {"class": cls, "font-size": size, "text-anchor": anchor, "fill": INK}
    attrs |= {k.replace("_", "-"): v for k, v in more.items()}
    extra = "".join(f' {k}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{escape(body)}</text>'


def _line(x1: float, y1: float, x2: float, y2: float, colour: str, cls: str) -> str:
    return (
        f'<line class="{cls}" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
        f'stroke="{colour}" stroke-width="1"/>'
    )


def _frame(title: str, x_label: str, y_label: str) -> list[str]:
    """Title, legend, y ticks with grid lines, both axes and their labels."""
    bottom, right = HEIGHT - BOTTOM, WIDTH - RIGHT
    plot_h = bottom - TOP
    parts = [
        _text(LEFT, 20, title, "chart-title", 16, font_weight="bold"),
        f'<g class="legend"><rect x="{LEFT}" y="29" width="13" height="13" fill="{BAR_COLOUR}"/>',
        _text(LEFT + 18, 40, "share of the day's reviews accepted; n = reviews", "key", fill=MUTED),
        "</g>",
    ]
    for tick in Y_TICKS:
        y = bottom - tick * plot_h
        parts.append(_line(LEFT, y, right, y, GRID, "grid"))
        parts.append(_text(LEFT - 6, y + 4, f"{tick:.0%}", "y-tick", anchor="end"))
    parts.append(_line(LEFT, TOP, LEFT, bottom, INK, "axis y-axis"))
    parts.append(_line(LEFT, bottom, right, bottom, INK, "axis x-axis"))
    parts.append(_text((LEFT + right) / 2, HEIGHT - 8, x_label, "x-label", anchor="middle"))
    mid = (TOP + bottom) / 2
    rotate = f"rotate(-90 14 {mid:.1f})"
    parts.append(_text(14, mid, y_label, "y-label", anchor="middle", transform=rotate))
    return parts


def _bars(days: Sequence[DayAgreement]) -> list[str]:
    """One bar per day; value labels and every day's tick while they fit, else every k-th."""
    bottom, plot_w, plot_h = HEIGHT - BOTTOM, WIDTH - RIGHT - LEFT, HEIGHT - BOTTOM - TOP
    step = plot_w / len(days)
    width = min(step * 0.7, 60.0)
    every = math.ceil(len(days) / 7)  # at most ~7 day ticks so the labels do not collide
    parts = []
    for i, d in enumerate(days):
        centre = LEFT + step * (i + 0.5)
        h = d.agreement * plot_h
        tip = f"{d.day}: {d.agreement:.0%} of {d.reviewed} accepted as predicted"
        parts.append(
            f'<rect class="bar" data-day="{escape(d.day)}" x="{centre - width / 2:.1f}" '
            f'y="{bottom - h:.1f}" width="{width:.1f}" height="{h:.1f}" fill="{BAR_COLOUR}">'
            f"<title>{escape(tip)}</title></rect>"
        )
        if len(days) <= 10:
            value = f"{d.agreement:.0%}"
            parts.append(_text(centre, bottom - h - 4, value, "value", anchor="middle"))
        if i % every == 0:
            parts.append(_text(centre, bottom + 17, d.day[5:], "x-tick", anchor="middle"))
            n = f"n={d.reviewed}"
            parts.append(_text(centre, bottom + 33, n, "n", 12, anchor="middle", fill=MUTED))
    return parts


def agreement_svg(days: Sequence[DayAgreement]) -> Markup:
    """The agreement-per-day bar chart (the last 30 review days), readable with no days at all:
    the axes stay and the plot says "No reviews yet"."""
    shown = list(days)[-MAX_DAYS:]
    title, x_label = "Agreement per review day", "review day (UTC)"
    if shown:
        x_label += f": {shown[0].day} to {shown[-1].day}" if len(shown) > 1 else f": {shown[0].day}"
    parts = _frame(title, x_label, "share accepted")
    if shown:
        parts += _bars(shown)
    else:
        mid_x, mid_y = (LEFT + WIDTH - RIGHT) / 2, (TOP + HEIGHT - BOTTOM) / 2
        parts.append(_text(mid_x, mid_y, "No reviews yet", "empty", 14, "middle", fill=MUTED))
    svg = (
        f'<svg id="agreement" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-labelledby="agreement-title" '
        f'font-family="system-ui, sans-serif" style="max-width:100%;height:auto">'
        f'<title id="agreement-title">{escape(f"{title}, {x_label}")}</title>{"".join(parts)}</svg>'
    )
    return Markup(svg)  # safe: every text and attribute above went through escape()
