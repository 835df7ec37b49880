"""The review page as a new reviewer meets it, in headless Chromium: names not ids, who posted
what where and when, a summary chart with axes, a phone-width layout, shortcuts that can be
switched off, and bad filters that say what is wrong.

One live service per module (tests/live.py; SWITCHBOARD_TEST_PORTS keeps it to a port range),
one browser per module, a fresh browser context (cookies, storage, time zone) per test. A
failing test leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from switchboard.cli import main
from switchboard.settings import Settings
from tests import live
from tests.conftest import REPO_ROOT, make_cases
from tests.e2e.browser import chromium

KEY = "review-admin"
AUTH = {"Authorization": f"Bearer {KEY}"}
ARTIFACTS = REPO_ROOT / "test-artifacts"
NAMES = {"r-ana": "Ana Lopez", "r-ben": "Ben Okafor"}
FULL = {  # a mention with everything an SMMS can send
    "id": "m-full",
    "text": "my bag broke again after two weeks, the zipper is useless",
    "channel": "twitter",
    "created_at": "2026-11-20T09:30:00Z",  # 04:30 in New York (EST)
    "author": {"id": "jane_doe", "followers": 12_345, "verified": True},
}
BARE = {"id": "m-bare", "text": "my order arrived broken and nobody answers"}
CRISIS = {"id": "m-crisis", "text": "my child was injured by your product, calling my lawyer"}

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A trained champion, a named roster and three scored mentions behind a live server."""
    tmp = tmp_path_factory.mktemp("polish")
    data, cases = tmp / "var", tmp / "cases.csv"
    make_cases(300).to_csv(cases, index=False)
    assert main(["train", "--data", str(cases), "--no-mlflow"], Settings(data_dir=data)) == 0
    env = {"SWITCHBOARD_API_KEYS": f"{KEY}:admin:Quinn", "SWITCHBOARD_REVIEW_SAMPLE_RATE": "1.0"}
    with live.service(data, env) as (base, _):
        for rid, name in NAMES.items():
            profile = {
                **{"name": name, "skills": ["complaint", "praise", "order_issue"], "capacity": 5},
                **{"tiers": [1, 2, 3, 4, 5], "shift_start_hour": 0, "shift_end_hour": 24},
            }
            r = httpx.put(f"{base}/v1/responders/{rid}", json=profile, headers=AUTH)
            assert r.status_code == 200, r.text
            presence = {"online": True, "open_cases": 0}
            r = httpx.put(f"{base}/v1/responders/{rid}/presence", json=presence, headers=AUTH)
            assert r.status_code == 200, r.text
        for mention in (FULL, BARE, CRISIS):
            r = httpx.post(f"{base}/v1/score", json=mention, headers=AUTH)
            assert r.status_code == 200, r.text
        yield base


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[Any]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def open_page(
    browser: Any, server: str, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """Signed-in tabs in fresh contexts: `open_page(timezone_id=..., viewport=...)`."""
    contexts: list[Any] = []

    def make(**options: Any) -> Any:
        context = browser.new_context(base_url=server, locale="en-US", **options)
        contexts.append(context)
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        tab.goto("/review/login")
        tab.fill("input[name=key]", KEY)
        tab.click("button[type=submit]")
        tab.wait_for_url("**/review")
        return tab

    yield make
    if getattr(request.node, "failed", False):
        ARTIFACTS.mkdir(exist_ok=True)
        for i, context in enumerate(contexts):
            for j, tab in enumerate(context.pages):
                shot = ARTIFACTS / f"{request.node.name}-{i}{j}.png"
                tab.screenshot(path=str(shot), full_page=True)
    for context in contexts:
        context.close()


def prediction_id(server: str, mention_id: str) -> int:
    r = httpx.get(f"{server}/v1/review/queue", params={"status": "all"}, headers=AUTH)
    return next(i["prediction_id"] for i in r.json()["items"] if i["mention_id"] == mention_id)


def item_url(server: str, mention_id: str) -> str:
    return f"/review?status=all&item={prediction_id(server, mention_id)}"


def test_queue_shows_responder_names_author_channel_followers(open_page, server: str) -> None:
    page = open_page()
    page.goto(item_url(server, "m-full"))
    meta = page.text_content("#mention-meta")
    assert "@jane_doe" in meta and "twitter" in meta and "12.3k followers" in meta
    assert page.get_attribute("#mention-meta .followers", "title") == "12345 followers"
    entry = page.text_content(f"#queue a[data-id='{prediction_id(server, 'm-full')}'] .meta")
    assert "@jane_doe" in entry and "twitter" in entry and "12.3k followers" in entry

    shown = page.locator("#responders .responder")
    assert shown.count() >= 1
    for i in range(shown.count()):
        name, tip = shown.nth(i).text_content(), shown.nth(i).get_attribute("title")
        rid = tip.removeprefix("responder id: ")
        assert NAMES[rid] == name  # the name, with the id as tooltip and secondary text
    options = page.locator("#f-responder_id option").all_text_contents()
    assert "Ana Lopez (r-ana)" in options and "Ben Okafor (r-ben)" in options

    page.goto(item_url(server, "m-bare"))  # nothing sent: says so rather than showing blanks
    meta = page.text_content("#mention-meta")
    assert "unknown author" in meta and "channel not sent" in meta and "followers" not in meta


def test_queue_shows_posted_time(open_page, server: str) -> None:
    page = open_page(timezone_id="America/New_York")
    page.goto(item_url(server, "m-full"))
    posted = page.locator("#posted time")
    assert page.text_content("#posted").startswith("posted")
    assert posted.get_attribute("datetime") == "2026-11-20T09:30:00Z"  # the SMMS's time
    assert posted.get_attribute("data-zone") == "America/New_York"
    text = posted.text_content()
    assert "4:30" in text and "EST" in text, text  # in the reviewer's own zone, named
    assert "UTC" in posted.get_attribute("title")  # the UTC time stays one hover away

    page.goto(item_url(server, "m-bare"))  # no created_at sent: the scored time, labelled
    fallback = page.text_content("#posted")
    assert fallback.startswith("scored") and "posted time not sent" in fallback

    utc = open_page(timezone_id="UTC", java_script_enabled=False)  # without script: UTC
    utc.goto(item_url(server, "m-full"))
    assert utc.text_content("#posted time") == "2026-11-20 09:30 UTC"


def _chart_texts(page, cls: str) -> list[str]:
    return page.locator(f"#agreement text.{cls}").all_text_contents()


def test_summary_chart_has_axes_and_labels(open_page, server: str) -> None:
    page = open_page()
    page.goto("/review/summary")
    assert page.locator("#agreement line.x-axis").count() == 1  # no reviews: axes stay
    assert page.locator("#agreement line.y-axis").count() == 1
    assert _chart_texts(page, "empty") == ["No reviews yet"]
    assert page.locator("#agreement rect.bar").count() == 0

    pid = prediction_id(server, "m-crisis")
    r = httpx.post(f"{server}/v1/review/{pid}", json={"verdict": "accept"}, headers=AUTH)
    assert r.status_code == 201, r.text
    page.reload()
    assert page.locator("#agreement rect.bar").count() == 1
    assert _chart_texts(page, "y-tick") == ["0%", "25%", "50%", "75%", "100%"]
    assert _chart_texts(page, "value") == ["100%"]
    assert _chart_texts(page, "n") == ["n=1"]
    assert len(_chart_texts(page, "x-tick")) == 1
    assert _chart_texts(page, "x-label")[0].startswith("review day (UTC): 20")
    assert _chart_texts(page, "y-label") == ["share accepted"]
    assert _chart_texts(page, "chart-title")[0].startswith("Agreement per review day")
    assert "accepted" in page.text_content("#agreement .legend")
    assert not _chart_texts(page, "empty")
    box = page.locator("#agreement").bounding_box()
    assert box["width"] >= 300 and box["height"] >= 120  # a chart, not a sliver


def _fits(page) -> None:
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1], f"scrolls sideways: {width} at {page.url}"


