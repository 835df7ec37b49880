"""The scoring API through Litestar's test client."""

from __future__ import annotations

from pathlib import Path

import pytest
from litestar.testing import TestClient

from switchboard.ml.registry import Registry
from switchboard.service.app import create_app
from switchboard.settings import Settings

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)


def test_score_answers_every_documented_field(client: TestClient) -> None:
    """Check the response carries labels, reply, tier, priority, SLA, responders, why."""
    r = client.post("/v1/score", json={"id": "m1", "text": "my phone broke again, so annoyed"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["id"] == "m1" and body["model_version"] == "v1" and body["policy_version"]
    assert body["intent"]["label"] == "complaint"
    assert body["reply"]["action"] in {"public", "private", "none"}
    assert 1 <= body["tier"]["level"] <= 5 and body["tier"]["name"]
    assert 0 <= body["priority"] <= 100
    assert {"rules", "features"} <= set(body["explanation"])
    assert body["explanation"]["features"] == {}  # not asked for
    asked = client.post("/v1/score?explain=true", json={"id": "m2", "text": "my phone broke"})
    assert asked.json()["explanation"]["features"]["intent"]


def test_order_number_goes_private_through_the_api(client: TestClient) -> None:
    """Check the policy is applied to model output end to end."""
    r = client.post("/v1/score", json={"id": "m", "text": "where is my order #A1234567?"})
    assert r.json()["reply"]["action"] == "private"


def test_responders_are_ranked_for_answered_mentions(client: TestClient) -> None:
    """Check that a complaint gets a ranked, explained responder list."""
    body = client.post(
        "/v1/score", json={"id": "m", "text": "worst seat ever, still broken"}
    ).json()
    ids = [r["id"] for r in body["responders"]]
    assert ids and ids[0] == "ana"
    assert "skill_match" in body["responders"][0]["reasons"]


def test_batch_answers_in_request_order(client: TestClient) -> None:
    """Check batch results keep the order of the request."""
    mentions = [
        {"id": f"m{i}", "text": t}
        for i, t in enumerate(
            ["love the new app! thank you", "win a free card www.win.example now", "my bag broke"]
        )
    ]
    r = client.post("/v1/score/batch", json={"mentions": mentions})
    assert [x["id"] for x in r.json()["results"]] == ["m0", "m1", "m2"]


def test_a_batch_mixing_authors_with_and_without_an_id_is_scored(client: TestClient) -> None:
    """Check an author object without an id beside one with an id is not a 500 (found by the
    fuzz test: the authors' ids were sorted with None among them)."""
    mentions = [
        {"id": "a1", "text": "my bag broke", "author": {"followers": 10}},
        {"id": "a2", "text": "my bag broke again", "author": {"id": "rita"}},
    ]
    r = client.post("/v1/score/batch", json={"mentions": mentions})
    assert r.status_code == 200, r.text
    assert [x["id"] for x in r.json()["results"]] == ["a1", "a2"]


@pytest.mark.parametrize(
    "text",
    ["الخدمة سيئة جدا 😡", "השירות שלכם גרוע", "mi pedido no llega 📦", "配達が遅い", "🔥🔥🔥"],
)
def test_non_english_rtl_and_emoji_are_scored(client: TestClient, text: str) -> None:
    """Check that any script is scored, not refused."""
    assert client.post("/v1/score", json={"id": "x", "text": text}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "1"}, "$.text"),
        ({"id": "1", "text": 5}, "$.text"),
        ({"id": "1", "text": "x", "mood": "angry"}, "$.mood"),
        ({"id": "1", "text": "   "}, "$.text"),
        ({"id": "1", "text": "a\u0000b"}, "$.text"),
        ({"id": "1", "text": "x" * 100_000}, "$.text"),
        ({"id": "1", "text": "x", "author": {"followers": -3}}, "$.author.followers"),
        ({"text": "x"}, "$.id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client: TestClient, body: dict, field: str) -> None:
    """Check each malformed body gets a machine-readable 400, and the service keeps serving."""
    r = client.post("/v1/score", json=body)
    assert r.status_code == 400
    assert r.json()["field"] == field and r.json()["error"] == "invalid_input"
    assert client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "raw", [b"{not json", b'{"id": "1", "text": "\\ud800"}', b'{"id": "1", "text": "x"']
)
def test_invalid_json_is_a_400(client: TestClient, raw: bytes) -> None:
    """Check malformed JSON and lone surrogates never reach the model."""
    r = client.post("/v1/score", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["error"] in {"invalid_json", "invalid_input"}


def test_batch_over_the_limit_is_refused_naming_mentions(client: TestClient) -> None:
    """Check max_batch + 1 mentions is a 400 on $.mentions (limit is 20 in this test)."""
    mentions = [{"id": str(i), "text": "hi"} for i in range(21)]
    r = client.post("/v1/score/batch", json={"mentions": mentions})
    assert r.status_code == 400 and r.json()["field"] == "$.mentions"


def test_bad_mention_inside_batch_is_named_by_position(client: TestClient) -> None:
    """Check the failing mention's index is in the field path."""
    r = client.post(
        "/v1/score/batch", json={"mentions": [{"id": "a", "text": "ok"}, {"id": "b", "text": " "}]}
    )
    assert r.status_code == 400 and r.json()["field"] == "$.mentions[1].text"


def test_model_endpoint_reports_version_and_metrics(client: TestClient) -> None:
    """Check GET /v1/model shows what is serving."""
    body = client.get("/v1/model").json()
    assert body["version"] == "v1" and body["data_fingerprint"] and "intent" in body["metrics"]


def test_openapi_schema_is_published(client: TestClient) -> None:
    """Check /schema serves the OpenAPI document with the scoring operations."""
    doc = client.get("/schema/openapi.json").json()
    assert "/v1/score" in doc["paths"] and "/v1/score/batch" in doc["paths"]


def test_without_a_model_ready_is_503_and_scoring_says_why(tmp_path: Path) -> None:
    """Check an empty registry starts the app but refuses to score."""
    with TestClient(app=create_app(Settings(data_dir=tmp_path, api_keys="k:score"))) as c:
        c.headers["Authorization"] = "Bearer k"
        assert c.get("/health").status_code == 200
        assert c.get("/ready").status_code == 503
        r = c.post("/v1/score", json={"id": "1", "text": "hi"})
        assert r.status_code == 503 and r.json()["error"] == "no_model"


def test_tampered_champion_is_not_served(service_settings: Settings) -> None:
    """Check a bundle whose file no longer matches its checksum is never loaded."""
    entry = Registry(service_settings.registry_path).get("champion")
    path = entry.path / "head-intent.joblib"
    path.write_bytes(path.read_bytes() + b"\x00")
    with TestClient(app=create_app(service_settings)) as c:
        r = c.get("/ready")
        assert r.status_code == 503 and "head-intent.joblib" in r.json()["reason"]


def test_default_limit_refuses_1001_mentions(service_settings: Settings) -> None:
    """Check the documented default: 1,001 mentions in a batch is a 400 on $.mentions."""
    settings = Settings(data_dir=service_settings.data_dir, api_keys="k:score")
    with TestClient(app=create_app(settings)) as c:
        mentions = [{"id": str(i), "text": "hi"} for i in range(1001)]
        r = c.post(
            "/v1/score/batch", json={"mentions": mentions}, headers={"Authorization": "Bearer k"}
        )
        assert r.status_code == 400 and r.json()["field"] == "$.mentions"


def test_oversized_body_is_refused_not_crashed(client: TestClient) -> None:
    """Check a multi-megabyte body gets a 4xx and the service keeps serving."""
    r = client.post("/v1/score", json={"id": "1", "text": "x" * 3_000_000})
    assert 400 <= r.status_code < 500
    assert client.get("/health").status_code == 200
