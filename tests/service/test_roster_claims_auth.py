"""Roster, presence, claims, outcomes, auth, reload, metrics and the prediction log."""

from __future__ import annotations

import threading

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, inspect, select

from switchboard.ml.registry import Registry
from switchboard.service.auth import hash_key
from switchboard.service.db import api_keys, make_engine, migrate, predictions
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY, ROSTER_KEY, SCORE_KEY

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)

PROFILE = {
    "name": "Dee",
    "skills": ["outage"],
    "languages": ["en", "de"],
    "tiers": [3, 4],
    "capacity": 2,
    "shift_start_hour": 8,
    "shift_end_hour": 16,
    "timezone": "Europe/Berlin",
}


@pytest.mark.parametrize(
    ("method", "path", "key", "status"),
    [
        ("post", "/v1/score", None, 401),
        ("post", "/v1/score", "wrong-key", 401),
        ("post", "/v1/score", ROSTER_KEY, 403),
        ("post", "/v1/score", SCORE_KEY, 200),
        ("post", "/v1/score", ADMIN_KEY, 200),
        ("get", "/v1/responders", SCORE_KEY, 403),
        ("get", "/v1/responders", ROSTER_KEY, 200),
        ("post", "/v1/model/reload", SCORE_KEY, 403),
        ("get", "/health", None, 200),
        ("get", "/metrics", None, 200),
    ],
)
def test_auth_matrix(
    client: TestClient, method: str, path: str, key: str | None, status: int
) -> None:
    """Check 401 without a valid key, 403 without the scope, 2xx with it."""
    headers = {"Authorization": f"Bearer {key}"} if key else {"Authorization": ""}
    kwargs = {"json": {"id": "1", "text": "hello"}} if method == "post" else {}
    r = getattr(client, method)(path, headers=headers, **kwargs)
    assert r.status_code == status
    if status in (401, 403):
        assert r.json()["error"] in {"unauthorized", "forbidden"}


def test_keys_are_stored_hashed(service_settings: Settings) -> None:
    """Check the keys CLI stores only a SHA-256 of the key."""
    from switchboard.service.auth import create_key

    engine = make_engine(service_settings.db_url)
    migrate(engine)
    key = create_key(engine, frozenset({"score"}))
    with engine.connect() as conn:
        stored = conn.execute(select(api_keys.c.key_hash)).scalars().all()
    assert hash_key(key) in stored and key not in stored


def test_roster_put_get_list_delete(client: TestClient) -> None:
    """Check a responder can be created, read, listed and removed."""
    assert client.put("/v1/responders/dee", json=PROFILE).status_code == 200
    assert client.get("/v1/responders/dee").json()["timezone"] == "Europe/Berlin"
    assert "dee" in [r["id"] for r in client.get("/v1/responders").json()]
    assert client.delete("/v1/responders/dee").status_code == 204
    assert client.get("/v1/responders/dee").status_code == 404


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Mars/Olympus"}, "$.timezone"),
        ({"capacity": 0}, "$.capacity"),
        ({"tiers": [9]}, "$.tiers[0]"),
        ({"colour": "red"}, "$.colour"),
    ],
)
def test_bad_responder_profile_is_refused(client: TestClient, change: dict, field: str) -> None:
    """Check invalid profiles get a 400 naming the field and nothing is stored."""
    r = client.put("/v1/responders/bad", json={**PROFILE, **change})
    assert r.status_code == 400 and r.json()["field"] == field
    assert client.get("/v1/responders/bad").status_code == 404


def test_presence_updates_online_and_load(client: TestClient) -> None:
    """Check the SMMS can set presence and open cases."""
    r = client.put("/v1/responders/bo/presence", json={"online": False, "open_cases": 2})
    assert r.json()["online"] is False and r.json()["open_cases"] == 2
    assert client.put("/v1/responders/ghost/presence", json={"online": True}).status_code == 404


def test_second_claim_is_a_conflict(client: TestClient) -> None:
    """Check that a claimed mention cannot be claimed again."""
    assert client.post("/v1/mentions/m1/claim", json={"responder_id": "ana"}).status_code == 201
    r = client.post("/v1/mentions/m1/claim", json={"responder_id": "bo"})
    assert r.status_code == 409 and r.json()["error"] == "already_claimed"
    assert client.get("/v1/responders/bo").json()["open_cases"] == 0


