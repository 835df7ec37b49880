"""Concurrent `POST /v1/score` requests scored together, in one batch on the event loop.

Why: scoring one mention at a time pays, per request, everything that is cheaper per batch —
one vectorisation, one product through every head, one transformer pass for the unsure ones
(the cascade's second opinion, 10-20 ms alone, far less per mention in a batch), one
idempotency look-up, one journal write (a group commit: with `SWITCHBOARD_JOURNAL_FSYNC` one
flush for the whole batch), one author-history and brand-volume read.

How: the handler queues its mention and awaits a future; the first request queued schedules a
flush two turns of the event loop later, by which time the requests read from the sockets
meanwhile (all those that arrived while the previous batch was scored) have queued too. The
flush scores them as one batch and settles each request's future. So a lone request is scored
at once (no timer, no waiting for company) and batches form only under load. Each request is
still answered as if alone: a clash or a replay is decided per request, in arrival order
(routes/scoring.py::score_each).

`?explain=true` requests queue like the others; a batch is split into runs of one router and
one explain flag, in arrival order, so an explained request never makes its neighbours pay
for explanations, and the decisions are the same either way (`Router.recommend`).

Why on the event loop and not a thread of its own (the first version): a thread costs two
thread wake-ups per request, and on a busy machine each waits for the scheduler — at
concurrency 1 under load, p50 rose from 12 to 40 ms (bench, #14); scoring is Python that
holds the GIL, so a thread would overlap almost nothing with the loop anyway.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from switchboard.routing.router import Router
from switchboard.service.schemas import MentionIn, ScoreOut

# Scores a list of independent requests' mentions with one router, explained or not: per
# mention its response or the exception its request should raise
# (routes/scoring.py::score_each).
ScoreEach = Callable[[Router, list[MentionIn], bool], list[ScoreOut | BaseException]]
Key = tuple[Router, bool]  # the router and the explain flag: one run is scored per key
Item = tuple[Key, MentionIn, "asyncio.Future[ScoreOut]"]


class ScoreQueue:
    def __init__(self, score_each: ScoreEach, max_batch: int = 64) -> None:
        self._score_each = score_each
        self._max_batch = max_batch
        self._pending: list[Item] = []
        self._scheduled = False
        self.batches = 0  # batches scored (tests and benchmarks read it)
        self.mentions = 0

    async def score(self, router: Router, mention: MentionIn, explain: bool = False) -> ScoreOut:
        """The mention's response, scored with whatever else is queued meanwhile; with
        `explain`, with evidence and features."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[ScoreOut] = loop.create_future()
        self._pending.append(((router, explain), mention, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(loop.call_soon, self._flush)  # two turns: see the module docstring
        return await future

    def _flush(self) -> None:
        taken = self._pending[: self._max_batch]
        del self._pending[: self._max_batch]
        if self._pending:  # more than one batch queued: the rest go next, after a turn
            asyncio.get_running_loop().call_soon(self._flush)
        else:
            self._scheduled = False
        for (router, explain), items in _runs(taken):
            try:
                results = self._score_each(router, [m for m, _ in items], explain)
            except Exception as exc:  # every request of the batch fails; each logs it
                results = [exc] * len(items)
            self.batches += 1
            self.mentions += len(items)
            _settle([f for _, f in items], results)


def _runs(
    taken: Sequence[Item],
) -> list[tuple[Key, list[tuple[MentionIn, asyncio.Future[ScoreOut]]]]]:
    """Runs of requests with the same router and explain flag, in order (a model reload or
    an explained request splits a batch)."""
    runs: list[tuple[Key, list[tuple[MentionIn, asyncio.Future[ScoreOut]]]]] = []
    for key, mention, future in taken:
        if not runs or runs[-1][0][0] is not key[0] or runs[-1][0][1] != key[1]:
            runs.append((key, []))
        runs[-1][1].append((mention, future))
    return runs


def _settle(
    futures: Sequence[asyncio.Future[Any]], results: Sequence[ScoreOut | BaseException]
) -> None:
    for future, result in zip(futures, results, strict=True):
        if future.done():  # the client went away and the request was cancelled
            continue
        if isinstance(result, BaseException):
            future.set_exception(result)
        else:
            future.set_result(result)
