"""The summary page's agreement chart and the page's number/time formats, without a browser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta, timezone

import pytest

from switchboard.service.charts import agreement_svg
from switchboard.service.page_format import compact_count, time_tag, utc_text
from switchboard.service.schemas import DayAgreement

SVG = "{http://www.w3.org/2000/svg}"


def _parse(markup: str) -> ET.Element:
    return ET.fromstring(str(markup))  # well-formed XML, or this raises


def _texts(root: ET.Element, cls: str) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def _has_axes_and_labels(root: ET.Element) -> None:
    lines = {ln.get("class") for ln in root.iter(f"{SVG}line")}
    assert {"axis x-axis", "axis y-axis"} <= lines
    assert _texts(root, "y-tick") == ["0%", "25%", "50%", "75%", "100%"]
    assert _texts(root, "x-label")[0].startswith("review day (UTC)")
    assert _texts(root, "y-label") == ["share accepted"]
    assert _texts(root, "chart-title")[0].startswith("Agreement per review day")
    assert root.find(f"{SVG}title") is not None  # the accessible name
    legend = root.find(f"{SVG}g[@class='legend']")
    assert legend is not None and "accepted" in "".join(legend.itertext())


def test_chart_without_reviews_keeps_its_axes_and_says_so() -> None:
    root = _parse(agreement_svg([]))
    _has_axes_and_labels(root)
    assert _texts(root, "empty") == ["No reviews yet"]
    assert not [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]


def test_chart_with_one_day_draws_one_labelled_bar() -> None:
    root = _parse(agreement_svg([DayAgreement(day="2026-11-23", reviewed=4, agreement=0.75)]))
    _has_axes_and_labels(root)
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 1
    assert float(bars[0].get("height")) > 0
    assert float(bars[0].get("width")) <= 60  # one bar is a bar, not the whole plot
    assert _texts(root, "x-tick") == ["11-23"]
    assert _texts(root, "value") == ["75%"]
    assert _texts(root, "n") == ["n=4"]
    assert _texts(root, "x-label") == ["review day (UTC): 2026-11-23"]
    assert not _texts(root, "empty")


def test_chart_of_many_days_shows_the_last_30_with_spaced_ticks() -> None:
    start = datetime(2026, 9, 1)
    days = [
        DayAgreement(day=(start + timedelta(days=i)).date().isoformat(), reviewed=i + 1,
                     agreement=(i % 5) / 4)
        for i in range(45)
    ]  # fmt: skip
    root = _parse(agreement_svg(days))
    bars = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "bar"]
    assert len(bars) == 30 and bars[-1].get("data-day") == days[-1].day
    assert 1 < len(_texts(root, "x-tick")) <= 7


def test_chart_escapes_what_it_writes() -> None:
    svg = str(agreement_svg([DayAgreement(day="<b>&", reviewed=1, agreement=1.0)]))
    assert "<b>" not in svg and "&lt;b&gt;&amp;" in svg
    _parse(svg)


@pytest.mark.parametrize(
    ("n", "text"),
    [(None, ""), (0, "0"), (999, "999"), (1000, "1k"), (12_345, "12.3k"), (999_960, "1M"),
     (2_500_000, "2.5M"), (3_000_000_000, "3B")],
)  # fmt: skip
def test_follower_counts_are_short(n: int | None, text: str) -> None:
    assert compact_count(n) == text


def test_times_are_written_in_utc_and_say_so() -> None:
    berlin = datetime(2026, 11, 23, 15, 5, tzinfo=timezone(timedelta(hours=1)))
    assert utc_text(berlin) == "2026-11-23 14:05 UTC"
    assert utc_text(datetime(2026, 11, 23, 14, 5)) == "2026-11-23 14:05 UTC"  # naive = UTC
    tag = str(time_tag(berlin))
    assert 'datetime="2026-11-23T14:05:00Z"' in tag and ">2026-11-23 14:05 UTC</time>" in tag
    assert datetime.fromisoformat("2026-11-23T14:05:00Z") == berlin.astimezone(UTC)
