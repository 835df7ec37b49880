"""Periodic jobs that must run once per period across every replica (the retention purge).

Every process has a timer, so N replicas would purge N times an hour. The lock of
service/locks.py keeps two of them from purging at the same moment; the last run recorded in
`maintenance_runs` keeps a replica whose timer fires a minute after another's from purging
again. Together: one run per period, whichever process gets there first.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from switchboard.service.db import maintenance_runs, upsert_insert

_m = maintenance_runs.c

# A run counts for the period if it was this close to a full period ago: timers of different
# processes drift by the time a run takes, and a run skipped for that would wait a whole period.
SLACK = 0.9


def claim_run(engine: Engine, task: str, every: timedelta, now: datetime) -> datetime | None:
    """Record that this process runs `task` now, unless some process ran it within the last
    period; returns that earlier run's time when skipping, None when this process should run.

    Call it holding the task's lock (locks.unless_busy), so that two processes cannot both
    read an old time and both run."""
    with engine.begin() as conn:
        last = conn.execute(select(_m.last_run_at).where(_m.task == task)).scalar()
        if last is not None:
            last = last if last.tzinfo else last.replace(tzinfo=UTC)  # SQLite drops the zone
            if now - last < every * SLACK:
                return last
        stmt = upsert_insert(conn.dialect.name, maintenance_runs).values(task=task, last_run_at=now)
        conn.execute(stmt.on_conflict_do_update(index_elements=["task"], set_={"last_run_at": now}))
    return None
