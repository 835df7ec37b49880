"""A small real bundle in a temporary registry, and a test client over the app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from switchboard.ml.registry import CHAMPION, Registry
from switchboard.routing.types import Responder
from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.service.db import make_engine, metadata
from switchboard.settings import Settings
from switchboard.training.fit import fit_bundle
from tests.conftest import make_cases


@pytest.fixture(scope="session")
def trained_bundle():
    bundle = fit_bundle(make_cases(400)).bundle
    bundle.metadata["version"] = "v1"
    return bundle


@pytest.fixture
def service_settings(tmp_path: Path, trained_bundle) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "var",
        max_batch=20,
        api_keys=f"{ADMIN_KEY}:admin;{SCORE_KEY}:score;{ROSTER_KEY}:roster;"
        f"{REVIEW_KEY}:review:{REVIEWER}",
        database_url=fresh_database(),
    )
    registry = Registry(settings.registry_path)
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    return settings


def fresh_database() -> str:
    """ "" (SQLite under the test's data dir) or, to run the service tests on another database
    such as PostgreSQL, the emptied database named by SWITCHBOARD_TEST_DATABASE_URL."""
    url = os.environ.get("SWITCHBOARD_TEST_DATABASE_URL", "")
    if url:
        engine = make_engine(url)
        with engine.begin() as conn:
            metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        engine.dispose()
    return url


ROSTER = (
    Responder(
        id="ana",
        tiers=(2, 3, 4, 5),
        online=True,
        shift_start_hour=0,
        shift_end_hour=24,
        skills=("complaint",),
        languages=("en", "es"),
    ),
    Responder(id="bo", tiers=(2, 3), online=True, shift_start_hour=0, shift_end_hour=24),
)


ADMIN_KEY, SCORE_KEY, ROSTER_KEY = "admin-key", "score-key", "roster-key"
REVIEW_KEY, REVIEWER = "review-key", "Quinn"  # a review key with an owner name


@pytest.fixture
def client(service_settings: Settings) -> Iterator[TestClient]:
    """A client over a started app with a seeded roster, authenticated as admin."""
    with TestClient(app=create_app(service_settings), raise_server_exceptions=True) as c:
        store.seed_roster(c.app.state.engine, ROSTER)
        c.headers["Authorization"] = f"Bearer {ADMIN_KEY}"
        yield c
