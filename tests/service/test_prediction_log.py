"""The prediction log: journalled before the answer, copied to the database, nothing lost."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from switchboard.service.db import make_engine, migrate, predictions
from switchboard.service.errors import LogUnavailable
from switchboard.service.journal import Journal
from switchboard.service.prediction_log import PredictionLog, _encode


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


def _engine(tmp_path: Path, tables: bool = True) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    if tables:
        migrate(engine)
    return engine


def _count(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(predictions)).scalar_one()


def test_every_appended_row_is_written_by_close(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    log = PredictionLog(engine, tmp_path / "journal")
    for i in range(0, 500, 5):
        log.append([_row(j) for j in range(i, i + 5)])
    log.close()
    assert _count(engine) == 500
    assert not list((tmp_path / "journal").glob("*.jsonl")), "a copied journal is deleted"


def test_flush_makes_rows_visible(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    log = PredictionLog(engine, tmp_path / "journal", interval_s=10.0)
    log.append([_row(1)])
    log.flush()
    assert _count(engine) == 1
    log.close()


def _lines(ids: range) -> bytes:
    return b"".join(_encode(_row(i)) + b"\n" for i in ids)


def test_rows_journalled_before_a_crash_are_replayed_at_the_next_start(tmp_path: Path) -> None:
    crashed = Journal(tmp_path / "journal" / "slot-0")  # a process that journalled, then died
    crashed.append(_lines(range(50)))
    crashed.append(_encode(_row(50))[:40])  # a write cut short by the crash: never answered
    engine = _engine(tmp_path)
    log = PredictionLog(engine, tmp_path / "journal")
    log.flush()
    assert _count(engine) == 50
    log.close()


def test_a_replayed_journal_never_inserts_a_row_twice(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    first = PredictionLog(engine, tmp_path / "journal")
    first.append([_row(i) for i in range(10)])
    first.close()
    Journal(tmp_path / "journal" / "slot-0").append(_lines(range(10)))  # copied, not released
    second = PredictionLog(engine, tmp_path / "journal")
    second.flush()
    assert _count(engine) == 10
    second.close()


def test_a_dead_workers_journal_is_drained_by_the_next_process(tmp_path: Path) -> None:
    Journal(tmp_path / "journal" / "slot-3").append(_lines(range(20)))
    engine = _engine(tmp_path)
    log = PredictionLog(engine, tmp_path / "journal")  # takes slot-0, drains slot-3
    log.append([_row(100)])
    log.flush()
    assert _count(engine) == 21
    log.close()
    assert not list((tmp_path / "journal").glob("slot-*/*.jsonl"))


def test_two_processes_never_share_a_journal_slot(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    a, b = PredictionLog(engine, tmp_path / "journal"), PredictionLog(engine, tmp_path / "journal")
    assert a._journal.directory != b._journal.directory
    a.close()
    b.close()


def test_a_line_that_is_not_a_row_goes_to_rejects_and_the_rest_is_written(tmp_path: Path) -> None:
    slot = Journal(tmp_path / "journal" / "slot-0")
    slot.append(_lines(range(1, 2)) + b"{broken\n" + _lines(range(2, 3)))
    engine = _engine(tmp_path)
    log = PredictionLog(engine, tmp_path / "journal")
    log.flush()
    assert _count(engine) == 2
    rejects = (tmp_path / "journal" / "rejects.jsonl").read_text()
    assert "not a prediction row" in rejects and "{broken" in rejects
    log.close()


def test_database_away_fails_flush_fast_and_is_caught_up_when_back(tmp_path: Path) -> None:
    engine = _engine(tmp_path, tables=False)  # every insert fails as if the database were down
    log = PredictionLog(engine, tmp_path / "journal")
    log.append([_row(1), _row(2)])
    with pytest.raises(LogUnavailable, match="behind"):
        log.flush(timeout_s=10)
    assert log.status()["database_error"]
    migrate(engine)  # the database is back
    log.flush(timeout_s=30)
    assert _count(engine) == 2 and not log.status()["database_error"]
    log.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full to fake a full disk")
def test_a_full_disk_refuses_the_append_and_keeps_what_was_answered(tmp_path: Path) -> None:
    engine = _engine(tmp_path)
    log = PredictionLog(engine, tmp_path / "journal")
    log.append([_row(1)])
    journal = log._journal
    os.close(journal._fd)
    journal._fd = os.open("/dev/full", os.O_WRONLY)  # every write: ENOSPC
    with pytest.raises(LogUnavailable, match="cannot be recorded"):
        log.append([_row(2)])
    assert not log.status()["journal_writable"] or log.status()["journal_error"]
    log.append([_row(3)])  # the journal moved on to a fresh segment
    log.flush()
    with engine.connect() as conn:
        ids = set(conn.execute(select(predictions.c.mention_id)).scalars())
    assert ids == {"m1", "m3"}
    log.close()
