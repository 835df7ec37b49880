"""Shared author history (`SWITCHBOARD_SHARED_AUTHOR_HISTORY`): two apps on one database, as two
replicas, each see the mentions the other answered, and every mention is counted once; a brand
spike reaches every replica within the volume cache's time to live."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from switchboard.routing.history import SPIKE_MIN_BASELINE
from switchboard.routing.types import AuthorHistory
from switchboard.service import activity
from switchboard.service.app import create_app
from switchboard.service.caches import VOLUME_TTL_S, TTLCache
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)
SPAM = "win a free card www.win.example now"  # the test bundle's spam: abusive for the rule
COMPLAINT = "my bag broke again, so annoyed"  # a negative complaint: a spike escalates it


@pytest.fixture
def replicas(service_settings: Settings, tmp_path: Path) -> Iterator[list[TestClient]]:
    """Two apps with their own data dirs (journal, caches) on the same database."""
    url = service_settings.database_url or f"sqlite:///{tmp_path / 'shared.db'}"
    clients = []
    try:
        for name in ("a", "b"):
            settings = dataclasses.replace(
                service_settings,
                data_dir=tmp_path / name,
                registry_dir=str(service_settings.registry_path),
                database_url=url,
                shared_author_history=True,
            )
            client = TestClient(create_app(settings)).__enter__()
            client.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
            clients.append(client)
        yield clients
    finally:
        for client in clients:
            client.__exit__(None, None, None)


def test_a_rager_alternating_between_replicas_is_caught(replicas: list[TestClient]) -> None:
    """Check the 4th spam mention, whichever replica answers it, sees the three before."""
    reasons = []
    for i in range(5):
        body = {"id": f"r{i}", "text": SPAM, "author": {"id": "rager"}}
        reasons.append(replicas[i % 2].post("/v1/score", json=body).json()["reply"]["reasons"])
    assert ["repeat_rager" in r for r in reasons] == [False, False, False, True, True]


def test_every_mention_is_counted_once_by_request_and_writer(replicas: list[TestClient]) -> None:
    """Check the counters hold each mention once after both prediction logs reach the database:
    the request counted the author, the writer only the brand; a retry counts nothing."""
    for i in range(4):
        body = {"id": f"m{i}", "text": SPAM, "author": {"id": "rita"}, "brand": "acme"}
        assert replicas[i % 2].post("/v1/score", json=body).status_code == 200
    retry = {"id": "m0", "text": SPAM, "author": {"id": "rita"}, "brand": "acme"}
    assert replicas[0].post("/v1/score", json=retry).json()["replayed"] is True
    for client in replicas:
        client.app.state.log.flush()
    engine, now = replicas[0].app.state.engine, datetime.now(UTC)
    assert activity.author_history(engine, ["rita"], now) == {"rita": AuthorHistory(4, 0, 4, 0)}
    with engine.connect() as conn:
        brand = conn.exec_driver_sql("SELECT sum(mentions) FROM brand_activity").scalar()
    assert brand == 4


def test_a_brand_spike_on_one_replica_reaches_the_other_within_the_volume_ttl(
    replicas: list[TestClient],
) -> None:
    """Check a spike of one brand's mentions scored by replica a escalates replica b's next
    complaint once b's cached volume expires (VOLUME_TTL_S, 5 s): every replica sees a spike,
    a few seconds late at most. b's cache runs on a clock the test moves."""
    clock = [0.0]
    b = replicas[1]
    b.app.state.brand_volume_cache = TTLCache(VOLUME_TTL_S, clock=lambda: clock[0])
    complaint = {"text": COMPLAINT, "brand": "acme"}
    assert "crisis_volume_spike" not in b.post("/v1/score", json={"id": "b0", **complaint}).text
    for i in range(SPIKE_MIN_BASELINE + 5):  # all in the last 15 minutes: far above usual
        replicas[0].post("/v1/score", json={"id": f"a{i}", **complaint})
    replicas[0].app.state.log.flush()
    assert "crisis_volume_spike" not in b.post("/v1/score", json={"id": "b1", **complaint}).text
    clock[0] += VOLUME_TTL_S + 0.01
    assert "crisis_volume_spike" in b.post("/v1/score", json={"id": "b2", **complaint}).text
