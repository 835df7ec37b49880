"""Nothing answered with a 200 is lost: kill -9 under load, and a disk that fills up.

Each test runs the real service in its own process on 127.0.0.1, drives bounded load from a
few threads (a request budget and a time limit), and then reads the database of a clean
restart to check that every mention that got a 200 is in the prediction log.
"""

from __future__ import annotations

import resource
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from switchboard.ml.registry import CHAMPION, Registry
from switchboard.service.db import make_engine, predictions
from switchboard.settings import Settings
from tests import live

pytestmark = pytest.mark.slow
KEY = "durability-key"
ENV = {"SWITCHBOARD_API_KEYS": f"{KEY}:admin"}


@pytest.fixture
def data_dir(tmp_path: Path, trained_bundle) -> Path:
    registry = Registry(Settings(data_dir=tmp_path / "var").registry_path)
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    return tmp_path / "var"


class Load:
    """Threads that score unique mentions until stopped, a budget or a deadline is reached,
    remembering which ids got a 200 and every other status seen."""

    def __init__(self, base: str, threads: int = 4, budget: int = 3000, seconds: float = 20):
        self.base, self.acked, self.statuses = base, set(), {}
        self._stop = threading.Event()
        self._budget = iter(range(budget))
        self._deadline = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, args=(t,)) for t in range(threads)]

    def __enter__(self) -> Load:
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for t in self._threads:
            t.join()

    def _next(self) -> int | None:
        with self._lock:
            if self._stop.is_set() or time.monotonic() > self._deadline:
                return None
            return next(self._budget, None)

    def _run(self, thread: int) -> None:
        headers = {"Authorization": f"Bearer {KEY}"}
        with httpx.Client(base_url=self.base, headers=headers, timeout=5) as client:
            while (i := self._next()) is not None:
                mention = {"id": f"t{thread}-{i}", "text": f"my order {i} never arrived, help"}
                try:
                    r = client.post("/v1/score", json=mention)
                except httpx.HTTPError:
                    self._record("no answer")
                    continue
                self._record(r.status_code)
                if r.status_code == 200:
                    with self._lock:
                        self.acked.add(mention["id"])

    def _record(self, status: object) -> None:
        with self._lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    def until(self, condition: Callable[[], bool], limit_s: float = 20) -> None:
        deadline = time.monotonic() + limit_s
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.05)


def _logged_ids(data_dir: Path) -> set[str]:
    """The log as a clean restart leaves it: start, replay, stop, read the database."""
    with live.service(data_dir, ENV):
        pass  # the lifespan's close copies the whole journal before the process ends
    engine = make_engine(Settings(data_dir=data_dir).db_url)
    with engine.connect() as conn:
        ids = set(conn.execute(select(predictions.c.mention_id)).scalars())
    engine.dispose()
    return ids


def test_kill_9_under_load_loses_no_answered_prediction(data_dir: Path) -> None:
    with live.service(data_dir, ENV) as (base, proc), Load(base) as load:
        load.until(lambda: len(load.acked) >= 300)
        proc.kill()  # SIGKILL: no lifespan, no flush, nothing but what is on disk
        proc.wait()
    assert len(load.acked) >= 300, load.statuses
    missing = load.acked - _logged_ids(data_dir)
    assert not missing, f"{len(missing)} of {len(load.acked)} answered predictions lost"


def _largest_file(directory: Path) -> int:
    return max(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def test_a_full_disk_refuses_new_scores_but_loses_nothing_answered(data_dir: Path) -> None:
    with live.service(data_dir, ENV) as (base, proc):
        with Load(base, budget=100) as load:
            load.until(lambda: len(load.acked) >= 100)
        # From now on no file of the process may grow past its current largest + 64 KB:
        # the journal and SQLite both meet EFBIG, as on a disk that is full.
        limit = _largest_file(data_dir) + 64 * 1024
        _, hard = resource.prlimit(proc.pid, resource.RLIMIT_FSIZE)
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (limit, hard))
        with Load(base, budget=2000) as full:
            full.until(lambda: full.statuses.get(503, 0) >= 50)
        ready = httpx.get(f"{base}/ready", timeout=5)
        health = httpx.get(f"{base}/health", timeout=5)
        resource.prlimit(proc.pid, resource.RLIMIT_FSIZE, (hard, hard))  # space again
        with Load(base, budget=50) as after:
            after.until(lambda: len(after.acked) >= 50)
    assert full.statuses.get(503, 0) >= 50, full.statuses
    assert set(full.statuses) <= {200, 503}, full.statuses  # refused cleanly, never a 500
    assert ready.status_code == 503 and "cannot be recorded" in ready.json()["reason"]
    assert health.status_code == 200
    assert len(after.acked) == 50, after.statuses  # serving again once there is space
    answered = load.acked | full.acked | after.acked
    missing = answered - _logged_ids(data_dir)
    assert not missing, f"{len(missing)} of {len(answered)} answered predictions lost"
