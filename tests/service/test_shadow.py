"""Shadow mode: the registry's `challenger` is scored beside the champion, never returned."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from litestar.testing import TestClient
from sqlalchemy import func, insert, select

from switchboard.ml.registry import CHALLENGER, Registry
from switchboard.service import shadow, store
from switchboard.service.app import create_app
from switchboard.service.db import shadow_predictions
from switchboard.settings import Settings
from switchboard.training.fit import fit_bundle
from tests.conftest import make_cases
from tests.service.conftest import ADMIN_KEY, ROSTER, SCORE_KEY

TEXTS = [
    "my phone broke again, so annoyed",
    "love the new app! thank you",
    "cheap bag at http://spam.example",
    "where is my order #A123456 for the card?",
    "worst seat ever, still broken",
    "great card, best team",
]


@pytest.fixture(scope="module")
def contrary_bundle():
    """A challenger that learnt complaints and praise the wrong way round: it must disagree."""
    cases = make_cases(300, seed=11)
    cases["intent"] = cases["intent"].replace({"complaint": "praise", "praise": "complaint"})
    flipped = {"negative": "positive", "positive": "negative"}
    cases["sentiment"] = cases["sentiment"].replace(flipped)
    bundle = fit_bundle(cases, evaluate=False).bundle
    bundle.metadata["version"] = "v2"
    return bundle


@contextmanager
def started(settings: Settings) -> Iterator[TestClient]:
    with TestClient(app=create_app(settings), raise_server_exceptions=True) as c:
        store.seed_roster(c.app.state.engine, ROSTER)
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield c


def _set_challenger(settings: Settings, bundle=None, version: str = "v1") -> None:
    registry = Registry(settings.registry_path)
    if bundle is not None:
        version = bundle.metadata["version"]
        registry.register(bundle, version)
    registry.set_alias(CHALLENGER, version)


def _score(client: TestClient, prefix: str, texts: list[str] = TEXTS) -> list[dict]:
    mentions = [{"id": f"{prefix}-{i}", "text": t} for i, t in enumerate(texts)]
    r = client.post("/v1/score/batch", json={"mentions": mentions})
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _shadow(client: TestClient) -> dict:
    assert client.app.state.shadow.drain(30), "the shadow queue did not empty"
    r = client.get("/v1/model/shadow")
    assert r.status_code == 200, r.text
    return r.json()


def test_challenger_is_scored_but_never_returned(service_settings: Settings, contrary_bundle):
    """Check that answers with a challenger in shadow equal champion-only answers."""
    with started(service_settings) as client:
        alone = _score(client, "alone")
        _set_challenger(service_settings, contrary_bundle)
        assert client.post("/v1/model/reload").status_code == 200
        shadowed = _score(client, "shadowed")
        single = client.post("/v1/score", json={"id": "one", "text": TEXTS[0]}).json()
        report = _shadow(client)
    assert report["compared"] == len(TEXTS) + 1, "the challenger did score them"
    assert {r["model_version"] for r in [*shadowed, single]} == {"v1"}
    for a, b in zip(alone, shadowed, strict=True):
        assert {**a, "id": None} == {**b, "id": None}
    assert {**single, "id": None} == {**alone[0], "id": None}


def test_identical_challenger_agrees_everywhere(service_settings: Settings) -> None:
    """Check that a challenger that is the champion's own version agrees 100 % per head."""
    _set_challenger(service_settings, version="v1")
    with started(service_settings) as client:
        _score(client, "m")
        report = _shadow(client)
    assert (report["champion"], report["challenger"], report["shadowing"]) == ("v1", "v1", True)
    assert report["compared"] == len(TEXTS)
    assert report["heads"], "every head of both models is reported"
    assert {h["agreement"] for h in report["heads"]} == {1.0}
    assert report["decision"] == {"reply_action": 1.0, "tier": 1.0, "both": 1.0}
    assert report["disagreements"] == []
    assert all(set(row) == {a} for a, row in report["reply_confusion"].items())
    assert sum(n for row in report["reply_confusion"].values() for n in row.values()) == 6
    assert report["since"] is not None


def test_different_challenger_disagrees_and_is_reported(
    service_settings: Settings, contrary_bundle
) -> None:
    """Check that agreement falls below 1 where a different challenger answers otherwise, and
    that the disagreements name the mentions, the heads and the metrics count them."""
    _set_challenger(service_settings, contrary_bundle)
    with started(service_settings) as client:
        _score(client, "m")
        report = _shadow(client)
        metrics = client.get("/metrics").text
    agreement = {h["head"]: h["agreement"] for h in report["heads"]}
    assert report["challenger"] == "v2"
    assert agreement["intent"] < 1.0
    assert report["disagreements"], "recent disagreements are listed"
    assert all(e["mention_id"].startswith("m-") for e in report["disagreements"])
    assert any("intent" in e["heads"] for e in report["disagreements"])
    assert "switchboard_shadow_comparisons_total 6.0" in metrics
    assert 'switchboard_shadow_head_disagreements_total{head="intent"}' in metrics


