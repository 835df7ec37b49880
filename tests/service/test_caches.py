"""The request-path caches: expiry, local updates, bounded memory."""

from __future__ import annotations

from switchboard.service.caches import TTLCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_value_is_reloaded_after_it_expires() -> None:
    clock, loads = Clock(), []
    cache: TTLCache[int] = TTLCache(10.0, clock=clock)
    load = lambda: loads.append(1) or len(loads)  # noqa: E731
    assert cache.get("k", load) == 1 and cache.get("k", load) == 1
    clock.now = 11.0
    assert cache.get("k", load) == 2


def test_get_many_loads_only_the_missing_keys_in_one_call() -> None:
    cache: TTLCache[str] = TTLCache(10.0, clock=Clock())
    calls = []

    def load(keys: list) -> dict:
        calls.append(sorted(keys))
        return {k: k.upper() for k in keys}

    cache.get_many(["a"], load)
    assert cache.get_many(["a", "b", "c"], load) == {"a": "A", "b": "B", "c": "C"}
    assert calls == [["a"], ["b", "c"]]


def test_local_update_changes_a_cached_value_but_never_invents_one() -> None:
    cache: TTLCache[int] = TTLCache(10.0, clock=Clock())
    cache.get("seen", lambda: 1)
    cache.update("seen", lambda v: v + 1)
    cache.update("unseen", lambda v: v + 1)
    assert cache.get("seen", lambda: 0) == 2 and cache.get("unseen", lambda: 0) == 0


def test_cache_never_holds_more_than_max_entries() -> None:
    clock = Clock()
    cache: TTLCache[int] = TTLCache(5.0, max_entries=100, clock=clock)
    for i in range(1000):
        clock.now = i / 100
        cache.get(i, lambda i=i: i)
    assert len(cache) == 100
    assert cache.get(999, lambda: -1) == 999  # the newest survive
