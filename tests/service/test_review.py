"""QA review API: the queue holds what is worth a look, verdicts are appended, never half-stored."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from switchboard.service.auth import hash_key
from switchboard.service.sampling import in_random_sample
from tests.service.conftest import ADMIN_KEY, REVIEW_KEY, REVIEWER, SCORE_KEY

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)

CRISIS = "my child was injured by your product, calling my lawyer"


def _score(client: TestClient, mid: str, text: str) -> dict:
    r = client.post("/v1/score", json={"id": mid, "text": text, "author": {"id": f"u{mid}"}})
    assert r.status_code == 200, r.text
    return r.json()


def _queue(client: TestClient, **params: object) -> dict:
    r = client.get("/v1/review/queue", params=params)
    assert r.status_code == 200, r.text
    return r.json()


def test_crisis_mentions_join_the_review_queue_first(client: TestClient) -> None:
    _score(client, "calm", "love the new phone! thank you")
    _score(client, "hot", CRISIS)
    items = _queue(client)["items"]
    assert items[0]["mention_id"] == "hot" and "crisis" in items[0]["reasons"]
    assert _queue(client, tier=5)["total"] == 1


def test_queue_items_say_who_posted_where_and_when(client: TestClient) -> None:
    """Check the mention's own channel, author and posted time reach the queue, and that a
    mention sent without them says so (None) instead of borrowing the scored time."""
    author = {"id": "jane_doe", "followers": 12345, "verified": True}
    sent = {"id": "full", "text": CRISIS, "channel": "twitter", "author": author}
    sent["created_at"] = "2026-11-20T09:30:00Z"
    assert client.post("/v1/score", json=sent).status_code == 200
    assert client.post("/v1/score", json={"id": "bare", "text": CRISIS}).status_code == 200
    items = {i["mention_id"]: i for i in _queue(client, status="all")["items"]}
    full, bare = items["full"], items["bare"]
    assert full["posted_at"] == "2026-11-20T09:30:00Z" and full["channel"] == "twitter"
    assert full["author"] == {"id": "jane_doe", "followers": 12345, "verified": True}
    assert full["created_at"] != full["posted_at"]  # scored now, posted days ago
    assert bare["posted_at"] is None and bare["channel"] is None and bare["author"] is None


def test_random_sample_is_reproducible_and_about_the_rate() -> None:
    ids = [f"m{i}" for i in range(20_000)]
    share = sum(in_random_sample(i, 0.02) for i in ids) / len(ids)
    assert 0.015 < share < 0.025
    assert [in_random_sample(i, 0.02) for i in ids[:50]] == [
        in_random_sample(i, 0.02) for i in ids[:50]
    ]


def test_reply_against_none_puts_the_prediction_in_the_queue(client: TestClient) -> None:
    out = _score(client, "s1", "cheap card at http://spam.example")
    assert out["reply"]["action"] == "none"
    before = _queue(client, reason="replied_against_none")["total"]
    r = client.post(
        "/v1/mentions/s1/outcome",
        json={"responder_id": "ana", "reply_action": "public", "first_response_s": 60},
    )
    assert r.status_code == 201, r.text
    assert _queue(client, reason="replied_against_none")["total"] == before + 1


def test_correction_is_stored_with_reviewer_and_never_overwrites(client: TestClient) -> None:
    """Check that each verdict is a new row under the key's identity; a sent reviewer is ignored."""
    _score(client, "hot", CRISIS)
    pid = _queue(client)["items"][0]["prediction_id"]
    first = client.post(f"/v1/review/{pid}", json={"verdict": "accept", "reviewer": "qa1"})
    assert first.status_code == 201, first.text
    second = client.post(
        f"/v1/review/{pid}",
        json={"verdict": "correct", "tier": 4, "reviewer": "qa2"},
        headers={"Authorization": f"Bearer {REVIEW_KEY}"},
    )
    assert second.status_code == 201 and second.json()["tier"] == 4
    item = client.get(f"/v1/review/{pid}").json()
    assert [(v["reviewer"], v["verdict"], v["tier"]) for v in item["reviews"]] == [
        ("key:" + hash_key(ADMIN_KEY)[:8], "accepted", 5),
        (REVIEWER, "corrected", 4),
    ]
    assert _queue(client, status="reviewed")["total"] == 1 and _queue(client)["total"] == 0


