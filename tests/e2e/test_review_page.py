"""The review page in headless Chromium: sign in, filter, correct with the keyboard, summary.

The service runs as `make run` runs it (uvicorn, 127.0.0.1, a free port) on a temporary data
dir; the test stops it. A failing step leaves a screenshot in test-artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from switchboard.cli import main
from switchboard.settings import Settings
from tests.conftest import REPO_ROOT, make_cases

CHROMIUM = Path("/usr/bin/chromium")
KEY = "review-admin"
ARTIFACTS = REPO_ROOT / "test-artifacts"
CRISIS = "my child was injured by your product, calling my lawyer"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """A trained champion, a seeded roster and three scored mentions behind a live server."""
    data = tmp_path / "var"
    cases = tmp_path / "cases.csv"
    make_cases(300).to_csv(cases, index=False)
    assert main(["train", "--data", str(cases), "--no-mlflow"], Settings(data_dir=data)) == 0
    port = _free_port()
    env = {
        **os.environ,
        "SWITCHBOARD_DATA_DIR": str(data),
        "SWITCHBOARD_API_KEYS": f"{KEY}:admin",
        "SWITCHBOARD_REVIEW_SAMPLE_RATE": "1.0",
    }
    cmd = [sys.executable, "-m", "uvicorn", "--factory", "switchboard.service.app:create_app"]
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
        cwd=REPO_ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base)
        _seed(base)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def _wait_ready(base: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError("the service did not become ready")


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
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a dev dependency")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        tab = browser.new_page(base_url=server)
        tab.set_default_timeout(10_000)
        yield tab
        if getattr(request.node, "failed", False):
            ARTIFACTS.mkdir(exist_ok=True)
            tab.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
        browser.close()


def test_reviewer_signs_in_filters_corrects_with_keys_and_sees_summary(page) -> None:
    page.goto("/review")
    assert page.url.endswith("/review/login")  # not signed in: sent to the login form
    page.fill("input[name=name]", "Quinn")
    page.fill("input[name=key]", "wrong-key")
    page.click("button[type=submit]")
    assert "unknown API key" in page.text_content("#login-error")

    page.fill("input[name=key]", KEY)
    page.click("button[type=submit]")
    page.wait_for_url("**/review")
    assert page.text_content("#total") == "3"

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
    assert page.locator("#agreement rect").count() == 1