def test_comparisons_survive_a_restart(service_settings: Settings) -> None:
    """Check that the report counts stored comparisons, not only this process's."""
    _set_challenger(service_settings, version="v1")
    with started(service_settings) as client:
        _score(client, "before")
        assert client.app.state.shadow.drain(30)
    with started(service_settings) as client:
        _score(client, "after", TEXTS[:2])
        report = _shadow(client)
    assert report["compared"] == len(TEXTS) + 2
    assert report["process"]["compared"] == 2


def test_no_challenger_is_a_clear_404(client: TestClient) -> None:
    """Check that without a challenger alias the report is a 404 `no_challenger`."""
    r = client.get("/v1/model/shadow")
    assert r.status_code == 404
    assert r.json()["error"] == "no_challenger"
    assert client.get("/ready").json()["shadow"]["challenger"] is None


def test_shadow_report_needs_a_key_with_the_score_scope(client: TestClient) -> None:
    """Check that the report is behind the `score` scope like GET /v1/model."""
    assert client.get("/v1/model/shadow", headers={"Authorization": ""}).status_code == 401
    r = client.get("/v1/model/shadow", headers={"Authorization": f"Bearer {SCORE_KEY}"})
    assert r.status_code == 404  # allowed in, and there is no challenger


def test_reload_picks_up_a_newly_set_challenger(
    client: TestClient, service_settings: Settings, contrary_bundle
) -> None:
    """Check that POST /v1/model/reload loads a challenger set after start-up."""
    assert client.get("/v1/model/shadow").status_code == 404
    _score(client, "unshadowed")
    _set_challenger(service_settings, contrary_bundle)
    assert client.post("/v1/model/reload").status_code == 200
    report = _shadow(client)
    assert (report["challenger"], report["compared"]) == ("v2", 0)
    _score(client, "shadowed")
    assert _shadow(client)["compared"] == len(TEXTS)


def test_corrupt_challenger_is_reported_and_the_champion_serves(
    service_settings: Settings, contrary_bundle
) -> None:
    """Check that a challenger failing verification shows in /ready and the report only."""
    _set_challenger(service_settings, contrary_bundle)
    target = Registry(service_settings.registry_path).get("v2").path / "metadata.json"
    target.write_text(target.read_text() + " ")
    with started(service_settings) as client:
        ready = client.get("/ready")
        answers = _score(client, "m")
        report = _shadow(client)
    assert ready.status_code == 200
    assert ready.json()["shadow"]["challenger"] == "v2"
    assert "metadata.json" in ready.json()["shadow"]["error"]
    assert {a["model_version"] for a in answers} == {"v1"}
    assert (report["shadowing"], report["compared"]) == (False, 0)
    assert "metadata.json" in report["challenger_error"]


class _Held:
    """A challenger that waits for a signal before scoring: a slow shadow thread."""

    def __init__(self, router) -> None:
        self.router, self.bundle = router, router.bundle
        self.go = threading.Event()

    def recommend(self, *args):
        assert self.go.wait(30)
        return self.router.recommend(*args)


def test_full_shadow_queue_drops_and_counts_instead_of_blocking(
    service_settings: Settings,
) -> None:
    """Check that when the challenger falls behind, requests are answered at once and the
    mentions that do not fit the queue are dropped and counted."""
    _set_challenger(service_settings, version="v1")
    with started(service_settings) as client:
        state = client.app.state
        held = _Held(state.shadow.challenger)
        state.shadow.set_challenger(held, "v1")
        state.shadow.max_pending = 2
        _score(client, "first", TEXTS[:1])  # taken by the thread, which now waits
        _score(client, "second", TEXTS[:1])  # waits in the queue: 2 pending
        started_at = time.perf_counter()
        _score(client, "third", TEXTS[:3])  # does not fit
        assert time.perf_counter() - started_at < 5
        assert state.shadow.dropped == 3
        held.go.set()
        report = _shadow(client)
        metrics = client.get("/metrics").text
    assert (report["compared"], report["dropped"]) == (2, 3)
    assert "switchboard_shadow_dropped_total 3.0" in metrics


def test_old_shadow_rows_are_deleted_with_the_prediction_retention(client: TestClient) -> None:
    """Check that retention removes shadow rows older than the prediction retention."""
    engine, now = client.app.state.engine, datetime.now(UTC)
    row = {
        "mention_id": "x", "champion_version": "v1", "challenger_version": "v2",
        "champion_labels": {}, "challenger_labels": {}, "champion_reply": "none",
        "challenger_reply": "none", "champion_tier": 1, "challenger_tier": 1, "disagree": "",
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(insert(shadow_predictions), [
            {**row, "created_at": now - timedelta(days=91)}, {**row, "created_at": now},
        ])  # fmt: skip
        assert shadow.purge(conn, 90, now) == 1
        assert shadow.purge(conn, 0, now) == 0
        assert conn.execute(select(func.count()).select_from(shadow_predictions)).scalar() == 1


def test_shutdown_stops_the_shadow_thread(service_settings: Settings) -> None:
    """Check that the lifespan's shutdown ends the shadow thread."""
    _set_challenger(service_settings, version="v1")
    with started(service_settings) as client:
        thread = client.app.state.shadow._thread
        assert thread.is_alive()
    assert not thread.is_alive()
