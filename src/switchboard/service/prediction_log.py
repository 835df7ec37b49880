"""The prediction log: every scored mention is journalled before its response is sent, then
copied into the database in batches by one writer thread.

Why: the log is what QA review, feedback export and the repeat-rager rule read, and an SMMS
that got a 200 must be able to trust that the prediction is kept. Writing each row to the
database on the request path cost ~0.3 ms (half of scoring); queueing it in memory lost up to
the last seconds of rows on kill -9 and everything on a full disk. So `append` writes to the
journal (service/journal.py: a few µs, survives the death of the process) and raises
`LogUnavailable` (503) when it cannot; the writer copies the journal into the database, at most
a few MB per commit, and retries with back-off while the database is away, holding nothing in
memory but its read position. On start-up it replays whatever an earlier process left; the
unique mention id makes a replayed row a no-op.

Endpoints that read the log from the database call `flush()`, which fails fast with a 503
while the writer cannot reach the database instead of hanging.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, SQLAlchemyError

from switchboard.service import store
from switchboard.service.errors import LogUnavailable
from switchboard.service.journal import (
    Journal,
    JournalWriteError,
    Position,
    claim_slot,
    orphans,
    unlock,
)

log = logging.getLogger("switchboard.prediction_log")

READ_BYTES = 4 * 1024 * 1024  # per database commit: ~2,000 predictions
MAX_PENDING = 10_000  # responses kept for retries until their rows reach the database (~30 MB)
MAX_BACKOFF_S = 5.0
# Under steady traffic there is always a row or two to copy; committing them one by one cost
# ~1 ms of the writer thread's CPU per row under HTTP load (its /proc CPU time, measured while
# building this; throughput fell to 0.6x). Below this many rows the writer waits `interval_s`
# (unless someone flushes) so that the next commit takes what gathered meanwhile.
GATHER_ROWS = 500
# A commit has a fixed cost far above a row's: on SQLite, 15 rows a commit cost 1.3-1.4 ms a
# row, 60 rows 0.6-0.7 ms, 250 rows 0.2 ms (store.log_predictions, #14). At a few hundred
# requests a second, 50 ms gathered ~15 rows; 250 ms gathers ~75. Nothing waits for it:
# responses are journalled first, the idempotency look-up reads rows not yet copied from
# memory, and readers of the log call `flush()`, which cuts the wait short.
INTERVAL_S = 0.25


class LoggedRow(msgspec.Struct, kw_only=True):
    """One journal line: a `predictions` row (service/scoring.py::prediction_row)."""

    mention_id: str
    author_id: str | None
    brand: str | None
    created_at: datetime
    model_version: str
    policy_version: str
    intent: str | None
    sentiment: str | None
    reply_action: str
    tier: int
    abstain: bool
    text: str
    output: dict[str, Any]
    latency_ms: float
    mention: dict[str, Any] | None = None
    confidence: float | None = None
    review_reasons: str | None = None
    # The score request added this mention to its author's counters already (shared author
    # history, service/routes/scoring.py): the writer counts only its brand.
    author_counted: bool = False


_decode = msgspec.json.Decoder(LoggedRow).decode
_encode = msgspec.json.Encoder().encode


def _transient(exc: BaseException) -> bool:
    """The database is away (down, full disk, locked), as opposed to refusing these rows."""
    return isinstance(exc, OperationalError | InterfaceError) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    )


class PredictionLog:
    def __init__(
        self,
        engine: Engine,
        journal_dir: Path,
        *,
        fsync: bool = False,
        interval_s: float = INTERVAL_S,
        housekeeping: Callable[[], object] | None = None,
        housekeeping_every_s: float = 3600.0,
        legacy_fallback: Path | None = None,
    ) -> None:
        self._engine = engine
        slot, self._slot_lock = claim_slot(journal_dir)
        self._journal = Journal(slot, fsync=fsync)
        if legacy_fallback is not None:
            self._journal.adopt(legacy_fallback)
        self._orphans = orphans(journal_dir)
        self._rejects = journal_dir / "rejects.jsonl"
        self._interval_s = interval_s
        self._housekeeping = housekeeping
        self._housekeeping_every_s = housekeeping_every_s
        self._last_housekeeping = time.monotonic()
        self._pending: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._cond = threading.Condition()
        self._committed = self._journal.start()
        self._stop = threading.Event()
        self._wake = threading.Event()  # rows were appended
        self._hurry = threading.Event()  # someone waits: skip the gathering pause or back-off
        self.journal_error: str = ""
        self.database_error: str = ""
        self.written = 0  # rows inserted by this process (the metric)
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    # --- the request side -------------------------------------------------------------------

    def append(self, rows: Sequence[dict[str, Any]]) -> None:
        """Journal the rows; once this returns they survive a crash. 503 when impossible."""
        data = b"".join(_encode(r) + b"\n" for r in rows)
        try:
            self._journal.append(data)
        except JournalWriteError as exc:
            self.journal_error = str(exc)
            log.error("could not journal %d predictions: %s", len(rows), exc)
            raise LogUnavailable(f"predictions cannot be recorded: {exc}") from exc
        self.journal_error = ""
        with self._cond:
            for r in rows:
                self._pending[r["mention_id"]] = (r["text"], r["output"])
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
        self._wake.set()

    def lookup(self, mention_ids: Sequence[str]) -> dict[str, tuple[str, Any]]:
        """Text and response of the ids already scored: recent ones from memory, older ones
        from the database. If the database is away, only memory answers (a retry is then
        re-scored, and the unique mention id still keeps one row)."""
        with self._cond:
            found = {m: self._pending[m] for m in mention_ids if m in self._pending}
        rest = [m for m in mention_ids if m not in found]
        if rest and not self.database_error:
            try:
                found |= store.stored_predictions(self._engine, rest)
            except SQLAlchemyError as exc:
                log.warning("idempotency lookup failed, scoring anew: %s", exc)
        return found

    def flush(self, timeout_s: float = 5.0, grace_s: float = 1.0) -> None:
        """Wait until everything journalled before this call is in the database.

        While the writer cannot reach the database, gives it `grace_s` for one more try
        and then fails with a 503 rather than keep the request hanging.
        """
        target = self._journal.end()
        started = time.monotonic()
        self._wake.set()
        self._hurry.set()
        with self._cond:
            while self._committed < target:
                waited = time.monotonic() - started
                if self.database_error and waited >= min(grace_s, timeout_s):
                    raise LogUnavailable(f"the prediction log is behind: {self.database_error}")
                if waited >= timeout_s:
                    raise LogUnavailable("the prediction log is behind; retry shortly")
                self._cond.wait(0.05)

    def status(self) -> dict[str, Any]:
        """What `/ready` and `/metrics` report."""
        end, done = self._journal.end(), self._committed
        return {
            "journal_writable": not self.journal_error or self._journal.probe(),
            "journal_error": self.journal_error,
            "database_error": self.database_error,
            "caught_up": done >= end,
            "segments_behind": end.segment - done.segment,
            "written": self.written,
        }

    def close(self, timeout_s: float = 30.0) -> None:
        """Copy what is journalled, then stop; what cannot be copied in time stays in the
        journal and is replayed at the next start."""
        self._stop.set()
        self._wake.set()
        self._hurry.set()
        self._thread.join(timeout_s)
        self._journal.close(discard=self._committed == self._journal.end())
        unlock(self._slot_lock)

    # --- the writer thread ------------------------------------------------------------------

    def _run(self) -> None:
        for path, lock in self._orphans:  # slots of processes that died: theirs first
            orphan = Journal(path)
            done = self._drain(orphan, follow=False)
            orphan.close(discard=done)
            unlock(lock)
        self._drain(self._journal, follow=True)

    def _drain(self, journal: Journal, follow: bool) -> bool:
        """Copy the journal into the database from its oldest segment on. Following this
        process's own journal, until stopped; another's, until its end. True when all of it
        was copied."""
        at, backoff = journal.start(), 0.1
        while True:
            try:
                lines, after = journal.read(at, READ_BYTES)
                copied = self._copy(lines) if after != at else []
            except Exception as exc:  # the writer must never die: log, back off, go on
                log.exception("prediction log writer failed")
                self.database_error, copied = f"writer error: {exc}", None
            if copied is None:
                if self._pause(backoff):
                    return False
                backoff = min(backoff * 2, MAX_BACKOFF_S)
                continue
            backoff = 0.1
            if after == at:
                if not follow or self._stop.is_set():
                    return True
                self._idle()
                continue
            at = after
            if follow:
                self._advance(after, copied)
            journal.release(after)
            self._maybe_housekeep()
            if follow and len(copied) < GATHER_ROWS:
                self._pause(self._interval_s)  # let rows gather (see GATHER_ROWS)

    def _idle(self) -> None:
        """Nothing to copy: wait for an append, then a moment more so that rows gather."""
        self._wake.wait(1.0)
        self._wake.clear()
        self._pause(self._interval_s)
        self._maybe_housekeep()

    def _pause(self, seconds: float) -> bool:
        """Sleep, cut short by `flush` or `close`; True once closing."""
        self._hurry.wait(seconds)
        self._hurry.clear()
        return self._stop.is_set()

    def _copy(self, lines: list[bytes]) -> list[str] | None:
        """Insert the lines' rows; their mention ids, or None while the database is away."""
        rows, bad = [], []
        for line in filter(None, lines):  # blank lines are the journal's write probes
            try:
                rows.append(msgspec.structs.asdict(_decode(line)))
            except msgspec.DecodeError as exc:
                bad.append((line, f"not a prediction row: {exc}"))
        try:
            self.written += self._insert(rows)
        except SQLAlchemyError as exc:
            cause = exc.orig if isinstance(exc, DBAPIError) else exc
            self.database_error = f"database unavailable: {cause}"
            log.error("copying %d predictions failed, will retry: %s", len(rows), exc)
            return None
        self.database_error = ""
        self._quarantine(bad)
        return [r["mention_id"] for r in rows]

    def _insert(self, rows: list[dict[str, Any]]) -> int:
        """All rows in one commit; if the database refuses the batch itself (not because it is
        away), row by row, so that one bad row goes to the rejects file and not the rest."""
        try:
            return store.log_predictions(self._engine, rows)
        except SQLAlchemyError as exc:
            if _transient(exc):
                raise
            if len(rows) == 1:
                self._quarantine([(_encode(rows[0]), f"refused by the database: {exc}")])
                return 0
        return sum(self._insert([row]) for row in rows)

    def _quarantine(self, bad: list[tuple[bytes, str]]) -> None:
        if not bad:
            return
        with self._rejects.open("ab") as fh:
            for line, reason in bad:
                fh.write(_encode({"reason": reason, "line": line.decode("utf-8", "replace")}))
                fh.write(b"\n")
        log.error("%d journal lines refused; kept in %s", len(bad), self._rejects)

    def _advance(self, after: Position, mention_ids: list[str]) -> None:
        with self._cond:
            self._committed = after
            for mention_id in mention_ids:
                self._pending.pop(mention_id, None)
            self._cond.notify_all()

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
