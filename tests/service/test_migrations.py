"""Upgrading a database that an older release wrote keeps its data and follows the new rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, insert, select

from switchboard.routing.types import AuthorHistory
from switchboard.service import activity
from switchboard.service.auth import hash_key
from switchboard.service.db import MIGRATIONS, make_engine, migrate, predictions, reviews
from tests.service.conftest import logged

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)


def _upgrade(engine: Engine, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def _prediction(mention_id: str, at: datetime) -> dict:
    return logged(
        mention_id, at, author_id="rita", brand="acme", intent="complaint",
        sentiment="negative", tier=3,
    )  # fmt: skip


def test_upgrade_keeps_one_prediction_per_mention_and_its_reviews(empty_database_url: str) -> None:
    engine = make_engine(empty_database_url)
    _upgrade(engine, "0003")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX ix_predictions_mention_id")
        conn.exec_driver_sql("CREATE INDEX ix_predictions_mention_id ON predictions (mention_id)")
        conn.exec_driver_sql("DROP TABLE author_activity")
        conn.exec_driver_sql("DROP TABLE brand_activity")
        now = datetime.now(UTC)
        for i in range(3):
            conn.execute(insert(predictions).values(_prediction("dup", now - timedelta(hours=i))))
        conn.execute(insert(predictions).values(_prediction("once", now)))
        last = conn.execute(select(predictions.c.id).order_by(predictions.c.id.desc())).first()
        conn.execute(
            insert(reviews).values(
                prediction_id=last.id - 1, reviewer="qa", reviewed_at=now, verdict="accepted",
                reply_action="public", tier=3,
            )
        )  # fmt: skip
    migrate(engine)
    with engine.connect() as conn:
        kept = conn.execute(select(predictions.c.id, predictions.c.mention_id)).all()
        reviewed = conn.execute(select(reviews.c.prediction_id)).scalars().all()
    assert sorted(m for _, m in kept) == ["dup", "once"]
    dup_id = next(i for i, m in kept if m == "dup")
    assert reviewed == [dup_id], "the review moved to the prediction that was kept"
    history = activity.author_history(engine, ["rita"], datetime.now(UTC))
    assert history == {"rita": AuthorHistory(2, 2, 0, 2)}, "counters back-filled from the log"


def test_upgrade_adds_key_revocation_and_keeps_the_keys(empty_database_url: str) -> None:
    """Check 0007 adds `revoked_at` to a 0006 database whose keys keep working until revoked."""
    from switchboard.service.auth import principal_of, revoke_key

    engine = make_engine(empty_database_url)
    _upgrade(engine, "0006")
    with engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE api_keys DROP COLUMN revoked_at")  # as 0006 made it
        conn.exec_driver_sql(
            "INSERT INTO api_keys (key_hash, created_at, scopes, name) "
            f"VALUES ('{hash_key('old-key')}', '2026-01-01 00:00:00', 'score', 'ops')"
        )
    migrate(engine)
    assert principal_of("old-key", {}, engine).identity == "ops"
    assert revoke_key(engine, 1) is not None
    assert principal_of("old-key", {}, engine) is None
    engine.dispose()
