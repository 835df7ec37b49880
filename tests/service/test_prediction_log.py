"""The background prediction log: nothing scored is lost, even when the database refuses."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from switchboard.service.db import make_engine, migrate, predictions
from switchboard.service.prediction_log import PredictionLog


def _row(i: int) -> dict:
    return {
        "mention_id": f"m{i}",
        "author_id": None,
        "brand": None,
        "created_at": datetime.now(UTC),
        "model_version": "v1",
        "policy_version": "p",
        "intent": None,
        "sentiment": None,
        "reply_action": "public",
        "tier": 3,
        "abstain": False,
        "text": "t",
        "output": {},
        "latency_ms": 0.1,
    }


def test_every_appended_row_is_written_by_close(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    log = PredictionLog(engine, tmp_path / "fallback.jsonl")
    for i in range(0, 500, 5):
        log.append([_row(j) for j in range(i, i + 5)])
    log.close()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(predictions)).scalar_one() == 500


def test_flush_makes_rows_visible(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    migrate(engine)
    log = PredictionLog(engine, tmp_path / "fallback.jsonl", interval_s=10.0)
    log.append([_row(1)])
    log.flush()
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(predictions)).scalar_one() == 1
    log.close()


def test_rows_the_database_refuses_go_to_the_fallback_file(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")  # no tables: inserts fail
    fallback = tmp_path / "fallback.jsonl"
    log = PredictionLog(engine, fallback)
    log.append([_row(1), _row(2)])
    log.close()
    assert len(fallback.read_text().splitlines()) == 2
