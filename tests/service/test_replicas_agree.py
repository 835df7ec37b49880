"""Two workers on one PostgreSQL decide like one process: the repeat-rager rule catches the same
ragers, a mention claimed from both at once has one winner, old predictions are purged once.

Real servers (`switchboard serve --workers N`, tests/live.py) on a throwaway PostgreSQL server
(tests/pg.py; the tests skip with a message when it cannot start). Load is bounded: 60 ragers of
5 mentions (one rager at a time), 20 mentions claimed 8 times each from 8 threads; every request
on a fresh connection, so that the kernel hands it to either worker.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

import httpx
import pytest
from litestar.testing import TestClient
from sqlalchemy import func, select

from switchboard.ml.registry import CHAMPION, Registry
from switchboard.service import store
from switchboard.service.app import create_app
from switchboard.service.db import make_engine, migrate, predictions, responders
from switchboard.settings import Settings
from tests import live
from tests.service.conftest import logged

pytestmark = pytest.mark.slow
KEY = "replica-key"
AUTH = {"Authorization": f"Bearer {KEY}"}
SPAM = "win a free card www.win.example now"  # the test bundle's spam: abusive for the rule
RAGERS, BURST, THREADS = 60, 5, 8
T = TypeVar("T")
_p = predictions.c


@pytest.fixture(scope="module")
def registry_dir(tmp_path_factory: pytest.TempPathFactory, trained_bundle) -> Path:
    registry = Registry(tmp_path_factory.mktemp("registry"))
    registry.register(trained_bundle, "v1")
    registry.set_alias(CHAMPION, "v1")
    return registry.root


class Workers(NamedTuple):
    base: str
    log: Path
    database: str


@pytest.fixture(scope="module")
def two_workers(
    postgres: str, registry_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workers]:
    """`switchboard serve --workers 2` on an emptied database that holds 50 predictions past
    retention when they start (one server for the module: each start costs seconds)."""
    engine = make_engine(postgres)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate(engine)
    old = datetime.now(UTC) - timedelta(days=200)
    store.log_predictions(engine, [logged(f"old-{i}", old) for i in range(50)])
    engine.dispose()
    tmp = tmp_path_factory.mktemp("two-workers")
    log = tmp / "serve.log"
    with live.serve(tmp / "var", _env(postgres, registry_dir), 2, log) as (base, _):
        yield Workers(base, log, postgres)


def _env(database: str, registry_dir: Path) -> dict[str, str]:
    return {
        "SWITCHBOARD_DATABASE_URL": database,
        "SWITCHBOARD_REGISTRY_DIR": str(registry_dir),
        "SWITCHBOARD_API_KEYS": f"{KEY}:admin",
        "SWITCHBOARD_LOG_FORMAT": "json",
    }


def _parallel(task: Callable[[int], T], n: int) -> list[T]:
    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(task, range(n)))


def _post(base: str, path: str, body: dict[str, Any]) -> httpx.Response:
    """On a fresh connection: whichever worker accepts it answers."""
    return httpx.post(f"{base}{path}", json=body, headers=AUTH, timeout=30)


def _lines(stderr: Path) -> list[dict[str, Any]]:
    out = []
    for line in stderr.read_text(errors="replace").splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # the key banner is plain text
            out.append(json.loads(line))
    return out


def _worker_pids(stderr: Path, path_prefix: str) -> set[int]:
    """The processes whose access log lines show requests to `path_prefix`."""
    return {
        e["pid"]
        for e in _lines(stderr)
        if e.get("logger") == "uvicorn.access" and str(e.get("path")).startswith(path_prefix)
    }


def _ragers_caught(post: Callable[[str, dict[str, Any]], Any], run: str) -> int:
    """How many of 60 authors, each sending a burst of 5 spam mentions one after another, get
    the repeat-rager no-reply on their last mention. One rager at a time: a burst then takes
    well under the 1 s that a worker without shared history keeps its cached counts (with
    history cached per worker, 2 workers caught 32 of 60 this way when this was built)."""

    def rager(i: int) -> bool:
        author = {"id": f"{run}-rager-{i}"}
        for j in range(BURST):
            r = post("/v1/score", {"id": f"{run}-{i}-{j}", "text": SPAM, "author": author})
            assert r.status_code == 200, r.text
        return "repeat_rager" in r.json()["reply"]["reasons"]

    return sum(map(rager, range(RAGERS)))


def test_two_workers_catch_the_same_repeat_ragers_as_one(
    two_workers: Workers, registry_dir: Path, tmp_path: Path
) -> None:
    """Check 60 ragers whose mentions land on either of two workers (a new connection each) are
    caught as one process catches them (the app in-process on the same database): each worker
    reads the authors' counters that the other wrote before answering."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=two_workers.database,
        registry_dir=str(registry_dir),
        api_keys=f"{KEY}:admin",
    )
    with TestClient(create_app(settings)) as client:
        client.headers.update(AUTH)
        one = _ragers_caught(lambda path, body: client.post(path, json=body), "one")
    two = _ragers_caught(lambda path, body: _post(two_workers.base, path, body), "two")
    assert len(_worker_pids(two_workers.log, "/v1/score")) == 2, "one worker answered all"
    assert one == RAGERS
    assert two == one


