"""Locks across the service's processes and replicas: one migration at a time, one retention
purge at a time.

Replicas (or uvicorn workers) that start together on an empty database would each run the
migrations, and all but one die on the second `CREATE TABLE` or on `alembic_version`'s key; the
retention purge would run once per process. PostgreSQL has advisory locks for exactly this: a
lock on a number, held by a session, that every replica of the same database sees. A SQLite
database is one file on one machine, so a lock file beside it (`fcntl.flock`) does the same for
the processes that share it.
"""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, text

# Advisory lock keys: any bigint, the same in every replica. "SWBM" and "SWBR" in ASCII.
MIGRATION_KEY = 0x5357_424D
RETENTION_KEY = 0x5357_4252


def _lock_file(engine: Engine, name: str) -> Path | None:
    """The lock file beside a SQLite database file; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:":
        return None
    return Path(f"{database}.{name}.lock")


@contextmanager
def exclusive(engine: Engine, key: int, name: str) -> Iterator[None]:
    """Wait for, then hold, the lock `key` (PostgreSQL) or `<db>.<name>.lock` (SQLite)."""
    with _hold(engine, key, name, wait=True):
        yield


@contextmanager
def unless_busy(engine: Engine, key: int, name: str) -> Iterator[bool]:
    """Try the lock without waiting: yields True when this process holds it (and should do the
    work), False when another process does the work right now."""
    with _hold(engine, key, name, wait=False) as got:
        yield got


@contextmanager
def _hold(engine: Engine, key: int, name: str, wait: bool) -> Iterator[bool]:
    """The lock, waited for or only tried; yields whether it is held."""
    if engine.dialect.name == "postgresql":
        take = "pg_advisory_lock" if wait else "pg_try_advisory_lock"
        with engine.connect() as conn:
            got = conn.execute(text(f"SELECT {take}(:k)"), {"k": key}).scalar() is not False
            try:
                yield got
            finally:
                if got:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        return
    path = _lock_file(engine, name)
    if path is None:  # an in-memory database belongs to one process
        yield True
        return
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
