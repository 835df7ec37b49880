"""Shared author history (`SWITCHBOARD_SHARED_AUTHOR_HISTORY`): two apps on one database, as two
replicas, each see the mentions the other answered, and every mention is counted once."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from switchboard.routing.types import AuthorHistory
from switchboard.service import activity
from switchboard.service.app import create_app
from switchboard.settings import Settings
from tests.service.conftest import ADMIN_KEY

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)
SPAM = "win a free card www.win.example now"  # the test bundle's spam: abusive for the rule


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
