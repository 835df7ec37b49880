"""Shadow mode: the registry's `challenger` scored beside the champion on live traffic.

The challenger's answers are compared and stored, never returned. The request path only hands
the fresh mentions, the champion's recommendations and the contexts it used (author history,
brand volume, roster, `now`) to a bounded in-memory queue (`Shadow.submit`: a lock and an
append, no scoring); one background thread scores them with the challenger through the same
`Router.recommend`, so both models see exactly the same inputs, and writes one
`shadow_predictions` row per mention. When more than `max_pending` mentions wait, new ones are
not shadow-scored: they are counted as dropped and the request goes on as if there were no
challenger. Shadow scoring is best effort: a failed comparison or a database that is away
costs comparisons, never an answer.

`report` reads the stored rows, so every replica's comparisons count and a restart loses
nothing; in-memory counts (this process) cover what leaves no row: dropped, pending, unstored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, and_, case, delete, func, insert, or_, select

from switchboard.routing.router import Recommendation, Router
from switchboard.routing.types import Context, Mention, Responder
from switchboard.service.db import shadow_predictions
from switchboard.service.errors import NoChallenger
from switchboard.service.metrics import Metrics
from switchboard.service.schemas import (
    DecisionAgreement,
    HeadAgreement,
    ShadowExample,
    ShadowOut,
    ShadowProcess,
)

log = logging.getLogger("switchboard.shadow")

EXAMPLES = 5  # recent disagreements in a report
_s = shadow_predictions.c


@dataclass(frozen=True, slots=True)
class _Item:
    """One request's fresh mentions, as the champion saw them."""

    challenger: Router
    champion_version: str
    mentions: Sequence[Mention]
    champion: Sequence[Recommendation]
    contexts: Sequence[Context]
    roster: Sequence[Responder]
    now: datetime


def comparison_row(
    champion: Recommendation,
    challenger: Recommendation,
    champion_version: str,
    challenger_version: str,
    now: datetime,
) -> dict[str, Any]:
    """The `shadow_predictions` row of one mention; heads only one model has are not compared."""
    mine = {h: p.label for h, p in champion.heads.items()}
    theirs = {h: p.label for h, p in challenger.heads.items()}
    differ = sorted(h for h in mine.keys() & theirs.keys() if mine[h] != theirs[h])
    return {
        "mention_id": champion.mention.id,
        "created_at": now,
        "champion_version": champion_version,
        "challenger_version": challenger_version,
        "champion_labels": mine,
        "challenger_labels": theirs,
        "champion_reply": champion.decision.reply_action,
        "challenger_reply": challenger.decision.reply_action,
        "champion_tier": champion.decision.tier,
        "challenger_tier": challenger.decision.tier,
        "disagree": f",{','.join(differ)}," if differ else "",
    }


