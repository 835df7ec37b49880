"""The review page in headless Chromium: sign in, filter, correct with the keyboard, summary;
and a page served from another port of 127.0.0.1 that tries to submit a verdict and fails.

The service runs as `make run` runs it (uvicorn, 127.0.0.1, a free port; set
SWITCHBOARD_TEST_PORTS=8610-8619 to keep to a range) on a temporary data dir; the test stops
it. A failing step leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from switchboard.cli import main
from switchboard.settings import Settings
from tests import live
from tests.conftest import REPO_ROOT, make_cases
from tests.e2e.browser import chromium

KEY = "review-admin"
REVIEWER = "Quinn"  # the key's owner name: the identity verdicts are recorded under
ARTIFACTS = REPO_ROOT / "test-artifacts"
CRISIS = "my child was injured by your product, calling my lawyer"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A trained champion, a seeded roster and three scored mentions behind a live server."""
    data = tmp_path / "var"
    cases = tmp_path / "cases.csv"
    make_cases(300).to_csv(cases, index=False)
    assert main(["train", "--data", str(cases), "--no-mlflow"], Settings(data_dir=data)) == 0
    env = {
        "SWITCHBOARD_API_KEYS": f"{KEY}:admin:{REVIEWER}",
        "SWITCHBOARD_REVIEW_SAMPLE_RATE": "1.0",
    }
    with live.service(data, env) as (base, _):
        _seed(base)
        yield base


def _seed(base: str) -> None:
    auth = {"Authorization": f"Bearer {KEY}"}
    profile = {
        **{"skills": ["complaint"], "languages": ["en"], "tiers": [2, 3, 4, 5], "capacity": 5},
        **{"shift_start_hour": 0, "shift_end_hour": 24, "timezone": "UTC"},
    }
    assert httpx.put(f"{base}/v1/responders/ana", json=profile, headers=auth).status_code == 200
    for i, text in enumerate([CRISIS, "love the new phone! thank you", "my bag broke again"]):
        r = httpx.post(f"{base}/v1/score", json={"id": f"m{i}", "text": text}, headers=auth)
        assert r.status_code == 200, r.text


@pytest.fixture
def page(server: str, request: pytest.FixtureRequest) -> Iterator[object]:
    with chromium() as browser:
        tab = browser.new_page(base_url=server)
        tab.set_default_timeout(10_000)
        yield tab
        if getattr(request.node, "failed", False):
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)


def test_evidence_is_highlighted_for_a_mention_scored_without_explain(page, server: str) -> None:
    """Check the page marks the words that moved the heads although the mention was scored
    without `?explain=true` (its stored answer has no evidence; the page computes it)."""
    sign_in(page)
    page.goto("/review?reason=crisis")
    marks = page.locator("#evidence-text mark")
    assert marks.count() > 0
    words = [marks.nth(i).text_content() for i in range(marks.count())]
    assert all(w and w in CRISIS for w in words), words
    assert page.text_content("#evidence-text") == CRISIS  # the whole text, in order


def test_reviewer_signs_in_filters_corrects_with_keys_and_sees_summary(page, server: str) -> None:
    """Check the whole review round, recorded under the signed-in identity, and sign-out."""
    page.goto("/review")
    assert page.url.endswith("/review/login")  # not signed in: sent to the login form
    page.fill("input[name=key]", "wrong-key")
    page.click("button[type=submit]")
    assert "unknown API key" in page.text_content("#login-error")

    sign_in(page)
    assert page.text_content("#total") == "3"
    assert page.text_content("#reviewer") == REVIEWER  # who signed in, from the server side

    page.select_option("select[name=reason]", "crisis")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**reason=crisis**")
    assert page.text_content("#total") == "1"
    assert "injured" in page.text_content("#mention")

    page.fill("input[name=since]", "not-a-date")
    page.click("#filters button[type=submit]")
    assert "since must be a date" in page.text_content("#filter-error")

    page.goto("/review?reason=crisis")
    page.keyboard.press("4")  # tier 4 instead of the crisis team
    page.keyboard.press("d")  # reply in private
    page.keyboard.press("c")  # save the correction
    page.wait_for_selector("#message.ok")
    page.wait_for_selector("#empty")  # the reviewed item left the open queue

    page.goto("/review/summary")
    assert page.text_content("#reviewed-count") == "1"
    assert page.text_content("#heads tr[data-head=tier] .accuracy").strip() == "0.0 %"
    assert page.text_content("#kpi-crisis").strip() == "1"
    assert page.locator("#agreement rect.bar").count() == 1
    assert [v["reviewer"] for v in _verdicts(server)] == [REVIEWER]

    page.click("#logout button[type=submit]")  # sign out: back to the form, session gone
    page.wait_for_url("**/review/login")
    page.goto("/review")
    assert page.url.endswith("/review/login")


def sign_in(page) -> None:
    page.goto("/review/login")
    page.fill("input[name=key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url("**/review")


def _crisis_id(base: str) -> int:
    auth = {"Authorization": f"Bearer {KEY}"}
    r = httpx.get(
        f"{base}/v1/review/queue", params={"reason": "crisis", "status": "all"}, headers=auth
    )
    return r.json()["items"][0]["prediction_id"]


def _verdicts(base: str) -> list[dict]:
    auth = {"Authorization": f"Bearer {KEY}"}
    return httpx.get(f"{base}/v1/review/{_crisis_id(base)}", headers=auth).json()["reviews"]


ATTACK = """<!doctype html><title>attack</title>
<iframe name="sink1"></iframe><iframe name="sink2"></iframe>
<form id="page" method="post" action="BASE/review/api/PID" enctype="text/plain" target="sink1">
  <input name='{"verdict": "correct", "tier": 1, "x": "' value='"}'></form>
<form id="api" method="post" action="BASE/v1/review/PID" enctype="text/plain" target="sink2">
  <input name='{"verdict": "correct", "tier": 1, "x": "' value='"}'></form>
<script>
(async () => {
  const body = JSON.stringify({verdict: "correct", tier: 1, reviewer: "mallory"});
  const plain = {method: "POST", mode: "no-cors", credentials: "include", body,
                 headers: {"content-type": "text/plain"}};
  const json = {method: "POST", credentials: "include", body,
                headers: {"content-type": "application/json"}};
  await Promise.allSettled([
    fetch("BASE/review/api/PID", plain), fetch("BASE/v1/review/PID", plain),
    fetch("BASE/review/api/PID", json), fetch("BASE/v1/review/PID", json),
  ]);
  let loaded = 0;
  for (const name of ["sink1", "sink2"]) {
    document.querySelector(`iframe[name=${name}]`).onload = () => {
      if (++loaded === 2) document.title = "done";
    };
  }
  document.getElementById("page").submit();
  document.getElementById("api").submit();
})();
</script>"""


@pytest.fixture
def other_port(server: str) -> Iterator[str]:
    """A page on another port of 127.0.0.1 that tries every way to post a verdict."""
    html = ATTACK.replace("BASE", server).replace("PID", str(_crisis_id(server))).encode()

    class Attacker(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *_: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", live.free_port()), Attacker)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


def test_page_on_another_port_cannot_submit_a_verdict(page, server: str, other_port: str) -> None:
    """Check that text/plain forms and fetch() calls from another origin of this host, with the
    reviewer's session cookie live in the browser, store no verdict."""
    sign_in(page)  # the reviewer is signed in, so the browser holds a live session cookie
    page.goto(other_port)
    page.wait_for_function("document.title === 'done'")
    assert _verdicts(server) == []
    page.goto(f"{server}/review")
    assert page.url.endswith("/review")  # still signed in: the attack had a session to abuse
