"""Replicas starting together: migrations run once under a lock (or as their own command), and
the retention purge runs in one process at a time. On SQLite always; on a real PostgreSQL
server (advisory locks) when its binaries are installed (tests/pg.py; skips otherwise)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from litestar.testing import TestClient

from switchboard.cli import main
from switchboard.service import locks
from switchboard.service.app import create_app
from switchboard.service.db import SchemaBehind, make_engine, schema_revisions
from switchboard.settings import Settings
from tests.conftest import REPO_ROOT

# Each process waits for the start file, then migrates: as close to "at once" as processes get.
RACER = """
import sys, time
from pathlib import Path
from switchboard.service.db import make_engine, migrate
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
migrate(make_engine(sys.argv[1]))
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database of each kind the service supports."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'switchboard.db'}"
    url = request.getfixturevalue("postgres")
    engine = make_engine(url)
    with engine.begin() as conn:  # empty again for each test that uses the server
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url


def test_replicas_migrating_an_empty_database_together_all_start(
    empty_db: str, tmp_path: Path
) -> None:
    """Check four processes that migrate one empty database at the same moment all succeed
    and leave it at the head (without the lock all but one die on the second CREATE)."""
    go = tmp_path / "go"
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, empty_db, str(go)],
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    go.touch()
    try:
        errors = [p.communicate(timeout=120)[1].decode() for p in racers]
    finally:
        for p in racers:
            p.kill()
    assert [p.returncode for p in racers] == [0, 0, 0, 0], errors
    current, head = schema_revisions(make_engine(empty_db))
    assert current == head


def test_retention_runs_in_one_process_at_a_time(empty_db: str) -> None:
    """Check the purge's lock is taken by one holder; a second is told to skip, not to wait."""
    engine, other = make_engine(empty_db), make_engine(empty_db)
    with (
        locks.unless_busy(engine, locks.RETENTION_KEY, "retention") as first,
        locks.unless_busy(other, locks.RETENTION_KEY, "retention") as second,
    ):
        assert (first, second) == (True, False)
    with locks.unless_busy(other, locks.RETENTION_KEY, "retention") as after:
        assert after, "released when the first holder is done"


def test_migrate_command_brings_an_empty_database_to_the_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path)
    assert main(["migrate", "--check"], settings) == 1
    assert "run `switchboard migrate`" in capsys.readouterr().err
    assert main(["migrate"], settings) == 0
    _, head = schema_revisions(make_engine(settings.db_url))
    assert capsys.readouterr().out == f"database migrated from empty to schema revision {head}\n"
    assert main(["migrate"], settings) == 0
    assert capsys.readouterr().out == f"database already at schema revision {head}\n"
    assert main(["migrate", "--check"], settings) == 0


def test_start_without_migrating_refuses_a_database_behind_the_code(tmp_path: Path) -> None:
    """Check SWITCHBOARD_MIGRATE_ON_START=false: an empty database is not migrated by the
    service, which refuses to start and names the command; after it, the service starts."""
    settings = Settings(data_dir=tmp_path, migrate_on_start=False)
    refused = pytest.RaisesGroup(  # the lifespan's error, as anyio's task group raises it
        pytest.RaisesExc(SchemaBehind, match="run `switchboard migrate`"), flatten_subgroups=True
    )
    with refused, TestClient(create_app(settings)):
        pass
    assert schema_revisions(make_engine(settings.db_url))[0] is None, "nothing was migrated"
    assert main(["migrate"], settings) == 0
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