def test_a_mention_claimed_from_two_workers_at_once_has_one_winner(two_workers: Workers) -> None:
    """Check 20 mentions, each claimed 8 times at once for two responders, get exactly one 201
    and seven 409s each, and the responders' open cases count the winners only; and a
    responder with room for 3 wins exactly 3 of 16 concurrent claims."""
    base = two_workers.base
    for rid, capacity in (("ana", 100), ("bo", 100), ("cy", 3)):
        body = {"capacity": capacity, "shift_start_hour": 0, "shift_end_hour": 24}
        r = httpx.put(f"{base}/v1/responders/{rid}", json=body, headers=AUTH, timeout=30)
        assert r.status_code == 200, r.text

    def claim(k: int) -> tuple[str, int, str]:
        mention, rid = f"m{k // 8}", ("ana", "bo")[k % 2]
        r = _post(base, f"/v1/mentions/{mention}/claim", {"responder_id": rid})
        return mention, r.status_code, r.json().get("error", "")

    results = _parallel(claim, 20 * 8)
    wins = [m for m, status, _ in results if status == 201]
    assert sorted(wins) == sorted(f"m{i}" for i in range(20)), "one winner per mention"
    assert {(s, e) for _, s, e in results if s != 201} == {(409, "already_claimed")}
    full = _parallel(
        lambda k: _post(base, f"/v1/mentions/c{k}/claim", {"responder_id": "cy"}).status_code, 16
    )
    assert sorted(full) == [201] * 3 + [409] * 13
    assert len(_worker_pids(two_workers.log, "/v1/mentions")) == 2, "one worker answered all"
    engine = make_engine(two_workers.database)
    with engine.connect() as conn:
        open_cases = dict(conn.execute(select(responders.c.id, responders.c.open_cases)).all())
    engine.dispose()
    assert open_cases["ana"] + open_cases["bo"] == 20 and open_cases["cy"] == 3


def test_two_workers_purge_old_predictions_once(two_workers: Workers) -> None:
    """Check that of two workers starting together on a database holding 50 expired
    predictions, one purges them and the other skips: the lock is taken, or the run of this
    period is recorded (service/maintenance.py)."""
    engine = make_engine(two_workers.database)
    with engine.connect() as conn:
        left = conn.execute(
            select(func.count()).select_from(predictions).where(_p.mention_id.like("old-%"))
        ).scalar()
    engine.dispose()
    assert left == 0
    runs = [e for e in _lines(two_workers.log) if str(e.get("msg")).startswith("retention purge")]
    assert len({e["pid"] for e in runs}) == 2, runs
    done = [e for e in runs if e["msg"] == "retention purge done"]
    assert [e["predictions_deleted"] for e in done] == [50], runs  # one run in all, not one each
