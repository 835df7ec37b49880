"""A small real bundle in a temporary registry, and a test client over the app."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient
from sqlalchemy import text

from switchboard.ml.registry import CHAMPION, Registry
from switchboard.routing.types import Responder
from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.service.db import make_engine, metadata, migrate, schema_revisions
from switchboard.settings import Settings
from tests import pg


@pytest.fixture
def service_settings(tmp_path: Path, trained_bundle, database_url: str) -> Settings:
    settings = Settings(
        data_dir=tmp_path / "var",
        max_batch=20,
        api_keys=f"{ADMIN_KEY}:admin;{SCORE_KEY}:score;{ROSTER_KEY}:roster;"
        f"{REVIEW_KEY}:review:{REVIEWER}",
        database_url=database_url,
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
        _drop_everything(url)
    return url


def _drop_everything(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        metadata.drop_all(conn)
        conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    engine.dispose()


# --- the same tests on PostgreSQL -----------------------------------------------------------
# A module marked `both_databases` runs each test that uses `database_url` (the service's
# database, at the schema head and empty) or `empty_database_url` (no tables at all) twice:
# on SQLite and on the session's throwaway PostgreSQL server (tests/pg.py), which skips with a
# message when it cannot start. Other modules run on SQLite only (or the database named by
# SWITCHBOARD_TEST_DATABASE_URL), as before.


# Parametrised checks of input and authorisation that are refused before any database work:
# run once, on SQLite, to keep the PostgreSQL pass short.
SAME_ON_EVERY_DATABASE = {
    "test_auth_matrix",
    "test_bad_input_is_a_400_naming_the_field",
    "test_invalid_json_is_a_400",
    "test_bad_responder_profile_is_refused",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    wanted = {"database_url", "empty_database_url"} & set(metafunc.fixturenames)
    if metafunc.function.__name__ in SAME_ON_EVERY_DATABASE:
        return
    if wanted and metafunc.definition.get_closest_marker("both_databases"):
        metafunc.parametrize("database_kind", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres() -> Iterator[str]:
    """One throwaway PostgreSQL server for the session; skips when it cannot start."""
    with pg.server() as url:
        yield url


@pytest.fixture
def database_kind(request: pytest.FixtureRequest) -> str:
    return getattr(request, "param", "sqlite")


@pytest.fixture
def database_url(database_kind: str, request: pytest.FixtureRequest) -> str:
    """ "" (SQLite in the data dir, or SWITCHBOARD_TEST_DATABASE_URL emptied) or the PostgreSQL
    server's database at the schema head with every table emptied (TRUNCATE is ~50x faster
    than migrating an empty database for each test)."""
    if database_kind == "sqlite":
        return fresh_database()
    url = request.getfixturevalue("postgres")
    engine = make_engine(url)
    try:
        current, head = schema_revisions(engine)
        if current != head:
            with engine.begin() as conn:
                conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            migrate(engine)
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        with engine.begin() as conn:
            conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    finally:
        engine.dispose()
    return url


@pytest.fixture
def empty_database_url(database_kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database without any table: a SQLite file in the test's tmp dir, or the PostgreSQL
    server's database with its schema dropped."""
    if database_kind == "sqlite":
        return fresh_database() or f"sqlite:///{tmp_path / 'empty.db'}"
    url = request.getfixturevalue("postgres")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


def logged(mention_id: str, at: datetime, **fields: Any) -> dict[str, Any]:
    """A prediction-log row as the service writes it: a public tier-2 question by default,
    with no author or brand unless `fields` give them."""
    return {
        "mention_id": mention_id, "author_id": None, "brand": None, "created_at": at,
        "model_version": "v1", "policy_version": "p", "intent": "question",
        "sentiment": "neutral", "reply_action": "public", "tier": 2, "abstain": False,
        "text": "t", "output": {}, "latency_ms": 0.1,
    } | fields  # fmt: skip


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