def test_claim_race_has_exactly_one_winner_and_respects_capacity(client: TestClient) -> None:
    """Check many concurrent claims: one winner per mention, nobody over capacity."""
    client.put("/v1/responders/dee", json=PROFILE)  # capacity 2
    results: list[int] = []
    lock = threading.Lock()

    def grab(mention: str, who: str) -> None:
        r = client.post(f"/v1/mentions/{mention}/claim", json={"responder_id": who})
        with lock:
            results.append((mention, r.status_code))

    threads = [
        threading.Thread(target=grab, args=(f"race-{i % 4}", "dee" if i % 2 else "ana"))
        for i in range(24)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    winners = {}
    for mention, status in results:
        if status == 201:
            winners[mention] = winners.get(mention, 0) + 1
    assert all(v == 1 for v in winners.values())
    assert all(s in (201, 409) for _, s in results) and len(results) == 24
    assert client.get("/v1/responders/dee").json()["open_cases"] <= 2


def test_full_responder_cannot_claim(client: TestClient) -> None:
    """Check capacity is enforced on claim."""
    client.put("/v1/responders/dee", json=PROFILE)
    for m in ("a", "b"):
        assert (
            client.post(f"/v1/mentions/{m}/claim", json={"responder_id": "dee"}).status_code == 201
        )
    r = client.post("/v1/mentions/c/claim", json={"responder_id": "dee"})
    assert r.status_code == 409 and r.json()["error"] == "responder_full"


def test_resolved_outcome_releases_the_claim(client: TestClient) -> None:
    """Check that recording a resolution gives the responder's capacity back."""
    client.post("/v1/mentions/m9/claim", json={"responder_id": "ana"})
    assert client.get("/v1/responders/ana").json()["open_cases"] == 1
    r = client.post(
        "/v1/mentions/m9/outcome",
        json={
            "responder_id": "ana",
            "resolved": True,
            "csat": 5,
            "first_response_s": 120,
            "replied_at": "2026-11-23T10:00:00Z",
            "reply_action": "private",
        },
    )
    assert r.status_code == 201 and r.json()["released_claim"] is True
    assert client.get("/v1/responders/ana").json()["open_cases"] == 0


def test_outcome_with_bad_csat_is_refused(client: TestClient) -> None:
    """Check outcome validation names the field."""
    r = client.post("/v1/mentions/m/outcome", json={"responder_id": "ana", "csat": 11})
    assert r.status_code == 400 and r.json()["field"] == "$.csat"


def test_every_prediction_is_logged(client: TestClient) -> None:
    """Check the prediction log holds the mention, versions and outputs."""
    client.post(
        "/v1/score/batch",
        json={"mentions": [{"id": "a", "text": "hi"}, {"id": "b", "text": "my bag broke"}]},
    )
    client.app.state.log.flush()
    engine = client.app.state.engine
    with engine.connect() as conn:
        rows = conn.execute(select(predictions)).all()
    assert {r.mention_id for r in rows} == {"a", "b"}
    assert all(r.model_version == "v1" and r.output["reply"]["action"] for r in rows)


def test_repeat_rager_is_recognised_from_the_log(client: TestClient) -> None:
    """Check that author history from earlier predictions feeds the repeat-rager rule."""
    body = {"text": "win a free card www.win.example now", "author": {"id": "rager"}}
    for i in range(4):
        client.post("/v1/score", json={"id": f"s{i}", **body})
    r = client.post(
        "/v1/score",
        json={"id": "x", "text": "my bag broke again, so annoyed", "author": {"id": "rager"}},
    ).json()
    assert r["reply"]["action"] == "none" and "repeat_rager" in r["reply"]["reasons"]


def test_metrics_count_scored_mentions(client: TestClient) -> None:
    """Check /metrics exposes Prometheus counters."""
    client.post("/v1/score", json={"id": "1", "text": "my bag broke"})
    text = client.get("/metrics").text
    assert (
        "switchboard_mentions_scored_total" in text
        and 'switchboard_model_info{version="v1"}' in text
    )


def test_reload_refuses_corrupted_bundle_and_keeps_serving(
    client: TestClient, service_settings: Settings, trained_bundle
) -> None:
    """Check a tampered new champion is refused and the old version keeps answering."""
    registry = Registry(service_settings.registry_path)
    entry = registry.register(trained_bundle, "v2")
    registry.set_alias("champion", "v2")
    (entry.path / "head-tier.joblib").write_bytes(b"tampered")
    r = client.post("/v1/model/reload")
    assert r.status_code == 409 and r.json()["error"] == "model_refused"
    assert client.post("/v1/score", json={"id": "1", "text": "hi"}).json()["model_version"] == "v1"


def test_reload_swaps_to_new_champion(
    client: TestClient, service_settings: Settings, trained_bundle
) -> None:
    """Check a verified new champion replaces the serving one."""
    registry = Registry(service_settings.registry_path)
    registry.register(trained_bundle, "v2")
    registry.set_alias("champion", "v2")
    assert client.post("/v1/model/reload").json()["version"] == "v1"  # metadata says v1
    assert client.get("/ready").json()["status"] == "ready"


def test_migrations_create_the_schema_on_an_empty_database(empty_database_url: str) -> None:
    """Check Alembic builds every table, and running it twice is harmless."""
    engine = make_engine(empty_database_url)
    migrate(engine)
    migrate(engine)
    names = set(inspect(engine).get_table_names())
    assert {"responders", "api_keys", "predictions", "claims", "outcomes"} <= names
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(predictions)).scalar_one() == 0
