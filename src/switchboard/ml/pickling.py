"""Pickling slots dataclasses without their derived caches.

Why: fitted objects keep lookup tables or transposed weights built on first use; saving them
would bloat the bundle and tie it to one roster. The state is the fields minus the cache, and
a bundle pickled before a cache field existed (state as `(None, slots)`) still loads.
"""

from __future__ import annotations

from typing import Any


def state_without(obj: Any, derived: str) -> dict[str, object]:
    return {f: getattr(obj, f) for f in obj.__slots__ if f != derived}


def restore_without(obj: Any, state: dict | tuple, derived: str, empty: object) -> None:
    if isinstance(state, tuple):  # pickled before the derived field existed: (None, slots)
        state = state[1]
    for name in obj.__slots__:
        object.__setattr__(obj, name, state.get(name))
    object.__setattr__(obj, derived, empty)
