"""The prediction log writer: inserts leave the request path and are written in batches.

Why: one INSERT and commit per scored mention cost ~0.3 ms on SQLite, about half of scoring
itself (bench/serving.py). A single writer thread drains a queue and inserts what has gathered,
so a burst of 1,000 requests costs a handful of commits. Nothing is dropped: the queue is
unbounded, `close()` (at shutdown, in the app's lifespan) writes everything still queued, and
`flush()` waits until what was queued before it is in the database (the review API and the
tests read the log after calling it). Rows the database refuses twice go to a JSON-lines file
beside it, with the error logged. A crash of the process loses at most the rows of the last
`interval_s`.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine

from switchboard.service import store

log = logging.getLogger("switchboard.prediction_log")

_STOP = object()


class PredictionLog:
    def __init__(
        self,
        engine: Engine,
        fallback: Path,
        interval_s: float = 0.05,
        max_rows: int = 2000,
        housekeeping: Callable[[], object] | None = None,
        housekeeping_every_s: float = 3600.0,
    ) -> None:
        self._engine = engine
        self._housekeeping = housekeeping
        self._housekeeping_every_s = housekeeping_every_s
        self._last_housekeeping = time.monotonic()
        self._fallback = fallback
        self._queue: queue.Queue[Any] = queue.Queue()
        self._interval_s = interval_s
        self._max_rows = max_rows
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def append(self, rows: list[dict[str, Any]]) -> None:
        self._queue.put(rows)

    def flush(self, timeout_s: float = 30.0) -> None:
        """Block until everything appended before this call is written."""
        done = threading.Event()
        self._queue.put(done)
        if not done.wait(timeout_s):
            raise TimeoutError("the prediction log did not flush in time")

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch: list[dict[str, Any]] = []
            waiters: list[threading.Event] = []
            stop = False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    batch += item
                if stop or waiters or len(batch) >= self._max_rows:
                    break
                try:
                    item = self._queue.get(timeout=self._interval_s if batch else 0.001)
                except queue.Empty:
                    break
            self._write(batch)
            for w in waiters:
                w.set()
            if stop:
                return
            self._maybe_housekeep()

    def _maybe_housekeep(self) -> None:
        """Retention runs on this thread, between writes, so it never races the inserts."""
        due = time.monotonic() - self._last_housekeeping >= self._housekeeping_every_s
        if self._housekeeping is None or not due:
            return
        self._last_housekeeping = time.monotonic()
        try:
            self._housekeeping()
        except Exception:  # retention must not stop the log
            log.exception("prediction log housekeeping failed")

    def _write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        for attempt in (1, 2):
            try:
                store.log_predictions(self._engine, rows)
                return
            except Exception:  # the writer must outlive a database hiccup
                log.exception("writing %d predictions failed (attempt %d)", len(rows), attempt)
        self._fallback.parent.mkdir(parents=True, exist_ok=True)
        with self._fallback.open("ab") as fh:
            for row in rows:
                fh.write(msgspec.json.encode(row) + b"\n")
        log.error("%d predictions written to %s instead", len(rows), self._fallback)
