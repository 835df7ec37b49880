"""Scoring that stays right under retries, replicas and a prediction log that cannot be written."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from switchboard.service import activity
from switchboard.service.app import create_app
from switchboard.service.db import predictions
from switchboard.settings import Settings

ANGRY = {"text": "my bag broke again, so annoyed", "author": {"id": "rita"}, "brand": "acme"}


def _rows(client: TestClient, mention_id: str) -> int:
    client.app.state.log.flush()
    with client.app.state.engine.connect() as conn:
        query = select(func.count()).where(predictions.c.mention_id == mention_id)
        return conn.execute(query).scalar_one()


def test_a_retried_mention_gets_the_stored_answer_and_adds_no_rows(client: TestClient) -> None:
    first = client.post("/v1/score", json={"id": "t1", **ANGRY}).json()
    retries = [client.post("/v1/score", json={"id": "t1", **ANGRY}).json() for _ in range(8)]
    assert first["replayed"] is False
    assert all(r["replayed"] for r in retries)
    assert all({**r, "replayed": False} == first for r in retries)
    assert _rows(client, "t1") == 1
    history = activity.author_history(client.app.state.engine, ["rita"], datetime.now(UTC))
    assert history["rita"].recent_mentions == 1


def test_a_retry_after_the_row_reached_the_database_is_answered_from_it(
    client: TestClient,
) -> None:
    first = client.post("/v1/score", json={"id": "t2", **ANGRY}).json()
    client.app.state.log.flush()
    client.app.state.log._pending.clear()  # as after a restart: only the database knows it
    again = client.post("/v1/score", json={"id": "t2", **ANGRY}).json()
    assert again["replayed"] and {**again, "replayed": False} == first
    assert _rows(client, "t2") == 1


def test_a_batch_retry_scores_only_the_new_mentions(client: TestClient) -> None:
    batch = {"mentions": [{"id": "b1", "text": "where is my order?"}]}
    client.post("/v1/score/batch", json=batch)
    batch["mentions"].append({"id": "b2", "text": "thanks, all sorted"})
    results = client.post("/v1/score/batch", json=batch).json()["results"]
    assert [(r["id"], r["replayed"]) for r in results] == [("b1", True), ("b2", False)]
    assert _rows(client, "b1") == 1 and _rows(client, "b2") == 1


def test_the_same_id_with_another_text_is_a_409_naming_the_id(client: TestClient) -> None:
    client.post("/v1/score", json={"id": "t3", "text": "hello"})
    r = client.post("/v1/score", json={"id": "t3", "text": "something else entirely"})
    assert r.status_code == 409
    assert r.json()["error"] == "mention_changed" and r.json()["field"] == "$.id"
    batch = {"mentions": [{"id": "n", "text": "new"}, {"id": "t3", "text": "other"}]}
    r = client.post("/v1/score/batch", json=batch)
    assert r.status_code == 409 and r.json()["field"] == "$.mentions[1].id"
    assert _rows(client, "e") == 0, "a refused batch scores nothing"


def test_an_id_twice_in_one_batch_is_scored_once(client: TestClient) -> None:
    batch = {"mentions": [{"id": "d", "text": "one"}, {"id": "d", "text": "one"}]}
    results = client.post("/v1/score/batch", json=batch).json()["results"]
    assert [r["replayed"] for r in results] == [False, True]
    assert _rows(client, "d") == 1
    batch["mentions"] = [{"id": "e", "text": "one"}, {"id": "e", "text": "two"}]
    r = client.post("/v1/score/batch", json=batch)
    assert r.status_code == 409 and r.json()["field"] == "$.mentions[1].id"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to fake a full disk")
def test_scoring_is_a_503_while_predictions_cannot_be_recorded(client: TestClient) -> None:
    journal = client.app.state.log._journal
    saved = journal._fd
    journal._fd = os.open("/dev/full", os.O_WRONLY)  # every journal write: ENOSPC
    journal._cut_back = lambda: None  # /dev/full cannot be truncated; stay on it
    try:
        r = client.post("/v1/score", json={"id": "full", "text": "hello"})
        assert r.status_code == 503 and r.json()["error"] == "log_unavailable"
        ready = client.get("/ready")
        assert ready.status_code == 503 and "cannot be recorded" in ready.json()["reason"]
        assert b"switchboard_prediction_journal_writable 0.0" in client.get("/metrics").content
        assert client.get("/health").status_code == 200
    finally:
        os.close(journal._fd)
        journal._fd = saved
    assert client.post("/v1/score", json={"id": "full", "text": "hello"}).status_code == 200
    assert client.get("/ready").status_code == 200
    assert _rows(client, "full") == 1


def test_replicas_on_one_database_share_author_history(
    client: TestClient, service_settings: Settings
) -> None:
    """Two service processes (here two apps) see each other's ragers through the counters."""
    body = {"text": "win a free card www.win.example now", "author": {"id": "rager"}}
    for i in range(4):
        assert client.post("/v1/score", json={"id": f"r{i}", **body}).status_code == 200
    client.app.state.log.flush()
    angry = {"id": "r-last", "text": "my bag broke again, so annoyed", "author": {"id": "rager"}}
    with TestClient(app=create_app(service_settings)) as other:
        other.headers["Authorization"] = client.headers["Authorization"]
        r = other.post("/v1/score", json=angry).json()
    assert r["reply"]["action"] == "none" and "repeat_rager" in r["reply"]["reasons"]
