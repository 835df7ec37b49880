"""Author history and brand volume, as counted when predictions are logged."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from switchboard.routing.types import AuthorHistory
from switchboard.service import activity, store
from switchboard.service.db import brand_activity, make_engine, migrate
from tests.service.conftest import logged

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
IDS = itertools.count()


@pytest.fixture
def engine(tmp_path: Path, database_url: str) -> Engine:
    e = make_engine(database_url or f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(e)
    return e


def _log(engine: Engine, at: datetime, **kw: object) -> None:
    store.log_predictions(engine, [logged(f"m{next(IDS)}", at, **kw)])


def test_author_history_counts_the_last_week_only(engine: Engine) -> None:
    _log(engine, NOW - timedelta(days=1), author_id="a", sentiment="negative", intent="troll")
    _log(engine, NOW - timedelta(hours=1), author_id="a", reply_action="none")
    _log(engine, NOW - timedelta(days=8), author_id="a", sentiment="negative")
    _log(engine, NOW, author_id="b")
    history = activity.author_history(engine, ["a", "nobody"], NOW)
    assert history == {"a": AuthorHistory(2, 1, 1, 1)}


def test_local_update_counts_like_the_log(engine: Engine) -> None:
    row = {"sentiment": "negative", "intent": "spam", "reply_action": "none"}
    assert activity.history_after(AuthorHistory(1, 1, 0, 1), row) == AuthorHistory(2, 2, 1, 1)


def test_brand_volume_ratio_compares_15_minutes_with_the_day(engine: Engine) -> None:
    for i in range(95):  # one mention per 15 minutes over the rest of the day
        _log(engine, NOW - timedelta(minutes=15 * i + 20), brand="acme")
    for _ in range(5):  # five in the last 15 minutes
        _log(engine, NOW - timedelta(minutes=5), brand="acme")
    ratio = activity.volume_ratio(engine, ["acme", "quiet"], NOW)
    assert ratio["acme"] == pytest.approx(5 / (100 / 96))  # 100 a day = 100/96 per 15 min
    assert "quiet" not in ratio  # too little history to call anything a spike


def test_a_mention_logged_twice_counts_once(engine: Engine) -> None:
    row = {
        "mention_id": "retry", "author_id": "a", "brand": "acme", "created_at": NOW,
        "model_version": "v1", "policy_version": "p", "intent": "troll", "sentiment": "negative",
        "reply_action": "none", "tier": 1, "abstain": False, "text": "t", "output": {},
        "latency_ms": 0.1,
    }  # fmt: skip
    assert store.log_predictions(engine, [row]) == 1
    assert store.log_predictions(engine, [row, row]) == 0
    assert activity.author_history(engine, ["a"], NOW) == {"a": AuthorHistory(1, 1, 1, 0)}


def test_old_buckets_are_purged_and_recent_ones_kept(engine: Engine) -> None:
    _log(engine, NOW - timedelta(days=9), author_id="a", brand="acme")
    _log(engine, NOW - timedelta(hours=1), author_id="a", brand="acme")
    with engine.begin() as conn:
        activity.purge(conn, NOW)
    assert activity.author_history(engine, ["a"], NOW) == {"a": AuthorHistory(1, 0, 0, 1)}
    with engine.connect() as conn:
        minutes = conn.execute(select(brand_activity.c.minute)).scalars().all()
    assert minutes == [activity.minute_of(NOW - timedelta(hours=1))]
