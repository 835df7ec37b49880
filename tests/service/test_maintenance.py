"""The retention purge runs once per period across replicas, not once per process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import inspect

from switchboard.service.db import make_engine, migrate
from switchboard.service.maintenance import claim_run

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL (tests/service/conftest.py)

HOUR = timedelta(hours=1)
T0 = datetime(2026, 11, 24, 6, 0, tzinfo=UTC)


def test_a_second_process_skips_a_purge_run_within_the_period(
    database_url: str, tmp_path: Path
) -> None:
    engine = make_engine(database_url or f"sqlite:///{tmp_path / 'service.db'}")
    migrate(engine)
    assert claim_run(engine, "retention", HOUR, T0) is None  # first: runs
    assert claim_run(engine, "retention", HOUR, T0 + timedelta(minutes=2)) == T0  # skips
    assert claim_run(engine, "retention", HOUR, T0 + HOUR) is None  # next period: runs
    assert claim_run(engine, "other-task", HOUR, T0 + HOUR) is None  # tasks are separate
    engine.dispose()


def test_upgrade_adds_the_maintenance_runs_table(empty_database_url: str) -> None:
    """Check 0009 creates `maintenance_runs` on a database at 0008."""
    from tests.service.test_migrations import _upgrade

    engine = make_engine(empty_database_url)
    _upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE maintenance_runs")  # 0001 builds today's tables
    assert "maintenance_runs" not in inspect(engine).get_table_names()
    migrate(engine)
    assert "maintenance_runs" in inspect(engine).get_table_names()
    assert claim_run(engine, "retention", HOUR, T0) is None
    engine.dispose()