class Shadow:
    """The challenger (if any), its bounded queue and the one thread that scores it."""

    def __init__(self, engine: Engine, metrics: Metrics, max_pending: int) -> None:
        self.engine = engine
        self.metrics = metrics
        self.max_pending = max_pending
        self.challenger: Router | None = None
        self.version: str | None = None  # what the alias names, whether or not it loaded
        self.error = ""  # why that version is not shadowing
        self.compared = self.dropped = self.unstored = 0
        self._items: deque[_Item] = deque()
        self._pending = 0  # mentions queued or being scored
        self._cond = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="switchboard-shadow", daemon=True)
        self._thread.start()

    def set_challenger(self, router: Router | None, version: str | None, error: str = "") -> None:
        """Swap the challenger (start-up, reload); queued work finishes with the one it had."""
        self.challenger, self.version, self.error = router, version, error

    def status(self) -> dict[str, Any]:
        """For `/ready`: which challenger, whether it is shadowing, and why not."""
        return {
            "challenger": self.version,
            "shadowing": self.challenger is not None,
            "error": self.error or None,
            "pending": self.pending,
            "dropped": self.dropped,
        }

    @property
    def pending(self) -> int:
        """Mentions queued or being scored by the challenger."""
        return self._pending

    def submit(
        self,
        champion_version: str,
        mentions: Sequence[Mention],
        champion: Sequence[Recommendation],
        contexts: Sequence[Context],
        roster: Sequence[Responder],
        now: datetime,
    ) -> bool:
        """Queue the mentions for the challenger, or drop and count them; never blocks on
        scoring (the lock is only ever held for a queue operation)."""
        challenger = self.challenger
        if challenger is None or not mentions:
            return False
        n = len(mentions)
        with self._cond:
            if self._closed or self._pending + n > self.max_pending:
                self.dropped += n
                self.metrics.shadow_dropped.inc(n)
                return False
            self._items.append(
                _Item(challenger, champion_version, mentions, champion, contexts, roster, now)
            )
            self._pending += n
            self._cond.notify()
        return True

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every queued mention is compared (tests, benchmarks); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread: the batch in hand is finished, what still waits is dropped."""
        with self._cond:
            self._closed = True
            left = sum(len(item.mentions) for item in self._items)
            self._items.clear()
            self._pending -= left
            self.dropped += left
            self._cond.notify_all()
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._items and not self._closed:
                    self._cond.wait()
                if not self._items:
                    return
                item = self._items.popleft()
            try:
                self._compare(item)
            except Exception:  # shadow scoring must never take the thread down
                log.exception("shadow scoring failed for %d mention(s)", len(item.mentions))
                self.unstored += len(item.mentions)
            finally:
                with self._cond:
                    self._pending -= len(item.mentions)
                    self._cond.notify_all()

    def _compare(self, item: _Item) -> None:
        recs = item.challenger.recommend(item.mentions, item.contexts, item.roster, item.now)
        version = item.challenger.bundle.version
        rows = [
            comparison_row(a, b, item.champion_version, version, item.now)
            for a, b in zip(item.champion, recs, strict=True)
        ]
        heads: Counter[str] = Counter()
        decisions: Counter[str] = Counter()
        for row in rows:
            heads.update(h for h in row["disagree"].split(",") if h)
            decisions["reply_action"] += row["champion_reply"] != row["challenger_reply"]
            decisions["tier"] += row["champion_tier"] != row["challenger_tier"]
        self.compared += len(rows)
        self.metrics.shadow(len(rows), heads, decisions)
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(shadow_predictions), rows)
        except Exception as exc:  # the database away costs rows, not the thread
            log.warning("shadow comparisons not stored (%d): %s", len(rows), exc)
            self.unstored += len(rows)


def purge(conn: Connection, retention_days: int, now: datetime) -> int:
    """Delete shadow rows older than the prediction retention (0 keeps everything)."""
    if retention_days <= 0:
        return 0
    cutoff = now - timedelta(days=retention_days)
    result = conn.execute(delete(shadow_predictions).where(_s.created_at < cutoff))
    return int(result.rowcount or 0)


def _share(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def _sum(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _utc(when: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; every time the service stores is UTC."""
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def report(engine: Engine, champion: Router, shadow: Shadow) -> ShadowOut:
    """Agreement of the serving champion and the current challenger, from every stored
    comparison of that pair (all replicas, since the pair was first compared)."""
    if shadow.version is None:
        raise NoChallenger(
            "no challenger is set: give a registered version the `challenger` alias, then "
            "POST /v1/model/reload"
        )
    champion_version, challenger_version = champion.bundle.version, shadow.version
    heads = set(champion.bundle.heads)
    if shadow.challenger is not None:
        heads &= set(shadow.challenger.bundle.heads)
    names = sorted(heads)
    pair = and_(
        _s.champion_version == champion_version, _s.challenger_version == challenger_version
    )
    same_reply = _s.champion_reply == _s.challenger_reply
    same_tier = _s.champion_tier == _s.challenger_tier
    totals = [
        func.count(),
        func.min(_s.created_at),
        _sum(same_reply),
        _sum(same_tier),
        _sum(and_(same_reply, same_tier)),
        *(_sum(_s.disagree.contains(f",{h},", autoescape=True)) for h in names),
    ]
    with engine.connect() as conn:
        n, since, reply, tier, both, *differ = conn.execute(select(*totals).where(pair)).one()
        confusion: dict[str, dict[str, int]] = {}
        for a, b, count in conn.execute(
            select(_s.champion_reply, _s.challenger_reply, func.count())
            .where(pair)
            .group_by(_s.champion_reply, _s.challenger_reply)
        ):
            confusion.setdefault(a, {})[b] = int(count)
        recent = conn.execute(
            select(shadow_predictions)
            .where(pair, or_(_s.disagree != "", ~same_reply, ~same_tier))
            .order_by(_s.id.desc())
            .limit(EXAMPLES)
        ).all()
    n = int(n)
    return ShadowOut(
        champion=champion_version,
        challenger=challenger_version,
        shadowing=shadow.challenger is not None,
        challenger_error=shadow.error or None,
        since=_utc(since),
        compared=n,
        dropped=shadow.dropped,
        heads=[
            HeadAgreement(head=h, agreement=_share(n - int(d), n))
            for h, d in zip(names, differ, strict=True)
        ],
        decision=DecisionAgreement(
            reply_action=_share(int(reply), n), tier=_share(int(tier), n), both=_share(int(both), n)
        ),
        reply_confusion=confusion,
        disagreements=[
            ShadowExample(
                mention_id=r.mention_id,
                at=_utc(r.created_at),  # type: ignore[arg-type]
                heads=[h for h in r.disagree.split(",") if h],
                champion_reply=r.champion_reply,
                challenger_reply=r.challenger_reply,
                champion_tier=r.champion_tier,
                challenger_tier=r.challenger_tier,
            )
            for r in recent
        ],
        process=ShadowProcess(
            compared=shadow.compared,
            pending=shadow.pending,
            unstored=shadow.unstored,
        ),
    )
