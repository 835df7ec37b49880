"""Structured logs and request ids: every response names its request, every line is JSON."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable, Iterator

import pytest
from litestar.testing import TestClient

from switchboard.service.logs import JsonFormatter, TextFormatter, log_config
from tests.service.conftest import ADMIN_KEY

TEXT = "my phone broke again, so annoyed"


@pytest.fixture
def log_lines(client: TestClient) -> Iterator[Callable[[], list[dict]]]:
    """What the app's stderr handler wrote since the test began, each line parsed as JSON."""
    handler = next(h for h in logging.getLogger().handlers if h.get_name() == "console")
    buffer = io.StringIO()
    old = handler.setStream(buffer)
    try:
        yield lambda: [json.loads(line) for line in buffer.getvalue().splitlines()]
    finally:
        handler.setStream(old)


def test_request_id_is_echoed(client: TestClient) -> None:
    r = client.get("/health", headers={"X-Request-ID": "smms-7f3a:retry-2"})
    assert r.headers["x-request-id"] == "smms-7f3a:retry-2"


def test_request_id_is_made_when_absent(client: TestClient) -> None:
    first, second = (client.get("/health").headers["x-request-id"] for _ in range(2))
    assert len(first) == 32 and int(first, 16) >= 0  # uuid4 hex
    assert first != second


@pytest.mark.parametrize(
    "sent",
    [b"x" * 129, "caf\xe9".encode("latin-1"), b"tab\there", b"   "],
    ids=["too-long", "not-ascii", "control-char", "blank"],
)
def test_insane_request_id_is_replaced(client: TestClient, sent: bytes) -> None:
    got = client.get("/health", headers={"X-Request-ID": sent}).headers["x-request-id"]
    assert got != sent.decode("latin-1") and len(got) == 32 and int(got, 16) >= 0


def test_error_responses_carry_request_id(client: TestClient) -> None:
    """401 from a guard, 400 from validation, 409, 415, an unrouted 404 and a 405."""
    rid = {"X-Request-ID": "err-1"}
    unauthenticated = client.post(
        "/v1/score", json={"id": "a", "text": TEXT}, headers={**rid, "Authorization": ""}
    )
    invalid = client.post("/v1/score", json={"id": 3}, headers=rid)
    client.post("/v1/score", json={"id": "c", "text": TEXT})
    changed = client.post("/v1/score", json={"id": "c", "text": "other"}, headers=rid)
    not_json = client.post(
        "/v1/score", content=b"id=a", headers={**rid, "Content-Type": "text/plain"}
    )
    unrouted = client.get("/no/such/page", headers=rid)
    wrong_method = client.delete("/health", headers=rid)
    answers = [unauthenticated, invalid, changed, not_json, unrouted, wrong_method]
    assert [r.status_code for r in answers] == [401, 400, 409, 415, 404, 405]
    assert all(r.headers["x-request-id"] == "err-1" for r in answers)


def test_log_lines_are_json_with_request_id(
    client: TestClient, log_lines: Callable[[], list[dict]]
) -> None:
    client.post("/v1/score", json={"id": "j1", "text": TEXT}, headers={"X-Request-ID": "trace-1"})
    client.post("/v1/responders/nobody/claim", headers={"X-Request-ID": "trace-2"})
    lines = log_lines()  # json.loads of every line: one that is not JSON fails here
    assert lines and all({"ts", "level", "logger", "msg", "pid"} <= set(line) for line in lines)
    scoring = [line for line in lines if line["logger"] == "switchboard.scoring"]
    assert [line["request_id"] for line in scoring] == ["trace-1"]
    # Lines written outside any request (none here but the test client's own) carry no id.
    assert all("request_id" not in line for line in lines if line["logger"] == "httpx")


def test_scoring_line_names_model_and_policy_versions(
    client: TestClient, log_lines: Callable[[], list[dict]]
) -> None:
    mentions = [{"id": "b1", "text": TEXT}, {"id": "b2", "text": "love the new app! thank you"}]
    client.post("/v1/score/batch", json={"mentions": mentions}, headers={"X-Request-ID": "b"})
    replay = client.post("/v1/score", json={"id": "b1", "text": TEXT}).json()
    lines = log_lines()
    scoring = [line for line in lines if line["logger"] == "switchboard.scoring"]
    assert [line["mention_id"] for line in scoring] == ["b1", "b2", "b1"]
    first = scoring[0]
    assert first["request_id"] == "b" and first["model_version"] == "v1"
    assert first["policy_version"] == replay["policy_version"]
    assert first["intent"] == replay["intent"]["label"]
    assert first["reply_action"] == replay["reply"]["action"]
    assert first["tier"] == replay["tier"]["level"] and first["abstain"] == replay["abstain"]
    assert first["latency_ms"] > 0
    assert [line["replayed"] for line in scoring] == [False, False, True]
    everything = json.dumps(lines)
    assert "annoyed" not in everything and "thank you" not in everything
    assert ADMIN_KEY not in everything


def test_uvicorn_access_line_is_structured() -> None:
    """The access log's parts become fields, so a shipper need not parse the message."""
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, "h11_impl.py", 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", "/health", "1.1", 200), None,
    )  # fmt: skip
    line = json.loads(JsonFormatter().format(record))
    assert line["method"] == "GET" and line["path"] == "/health" and line["status"] == 200
    assert line["msg"] == '127.0.0.1:5000 - "GET /health HTTP/1.1" 200'


def test_text_format_is_for_humans() -> None:
    record = logging.LogRecord("switchboard.scoring", logging.INFO, "x.py", 1, "scored", (), None)
    record.request_id, record.mention_id = "r-1", "m-9"
    line = TextFormatter().format(record)
    assert "INFO" in line and "[r-1] scored" in line and line.endswith("mention_id=m-9")


def test_unknown_log_format_is_refused() -> None:
    with pytest.raises(ValueError, match="SWITCHBOARD_LOG_FORMAT"):
        log_config("yaml", "INFO")
    with pytest.raises(ValueError, match="SWITCHBOARD_LOG_LEVEL"):
        log_config("json", "LOUD")


def test_a_failure_is_logged_with_its_request_id_and_traceback(
    client: TestClient, log_lines: Callable[[], list[dict]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ids: list[str]) -> dict:
        raise RuntimeError("lookup exploded")

    monkeypatch.setattr(client.app.state.log, "lookup", broken)
    r = client.post("/v1/score", json={"id": "x", "text": TEXT}, headers={"X-Request-ID": "t-500"})
    assert r.status_code == 500 and r.headers["x-request-id"] == "t-500"
    [failure] = [line for line in log_lines() if line["level"] == "ERROR"]
    assert failure["request_id"] == "t-500"
    assert "RuntimeError: lookup exploded" in failure["exc"]
