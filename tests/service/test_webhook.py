"""The crisis webhook (service/webhook.py) against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from litestar.testing import TestClient
from sqlalchemy import select

from switchboard.client import verify_signature
from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.service.db import webhook_deliveries
from switchboard.service.webhook import WebhookConfigError
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY, ROSTER, SCORE_KEY

SECRET = "test-secret-0123456789"
CRISIS = "my child was injured by your product, calling my lawyer"
CALM = "where is my order?"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float = field(default_factory=time.monotonic)

    @property
    def event(self) -> dict:
        return json.loads(self.body)


@dataclass
class Receiver:
    """What the receiver got, and the statuses it answers with next (then 200)."""

    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    delays: deque[float] = field(default_factory=deque)  # seconds to stall before answering

    def wait_for(self, n: int, timeout_s: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout_s
        while len(self.requests) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(self.requests) >= n, f"{len(self.requests)} of {n} webhook requests arrived"
        return self.requests


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """An HTTP server in a thread on a free port (SWITCHBOARD_TEST_PORTS), stopped after."""
    got = Receiver("")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            got.requests.append(Received(dict(self.headers), body))
            if got.delays:
                time.sleep(got.delays.popleft())
            status = got.statuses.popleft() if got.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:  # keep the test output quiet
            pass

    server = _bind(Handler)
    got.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/crisis"
    thread = threading.Thread(target=server.serve_forever, name="test-receiver", daemon=True)
    thread.start()
    try:
        yield got
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
        assert not thread.is_alive()


def _bind(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """The server on the first free port of SWITCHBOARD_TEST_PORTS (any port without it).
    It binds with SO_REUSEADDR, so the TIME_WAIT sockets earlier tests leave do not use up a
    small range (tests.live.free_port's probe binds without it)."""
    low, _, high = os.environ.get("SWITCHBOARD_TEST_PORTS", "0-0").partition("-")
    for port in range(int(low), int(high or low) + 1):
        try:
            return ThreadingHTTPServer(("127.0.0.1", port), handler)
        except OSError:
            continue
    raise RuntimeError(f"no free port in SWITCHBOARD_TEST_PORTS={low}-{high}")


def _hooked(settings: Settings, url: str, **overrides: object) -> Settings:
    values = {
        "crisis_webhook_url": url,
        "crisis_webhook_secret": SECRET,
        "crisis_webhook_backoff_s": 0.05,
    }
    return replace(settings, **(values | overrides))  # type: ignore[arg-type]


@contextmanager
def serving(settings: Settings) -> Iterator[TestClient]:
    """The started app with a score key; on exit the lifespan ends and the webhook thread
    must have stopped."""
    with TestClient(app=create_app(settings), raise_server_exceptions=True) as tc:
        store.seed_roster(tc.app.state.engine, ROSTER)
        tc.headers["Authorization"] = f"Bearer {SCORE_KEY}"
        hook = tc.app.state.webhook
        assert hook is not None and hook.alive
        yield tc
    assert not hook.alive, "the webhook thread outlived the app"


def _score(tc: TestClient, mention_id: str, text: str) -> dict:
    r = tc.post("/v1/score", json={"id": mention_id, "text": text})
    assert r.status_code == 200, r.text
    return r.json()


def _rows(tc: TestClient) -> list:
    """The app's delivery rows, oldest first (also after it stopped: the file stays)."""
    with tc.app.state.engine.connect() as conn:
        return conn.execute(
            select(webhook_deliveries).order_by(webhook_deliveries.c.created_at)
        ).all()


def _wait_row(tc: TestClient, check, timeout_s: float = 15.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        rows = _rows(tc)
        if rows and check(rows[0]):
            return rows[0]
        time.sleep(0.02)
    raise AssertionError(f"no delivery row as expected: {_rows(tc)}")


def test_crisis_score_sends_signed_webhook(service_settings: Settings, receiver: Receiver) -> None:
    """Check a new tier-5 mention is POSTed once, signed over the exact body, without the text
    or any key, and recorded as delivered."""
    with serving(_hooked(service_settings, receiver.url)) as tc:
        out = _score(tc, "hot", CRISIS)
        assert out["tier"]["level"] == 5
        (got,) = receiver.wait_for(1)
        row = _wait_row(tc, lambda r: r.delivered_at is not None)
    assert verify_signature(SECRET, got.headers["X-Switchboard-Signature"], got.body)
    event = got.event
    assert event["event"] == "crisis_escalation" and event["mention_id"] == "hot"
    assert event["id"] == got.headers["X-Switchboard-Delivery"] == row.id
    assert event["tier"] == 5 and event["reply"] == out["reply"]["action"]
    assert event["priority"] == out["priority"] and event["sla_seconds"] == out["sla_seconds"]
    assert event["reasons"] == out["reply"]["reasons"] and event["model_version"] == "v1"
    assert event["policy_version"] == out["policy_version"] and event["scored_at"].endswith("Z")
    assert "text" not in event and "lawyer" not in got.body.decode()
    assert SCORE_KEY not in got.body.decode() and got.headers["Content-Type"] == "application/json"
    assert row.attempts == 1 and row.last_status == 200 and row.next_attempt_at is None


def test_non_crisis_sends_nothing(service_settings: Settings, receiver: Receiver) -> None:
    """Check a mention below tier 5 makes no event: only the crisis scored after it arrives."""
    with serving(_hooked(service_settings, receiver.url)) as tc:
        assert _score(tc, "calm", CALM)["tier"]["level"] < 5
        _score(tc, "hot", CRISIS)
        receiver.wait_for(1)
    assert [r.event["mention_id"] for r in receiver.requests] == ["hot"]
    assert [r.mention_id for r in _rows(tc)] == ["hot"]


def test_replayed_crisis_is_not_resent(service_settings: Settings, receiver: Receiver) -> None:
    """Check a retried crisis mention (same id, answered `replayed`) makes no second event."""
    with serving(_hooked(service_settings, receiver.url)) as tc:
        _score(tc, "hot", CRISIS)
        receiver.wait_for(1)
        assert _score(tc, "hot", CRISIS)["replayed"] is True
        _score(tc, "hot2", CRISIS)  # a new crisis after the replay: proof the worker went on
        receiver.wait_for(2)
    assert [r.event["mention_id"] for r in receiver.requests] == ["hot", "hot2"]


def test_failed_delivery_is_retried_then_recorded(
    service_settings: Settings, receiver: Receiver
) -> None:
    """Check 500, 500, 200 makes three attempts with one delivery id, backing off
    exponentially, then `delivered`."""
    receiver.statuses.extend([500, 500])
    with serving(_hooked(service_settings, receiver.url)) as tc:
        _score(tc, "hot", CRISIS)
        receiver.wait_for(3)
        row = _wait_row(tc, lambda r: r.delivered_at is not None)
        listed = tc.get(
            "/v1/webhooks/deliveries", headers={"Authorization": f"Bearer {ADMIN_KEY}"}
        ).json()
        metrics = tc.get("/metrics").text
    assert row.attempts == 3 and row.last_status == 200 and row.last_error is None
    assert 'switchboard_crisis_webhook_events_total{outcome="retried"} 2.0' in metrics
    assert 'switchboard_crisis_webhook_events_total{outcome="delivered"} 1.0' in metrics
    assert {r.headers["X-Switchboard-Delivery"] for r in receiver.requests} == {row.id}
    assert all(
        verify_signature(SECRET, r.headers["X-Switchboard-Signature"], r.body)
        for r in receiver.requests
    )
    assert [(d["mention_id"], d["status"], d["attempts"]) for d in listed] == [
        ("hot", "delivered", 3)
    ]
    first, second, third = (r.at for r in receiver.requests)
    assert second - first >= 0.05 and third - second >= 0.1, "backoff 0.05 s, then doubled"


def test_slow_receiver_times_out_and_is_retried(
    service_settings: Settings, receiver: Receiver
) -> None:
    """Check an attempt is cut off at the timeout (the worker never hangs on a receiver), and
    recorded as an error without a status before the retry gets through."""
    receiver.delays.append(2.0)
    settings = _hooked(service_settings, receiver.url, crisis_webhook_timeout_s=0.3)
    with serving(settings) as tc:
        _score(tc, "hot", CRISIS)
        (first,) = receiver.wait_for(1)
        row = _wait_row(tc, lambda r: r.attempts == 1 and r.last_error is not None)
        assert row.last_status is None and "timed out" in row.last_error
        _, second = receiver.wait_for(2)
        done = _wait_row(tc, lambda r: r.delivered_at is not None)
    assert second.at - first.at < 1.5 and done.attempts == 2


def test_exhausted_delivery_is_listed_as_failed(
    service_settings: Settings, receiver: Receiver
) -> None:
    """Check a receiver that keeps failing gets exactly `attempts` tries, then the delivery is
    failed and listed by `?status=failed` for an admin (and refused to a score key)."""
    receiver.statuses.extend([503] * 10)
    settings = _hooked(service_settings, receiver.url, crisis_webhook_attempts=2)
    with serving(settings) as tc:
        _score(tc, "hot", CRISIS)
        row = _wait_row(tc, lambda r: r.attempts == 2 and r.next_attempt_at is None)
        admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
        failed = tc.get("/v1/webhooks/deliveries?status=failed", headers=admin)
        pending = tc.get("/v1/webhooks/deliveries?status=pending", headers=admin).json()
        bad = tc.get("/v1/webhooks/deliveries?status=lost", headers=admin).json()
        forbidden = tc.get("/v1/webhooks/deliveries").status_code
        metrics = tc.get("/metrics").text
    assert 'switchboard_crisis_webhook_events_total{outcome="failed"} 1.0' in metrics
    assert len(receiver.requests) == 2 and row.last_status == 503 and row.delivered_at is None
    assert failed.status_code == 200, failed.text
    (item,) = failed.json()
    assert item["mention_id"] == "hot" and item["status"] == "failed" and item["attempts"] == 2
    assert item["last_status"] == 503 and "503" in item["last_error"] and pending == []
    assert bad["field"] == "status" and forbidden == 403


def test_pending_delivery_is_resent_after_restart(
    service_settings: Settings, receiver: Receiver
) -> None:
    """Check an event still pending when the service stops is sent by the next start, under
    the same delivery id (it was recorded before the first attempt)."""
    receiver.statuses.append(500)
    settings = _hooked(service_settings, receiver.url, crisis_webhook_backoff_s=0.5)
    with serving(settings) as tc:
        _score(tc, "hot", CRISIS)
        _wait_row(tc, lambda r: r.attempts == 1 and r.last_status == 500)
    (before,) = _rows(tc)
    assert before.delivered_at is None and before.next_attempt_at is not None  # pending
    with serving(settings) as tc:
        after = _wait_row(tc, lambda r: r.delivered_at is not None)
    assert after.id == before.id and after.attempts == 2
    first, second = receiver.wait_for(2)
    assert first.headers["X-Switchboard-Delivery"] == second.headers["X-Switchboard-Delivery"]
    assert first.body == second.body


def test_webhook_url_without_secret_refuses_to_start(service_settings: Settings) -> None:
    """Check a URL without a secret (unsigned events) is refused with an error naming the
    setting, and a URL that is not http(s) too."""
    no_secret = replace(service_settings, crisis_webhook_url="http://127.0.0.1:8731/hook")
    with pytest.raises(WebhookConfigError, match="SWITCHBOARD_CRISIS_WEBHOOK_SECRET"):
        create_app(no_secret)
    not_http = replace(no_secret, crisis_webhook_url="ftp://x/hook", crisis_webhook_secret="s")
    with pytest.raises(WebhookConfigError, match="SWITCHBOARD_CRISIS_WEBHOOK_URL"):
        create_app(not_http)


def test_webhook_is_off_by_default(service_settings: Settings) -> None:
    """Check no URL means no thread: a crisis is scored and nothing is recorded."""
    with TestClient(app=create_app(service_settings)) as tc:
        tc.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        assert _score(tc, "hot", CRISIS)["tier"]["level"] == 5
        assert tc.app.state.webhook is None
        assert tc.get("/v1/webhooks/deliveries").json() == []


def test_tampered_body_fails_verification(service_settings: Settings, receiver: Receiver) -> None:
    """Check verify_signature refuses a changed body, another secret, an old timestamp and a
    missing or malformed header, and accepts the request as sent."""
    with serving(_hooked(service_settings, receiver.url)) as tc:
        _score(tc, "hot", CRISIS)
        (got,) = receiver.wait_for(1)
    header, body = got.headers["X-Switchboard-Signature"], got.body
    sent_at = int(header.split(",")[0].removeprefix("t="))
    assert verify_signature(SECRET, header, body)
    tampered = body.replace(b'"tier":5', b'"tier":4')
    assert tampered != body and not verify_signature(SECRET, header, tampered)
    assert not verify_signature("another-secret", header, body)
    assert not verify_signature(SECRET, header, body, now=sent_at + 301)
    assert verify_signature(SECRET, header, body, now=sent_at + 299)
    assert not verify_signature(SECRET, None, body)
    assert not verify_signature(SECRET, "v1=" + header.split("v1=")[1], body)  # no timestamp


def test_migration_0008_adds_the_deliveries_table(tmp_path) -> None:
    """Check a database at revision 0006 (before the webhook) gets `webhook_deliveries`."""
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import inspect

    from switchboard.service.db import MIGRATIONS, make_engine, migrate

    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0006")
        connection.exec_driver_sql("DROP TABLE webhook_deliveries")  # 0001 made today's tables
    assert "webhook_deliveries" not in inspect(engine).get_table_names()
    migrate(engine)
    columns = {c["name"] for c in inspect(engine).get_columns("webhook_deliveries")}
    engine.dispose()
    assert columns == {
        "id", "mention_id", "created_at", "attempts", "last_status", "last_error",
        "delivered_at", "next_attempt_at", "payload",
    }  # fmt: skip