def test_bad_verdicts_name_the_field_and_store_nothing(client: TestClient) -> None:
    _score(client, "hot", CRISIS)
    pid = _queue(client)["items"][0]["prediction_id"]
    cases = [
        ({"verdict": "correct"}, "$.verdict"),
        ({"verdict": "accept", "tier": 3}, "tier"),
        ({"verdict": "correct", "tier": 9}, "$.tier"),
        ({"verdict": "correct", "intent": "nonsense"}, "$.intent"),
        ({"verdict": "correct", "responder_id": "ghost"}, "$.responder_id"),
        ({"verdict": "correct", "sentiment": "angry"}, "$.sentiment"),
        ({"verdict": "maybe"}, "$.verdict"),
        ({"verdict": "accept", "extra": 1}, "$.extra"),
    ]
    for body, field in cases:
        r = client.post(f"/v1/review/{pid}", json=body)
        assert r.status_code == 400, (body, r.text)
        assert r.json()["field"] == field, (body, r.json())
    assert client.get(f"/v1/review/{pid}").json()["reviews"] == []
    assert client.post("/v1/review/999999", json={"verdict": "accept"}).status_code == 404


def test_bad_queue_filters_are_400_naming_the_parameter(client: TestClient) -> None:
    for params, field in [
        ({"status": "done"}, "status"),
        ({"reason": "bored"}, "reason"),
        ({"since": "yesterday"}, "since"),
        ({"tier": 7}, "tier"),
    ]:
        r = client.get("/v1/review/queue", params=params)
        assert r.status_code == 400 and r.json()["field"] == field, r.text


def test_review_needs_the_review_scope(client: TestClient) -> None:
    r = client.get("/v1/review/queue", headers={"Authorization": f"Bearer {SCORE_KEY}"})
    assert r.status_code == 403


def test_summary_counts_reviews_with_an_unbiased_random_estimate(client: TestClient) -> None:
    _score(client, "hot", CRISIS)
    pid = _queue(client)["items"][0]["prediction_id"]
    client.post(f"/v1/review/{pid}", json={"verdict": "correct", "tier": 4})
    s = client.get("/v1/review/summary").json()
    tier = next(h for h in s["heads"] if h["head"] == "tier")
    assert s["reviewed"] == 1 and tier["reviewed"] == 1 and tier["accuracy"] == 0.0
    assert s["kpis"]["crisis_escalations"] >= 1 and s["kpis"]["crisis_confirmed"] == 0
    assert s["agreement"][0]["agreement"] == 0.0


def test_retention_deletes_old_unreviewed_predictions_but_keeps_reviewed(
    client: TestClient,
) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select, update

    from switchboard.service import review
    from switchboard.service.db import predictions

    _score(client, "old1", CRISIS)
    _score(client, "old2", "love the new phone! thank you")
    client.app.state.log.flush()
    engine = client.app.state.engine
    long_ago = datetime.now(UTC) - timedelta(days=200)
    with engine.begin() as conn:
        conn.execute(update(predictions).values(created_at=long_ago))
    pid = _queue(client, status="all")["items"][0]["prediction_id"]
    client.post(f"/v1/review/{pid}", json={"verdict": "accept"})
    assert review.purge(engine, 90, datetime.now(UTC)) == 1
    assert review.purge(engine, 0, datetime.now(UTC)) == 0  # 0 keeps everything
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(predictions)).scalar() == 1


def test_login_form_explains_what_is_wrong_and_sets_no_session(client: TestClient) -> None:
    """Check that a refused sign-in says why and signs nobody in; a review key signs in."""
    client.headers.pop("Authorization")
    page = client.get("/review/login")
    token = re.search(r'name="_csrf" value="([^"]+)"', page.text).group(1)
    for form, message in [
        ({"key": ""}, "Enter a key"),
        ({"key": "wrong-key"}, "unknown API key"),
        ({"key": SCORE_KEY}, "lacks the &#39;review&#39; scope"),
    ]:
        r = client.post("/review/login", data={**form, "_csrf": token}, follow_redirects=False)
        assert r.status_code == 401 and message in r.text, r.text
        assert "sb_key" not in r.cookies
        assert client.get("/review", follow_redirects=False).status_code == 302
    r = client.post(
        "/review/login", data={"key": REVIEW_KEY, "_csrf": token}, follow_redirects=False
    )
    assert r.status_code == 303 and r.headers["location"] == "/review"
    page = client.get("/review")  # the session cookie signs the page in
    assert page.status_code == 200 and f'<span id="reviewer">{REVIEWER}</span>' in page.text
