"""Author history and brand volume: the one definition of the windows, as a fold over mentions.

The service keeps these as database counters (service/activity.py); the batch job
(`switchboard batch-score`, batch/context.py) folds its input in time order. Both use the
bucketing, windows and ratio below, so a mention gets the same context from either.

Window semantics, for a mention scored at `now` (the service: its wall clock; the batch job:
the mention's `created_at`):

- author history: the author's mentions scored before this one in the last seven UTC days,
  today included (UTC day buckets `> day_of(now) - 7`); each adds 1 to `recent_mentions` and
  1 to `recent_negative` / `recent_abusive` / `recent_replied` when its predicted sentiment is
  negative, its predicted intent abusive (spam, troll), its reply action not `none`.
- brand volume: the brand's mentions scored before this one in the last 15 minutes (minute
  buckets `> minute_of(now) - 15`) over its average 15-minute count in the last day (minute
  buckets `> minute_of(now) - 1440`); 1.0 (no spike) when that day holds fewer than 20.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from switchboard.routing.types import AuthorHistory

ABUSIVE_INTENTS = ("spam", "troll")
HISTORY_DAYS = 7
SPIKE_MINUTES = 15
BASELINE_MINUTES = 24 * 60
SPIKE_MIN_BASELINE = 20  # fewer mentions a day than this cannot define a "usual" rate

Counts = tuple[int, int, int, int]  # mentions, negative, abusive, replied


def day_of(when: datetime) -> int:
    return int(when.timestamp()) // 86_400


def minute_of(when: datetime) -> int:
    return int(when.timestamp()) // 60


def counts(row: Mapping[str, Any]) -> Counts:
    """What one scored mention adds to its author's history (`intent`, `sentiment`,
    `reply_action` as predicted): the one rule for the counters, the cache and the batch job."""
    return (
        1,
        int(row["sentiment"] == "negative"),
        int(row["intent"] in ABUSIVE_INTENTS),
        int(row["reply_action"] != "none"),
    )


def spike_ratio(recent: int, day: int) -> float | None:
    """Recent 15 minutes over the day's average 15 minutes; None when the day is too quiet."""
    if day < SPIKE_MIN_BASELINE:
        return None
    return float(recent) / (day / (BASELINE_MINUTES / SPIKE_MINUTES))


class ActivityFold:
    """The service's counters in memory: `add` each mention as it is scored, in time order;
    `history` and `volume` read what a mention scored at `now` would see."""

    def __init__(self) -> None:
        self._authors: dict[str, dict[int, list[int]]] = {}
        # Per brand: [minute, mentions] buckets, oldest first, and their running total.
        self._brands: dict[str, tuple[deque[list[int]], list[int]]] = {}

    def history(self, author_id: str | None, now: datetime) -> AuthorHistory:
        days = self._authors.get(author_id) if author_id else None
        if not days:
            return AuthorHistory()
        since = day_of(now) - HISTORY_DAYS
        for old in [d for d in days if d <= since]:  # no later read can reach them
            del days[old]
        total = [sum(c[i] for c in days.values()) for i in range(4)]
        return AuthorHistory(*total)

    def volume(self, brand: str | None, now: datetime) -> float:
        found = self._brands.get(brand) if brand else None
        if not found:
            return 1.0
        buckets, total = found
        minute = minute_of(now)
        while buckets and buckets[0][0] <= minute - BASELINE_MINUTES:
            total[0] -= buckets.popleft()[1]
        recent = 0
        for m, n in reversed(buckets):  # at most 15 buckets: time order keeps them sorted
            if m <= minute - SPIKE_MINUTES:
                break
            recent += n
        ratio = spike_ratio(recent, total[0])
        return 1.0 if ratio is None else ratio

    def add(self, author_id: str | None, brand: str | None, when: datetime, c: Counts) -> None:
        if author_id:
            bucket = self._authors.setdefault(author_id, {}).setdefault(day_of(when), [0] * 4)
            for i, n in enumerate(c):
                bucket[i] += n
        if brand:
            buckets, total = self._brands.setdefault(brand, (deque(), [0]))
            total[0] += 1
            minute = minute_of(when)
            if buckets and buckets[-1][0] == minute:
                buckets[-1][1] += 1
            else:
                buckets.append([minute, 1])
