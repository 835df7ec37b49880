"""Short-lived caches of what every score request reads: roster, brand volume, author history.

Why: reading the roster, a brand's day of predictions and an author's week from the database
cost ~0.4, ~0.8 and ~0.5 ms per request (measured while building bench/serving.py), more than
scoring itself. A time-to-live bounds how stale another process's writes can be. This
process's own changes are applied at once: roster writes (roster API, presence, claims,
outcomes) clear the roster cache, and every scored mention updates its author's cached
history, so a repeat rager is recognised on the very next mention.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable, Iterable
from typing import Generic, TypeVar

V = TypeVar("V")

ROSTER_TTL_S = 1.0  # other processes' roster writes are seen within a second
VOLUME_TTL_S = 5.0  # spike detection compares 15-minute windows; 5 s late is immaterial
# This process keeps its own authors current at once; what other replicas logged is read from
# the shared counters (service/activity.py, ~0.1 ms for one author) at most a second late.
AUTHOR_TTL_S = 1.0


class TTLCache(Generic[V]):
    """Values per key that expire after `ttl_s`, at most `max_entries` of them.

    A lost race between threads only loads a value twice. Past `max_entries` the oldest entry
    goes: memory stays bounded however many authors write in, at O(1) per insert.
    """

    def __init__(
        self,
        ttl_s: float,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._clock = clock
        self._data: dict[Hashable, tuple[float, V]] = {}

    def __len__(self) -> int:
        return len(self._data)

    def _put(self, key: Hashable, value: V, now: float) -> None:
        self._data.pop(key, None)  # re-insert: dict order is then age order
        self._data[key] = (now + self.ttl_s, value)
        # Every entry lives `ttl_s`, so insertion order is expiry order: the first entry is
        # the oldest and the next to expire. Evicting it is O(1); rebuilding the dict here
        # cost 38 ms per new author past 100k authors.
        while len(self._data) > self.max_entries:
            del self._data[next(iter(self._data))]

    def get(self, key: Hashable, load: Callable[[], V]) -> V:
        now = self._clock()
        hit = self._data.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = load()
        self._put(key, value, now)
        return value

    def get_many(
        self, keys: Iterable[Hashable], load: Callable[[list[Hashable]], dict[Hashable, V]]
    ) -> dict[Hashable, V]:
        """Values for `keys`; the missing or expired ones come from one `load` call."""
        now = self._clock()
        out: dict[Hashable, V] = {}
        missing = []
        for key in keys:
            hit = self._data.get(key)
            if hit is not None and hit[0] > now:
                out[key] = hit[1]
            else:
                missing.append(key)
        if missing:
            loaded = load(missing)
            for key in missing:
                self._put(key, loaded[key], now)
                out[key] = loaded[key]
        return out

    def update(self, key: Hashable, change: Callable[[V], V]) -> None:
        """Apply a local write to a cached value (keeping its expiry); absent keys stay absent."""
        hit = self._data.get(key)
        if hit is not None:
            self._data[key] = (hit[0], change(hit[1]))

    def clear(self) -> None:
        self._data.clear()
