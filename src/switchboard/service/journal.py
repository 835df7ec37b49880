"""The prediction journal: an append-only file every scored mention is written to before its
response is sent, so that a prediction the client saw survives kill -9 of the service.

Why a file and not the database: one `write()` to a file opened with O_APPEND costs a few
microseconds, a database commit per request ~0.3 ms. Once `write()` returns, the bytes are in
the kernel's page cache and survive the death of the process; `fsync=True` (setting
`SWITCHBOARD_JOURNAL_FSYNC`) also makes them survive a power cut, at the price of one disk
flush per request (not measured here: it depends on the disk). The prediction log writer
(service/prediction_log.py) reads the journal back in order and copies it into the database
in batches.

Layout: `journal/slot-N/000000000001.jsonl`, one JSON line per prediction. Each process
(uvicorn worker) holds one slot by an exclusive lock for its lifetime, so workers never write
to the same file; a slot whose process died is unlocked, and the next process to start drains
it (`orphans`). Each start opens a new segment, so older ones are closed and complete;
segments the writer has copied are deleted. A failed write (full disk) is cut back to the
last whole line, so a later line is never glued to a torn one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
from dataclasses import dataclass
from pathlib import Path

SUFFIX = ".jsonl"
SEGMENT_BYTES = 16 * 1024 * 1024  # small enough to delete soon after it is copied


@dataclass(frozen=True, order=True, slots=True)
class Position:
    """A point in the journal: a segment and a byte offset in it."""

    segment: int
    offset: int


class JournalWriteError(OSError):
    """The journal could not take a write (disk full, file size limit, I/O error)."""


class Journal:
    def __init__(self, directory: Path, fsync: bool = False) -> None:
        self.directory = directory
        self._fsync = fsync
        self._lock = threading.Lock()
        directory.mkdir(parents=True, exist_ok=True)
        segments = self.segments()
        self._segment = (segments[-1] if segments else 0) + 1
        self._fd = self._open(self._segment)
        self._size = 0

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:012d}{SUFFIX}"

    def _open(self, segment: int) -> int:
        return os.open(self._path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)

    def segments(self) -> list[int]:
        return sorted(int(p.stem) for p in self.directory.glob(f"*{SUFFIX}") if p.stem.isdigit())

    def start(self) -> Position:
        """Where reading begins: the oldest segment still on disk."""
        return Position(self.segments()[0], 0)

    def end(self) -> Position:
        with self._lock:
            return Position(self._segment, self._size)

    def append(self, data: bytes) -> Position:
        """Write whole lines; returns the position after them. Raises JournalWriteError."""
        with self._lock:
            if self._size >= SEGMENT_BYTES:
                self._rotate()
            try:
                self._write_all(data)
                if self._fsync:
                    os.fdatasync(self._fd)
            except OSError as exc:
                self._cut_back()
                raise JournalWriteError(exc.errno, f"prediction journal: {exc.strerror}") from exc
            self._size += len(data)
            return Position(self._segment, self._size)

    def _cut_back(self) -> None:
        """Drop a torn write; if even that fails, continue in a fresh segment."""
        try:
            os.ftruncate(self._fd, self._size)
        except OSError:
            # Not even a new file: the next write fails and says so (a 503).
            with contextlib.suppress(OSError):
                self._rotate()

    def _rotate(self) -> None:
        os.close(self._fd)
        self._segment += 1
        self._fd = self._open(self._segment)
        self._size = 0

    def read(self, at: Position, max_bytes: int = 4 * 1024 * 1024) -> tuple[list[bytes], Position]:
        """Whole lines from `at` on (at most about `max_bytes`) and the position after them.

        At the end of a segment that is no longer written, moves on to the next one; an
        unterminated tail there was a write cut short by a crash and never acknowledged.
        """
        current = self.end().segment  # before reading: an older segment is then complete
        try:
            with self._path(at.segment).open("rb") as fh:
                fh.seek(at.offset)
                chunk = fh.read(max_bytes)
        except FileNotFoundError:  # an adopted segment 0 that never existed, or released
            chunk = b""
        whole = chunk[: chunk.rfind(b"\n") + 1]
        if whole:
            return whole.splitlines(), Position(at.segment, at.offset + len(whole))
        if at.segment < current:
            return [], Position(min(s for s in self.segments() if s > at.segment), 0)
        return [], at

    def release(self, before: Position) -> None:
        """Delete the segments wholly before `before`: their lines are in the database."""
        for segment in self.segments():
            if segment >= before.segment:
                break
            self._path(segment).unlink(missing_ok=True)

    def probe(self, size: int = 4096) -> bool:
        """Can a row-sized write succeed now? (Written as blank lines, then cut back.)"""
        with self._lock:
            try:
                self._write_all(b"\n" * size)
            except OSError:
                return False
            finally:
                self._cut_back()
            return True

    def _write_all(self, data: bytes) -> None:
        """`os.write` may write part and only fail on the next call (file size limit)."""
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]

    def close(self, discard: bool = False) -> None:
        """Close; `discard` deletes the current segment too (all of it is in the database)."""
        with self._lock:
            os.close(self._fd)
            if discard:
                self._path(self._segment).unlink(missing_ok=True)

    def adopt(self, legacy: Path) -> None:
        """Take the JSON-lines fallback file of an older release in as segment 0 (the same
        line format), so that its rows are replayed into the database like any other."""
        if legacy.exists() and not self._path(0).exists():
            legacy.rename(self._path(0))


def _lock(slot: Path) -> int | None:
    """An exclusive lock on the slot for this process's lifetime, or None if it is held."""
    slot.mkdir(parents=True, exist_ok=True)
    fd = os.open(slot / ".lock", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def claim_slot(root: Path) -> tuple[Path, int]:
    """The lowest-numbered slot no live process holds, locked; with its lock's descriptor."""
    for n in range(10_000):
        slot = root / f"slot-{n}"
        fd = _lock(slot)
        if fd is not None:
            return slot, fd
    raise OSError(f"no free journal slot under {root}")


def orphans(root: Path) -> list[tuple[Path, int]]:
    """Slots left by processes that died (unlocked, with segments), now locked by this one."""
    found = []
    for slot in sorted(root.glob("slot-*")):
        if not any(slot.glob(f"*{SUFFIX}")):
            continue
        fd = _lock(slot)
        if fd is not None:
            found.append((slot, fd))
    return found


def unlock(fd: int) -> None:
    os.close(fd)  # closing the descriptor releases the flock
