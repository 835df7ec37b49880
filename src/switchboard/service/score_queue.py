"""Concurrent `POST /v1/score` requests scored together, on one thread beside the event loop.

Why: scoring one mention at a time pays, per request, everything that is cheaper per batch —
one vectorisation, one product through every head, one transformer pass for the unsure ones
(the cascade's second opinion, 10-20 ms alone, far less per mention in a batch), one
idempotency look-up, one journal write (a group commit: with `SWITCHBOARD_JOURNAL_FSYNC` one
flush for the whole batch), one author-history and brand-volume read. And scoring on the event
loop stalled it: while a mention was scored, no other request was read or answered.

How: the handler puts its mention on the queue and awaits a future; the scoring thread takes
everything queued (up to `max_batch`), scores it as one batch, and settles each request's
future on its own loop. While it scores, the loop reads the next requests, which form the next
batch; so a lone request is scored at once (no timer, no waiting for company) and batches only
form under load. Each request is still answered as if alone: a clash or a replay is decided per
request, in arrival order (`score_each`).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from switchboard.routing.router import Router
from switchboard.service.schemas import MentionIn, ScoreOut

log = logging.getLogger("switchboard.score_queue")

# Scores a list of independent requests' mentions with one router: per mention its response or
# the exception its request should raise (routes/scoring.py::score_each).
ScoreEach = Callable[[Router, list[MentionIn]], list[ScoreOut | BaseException]]


class ScoreQueue:
    def __init__(self, score_each: ScoreEach, max_batch: int = 256) -> None:
        self._score_each = score_each
        self._max_batch = max_batch
        self._cond = threading.Condition()
        self._pending: list[tuple[Router, MentionIn, asyncio.Future[ScoreOut]]] = []
        self._stop = False
        self.batches = 0  # batches scored (tests and benchmarks read it)
        self.mentions = 0
        self._thread = threading.Thread(target=self._run, name="score-queue", daemon=True)
        self._thread.start()

    async def score(self, router: Router, mention: MentionIn) -> ScoreOut:
        """The mention's response, scored with whatever else is queued meanwhile."""
        future: asyncio.Future[ScoreOut] = asyncio.get_running_loop().create_future()
        with self._cond:
            if self._stop:
                raise RuntimeError("the score queue is closed")
            self._pending.append((router, mention, future))
            self._cond.notify()
        return await future

    def close(self, timeout_s: float = 30.0) -> None:
        """Score what is queued, then stop the thread."""
        with self._cond:
            self._stop = True
            self._cond.notify()
        self._thread.join(timeout_s)

    def _take(self) -> list[tuple[Router, MentionIn, asyncio.Future[ScoreOut]]] | None:
        with self._cond:
            while not self._pending and not self._stop:
                self._cond.wait()
            if not self._pending:
                return None
            taken = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            return taken

    def _run(self) -> None:
        while (taken := self._take()) is not None:
            for router, items in _by_router(taken):
                try:
                    results = self._score_each(router, [m for m, _ in items])
                except BaseException as exc:  # the thread must not die: every request fails
                    # Not logged here: each request's error handler logs it, with its id.
                    results = [exc] * len(items)
                self.batches += 1
                self.mentions += len(items)
                _answer([f for _, f in items], results)


def _by_router(
    taken: Sequence[tuple[Router, MentionIn, asyncio.Future[ScoreOut]]],
) -> list[tuple[Router, list[tuple[MentionIn, asyncio.Future[ScoreOut]]]]]:
    """Runs of requests with the same router, in order (a model reload splits a batch)."""
    runs: list[tuple[Router, list[tuple[MentionIn, asyncio.Future[ScoreOut]]]]] = []
    for router, mention, future in taken:
        if not runs or runs[-1][0] is not router:
            runs.append((router, []))
        runs[-1][1].append((mention, future))
    return runs


def _answer(
    futures: Sequence[asyncio.Future[ScoreOut]], results: Sequence[ScoreOut | BaseException]
) -> None:
    """Settle the futures on their loops: one wake-up per loop, not one per request (each
    `call_soon_threadsafe` writes to the loop's self-pipe; per request it cost ~3 % of the
    process under load)."""
    by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[Any], Any]]] = {}
    for future, result in zip(futures, results, strict=True):
        by_loop.setdefault(future.get_loop(), []).append((future, result))
    for loop, pairs in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, pairs)
        except RuntimeError:  # that loop is closed: nobody waits any more
            log.warning("%d scored requests had no loop to answer on", len(pairs))


def _settle(pairs: list[tuple[asyncio.Future[Any], ScoreOut | BaseException]]) -> None:
    for future, result in pairs:
        if future.done():  # the client went away and the request was cancelled
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