def _reachable(page, selector: str) -> None:
    control = page.locator(selector).first
    control.scroll_into_view_if_needed()
    box = control.bounding_box()
    assert control.is_visible() and box is not None, selector
    assert box["x"] >= 0 and box["x"] + box["width"] <= 375, f"{selector} is off screen: {box}"


def test_page_fits_phone_width(open_page, server: str) -> None:
    page = open_page(viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    page.goto(item_url(server, "m-full"))
    _fits(page)
    for control in ("#filters select[name=status]", "#filters button[type=submit]",
                    "#shortcuts", "#queue a", "#f-tier", "#f-note", "#accept", "#correct",
                    "#logout button"):  # fmt: skip
        _reachable(page, control)
    page.goto("/review/summary")
    _fits(page)
    _reachable(page, "#agreement")
    page.goto("/review?status=bogus")
    _fits(page)
    _reachable(page, "#filter-error")


def test_shortcuts_can_be_turned_off(open_page, server: str) -> None:
    page = open_page()
    url = item_url(server, "m-bare")
    page.goto(url)
    page.select_option("#f-tier", "1")
    page.keyboard.press("3")  # on by default
    assert page.input_value("#f-tier") == "3"

    page.uncheck("#shortcuts")
    page.reload()
    assert not page.is_checked("#shortcuts")  # remembered in this browser
    assert page.evaluate("localStorage.getItem('switchboard.review.shortcuts')") == "off"
    before = page.input_value("#f-tier")
    for key in ("5", "p", "a", "c", "j"):
        page.keyboard.press(key)
    page.wait_for_timeout(400)  # a verdict would have been sent and the page moved on by now
    assert page.input_value("#f-tier") == before
    assert page.url.endswith(url) and page.text_content("#message") == ""

    page.check("#shortcuts")  # back on: but never while typing in a field
    page.fill("#f-note", "")
    page.click("#f-note")
    page.keyboard.type("j5ac k")
    page.wait_for_timeout(400)
    assert page.input_value("#f-note") == "j5ac k"
    assert page.input_value("#f-tier") == before
    assert page.url.endswith(url) and page.text_content("#message") == ""
    r = httpx.get(f"{server}/v1/review/{prediction_id(server, 'm-bare')}", headers=AUTH)
    assert r.json()["reviews"] == []  # nothing was saved by any of those keys


@pytest.mark.parametrize(
    ("query", "field", "allowed"),
    [
        ("status=bogus", "status", "open, reviewed, all"),
        ("reason=bogus", "reason", "crisis, abstain"),
        ("since=not-a-date", "since", "or an ISO 8601 date-time"),
        ("until=2026-13-45", "until", "or an ISO 8601 date-time"),
        ("tier=9", "tier", "1, 2, 3, 4, 5"),
        ("intent=bogus", "intent", "complaint"),
    ],
)
def test_bad_filter_shows_clear_error(
    open_page, server: str, query: str, field: str, allowed: str
) -> None:
    page = open_page()
    response = page.goto(f"/review?{query}")
    assert response.status == 400
    error = page.locator("#filter-error")
    assert error.is_visible()
    assert error.get_attribute("data-field") == field
    assert f"“{field}” filter" in error.text_content()
    assert allowed in error.text_content()  # the allowed values, said once
    assert error.text_content().count(allowed) == 1
    assert page.locator("#total").count() == 0 and "in the queue" not in page.text_content("main")
    if field != "intent":  # the JSON API answers 400 naming the same parameter
        api = httpx.get(f"{server}/v1/review/queue?{query}", headers=AUTH)
        assert api.status_code == 400 and api.json()["field"] == field, api.text
