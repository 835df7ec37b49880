"""QA review: the queue, verdicts, the summary, and retention of the prediction log.

Verdicts are appended to `reviews`, never updated: the latest verdict per prediction counts,
the earlier ones stay as the audit trail. What joins the queue is decided by
service/sampling.py.
"""

from __future__ import annotations

import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Engine, and_, delete, func, insert, select

from switchboard.service import sampling
from switchboard.service.db import outcomes, predictions, responders, reviews
from switchboard.service.errors import InvalidInput, NotFound
from switchboard.service.schemas import (
    Author,
    DayAgreement,
    HeadAccuracy,
    Kpis,
    ReviewIn,
    ReviewItem,
    ReviewOut,
    ScoreOut,
    SummaryOut,
)

_p, _r = predictions.c, reviews.c
LABELS = ("intent", "sentiment", "reply_action", "tier", "responder_id")
HEADS = ("intent", "sentiment", "reply_action", "tier", "responder")
STATUSES = ("open", "reviewed", "all")


@dataclass(frozen=True, slots=True)
class QueueFilter:
    status: str = "open"
    tier: int | None = None
    intent: str | None = None
    reason: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def _count() -> Any:
    return select(func.count()).select_from(predictions)


def _latest_review_ids() -> Any:
    return select(func.max(_r.id).label("id")).group_by(_r.prediction_id).subquery()


def _conditions(f: QueueFilter) -> list[Any]:
    reviewed = select(_r.prediction_id)
    found = [_p.review_reasons.is_not(None)]
    if f.status == "open":
        found.append(_p.id.not_in(reviewed))
    elif f.status == "reviewed":
        found.append(_p.id.in_(reviewed))
    if f.tier is not None:
        found.append(_p.tier == f.tier)
    if f.intent:
        found.append(_p.intent == f.intent)
    if f.reason:
        found.append(_p.review_reasons.contains(f.reason))
    if f.since:
        found.append(_p.created_at >= f.since)
    if f.until:
        found.append(_p.created_at < f.until)
    return found


def queue(engine: Engine, f: QueueFilter, limit: int, offset: int) -> tuple[list[ReviewItem], int]:
    """Most urgent first (crisis, then newest); `total` counts every match."""
    where = and_(*_conditions(f))
    crisis_first = (_p.tier == 5).desc()
    with engine.connect() as conn:
        total = conn.execute(_count().where(where)).scalar()
        rows = conn.execute(
            select(predictions)
            .where(where)
            .order_by(crisis_first, _p.created_at.desc(), _p.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        history = _reviews_of(conn, [r.id for r in rows])
    return [_item(r, history.get(r.id, [])) for r in rows], int(total or 0)


def get_item(engine: Engine, prediction_id: int) -> ReviewItem:
    with engine.connect() as conn:
        row = conn.execute(select(predictions).where(_p.id == prediction_id)).first()
        if row is None:
            raise NotFound(f"no prediction {prediction_id}", "prediction_id")
        return _item(row, _reviews_of(conn, [prediction_id]).get(prediction_id, []))


def _reviews_of(conn: Any, ids: Sequence[int]) -> dict[int, list[ReviewOut]]:
    out: dict[int, list[ReviewOut]] = defaultdict(list)
    if ids:
        for row in conn.execute(select(reviews).where(_r.prediction_id.in_(ids)).order_by(_r.id)):
            out[row.prediction_id].append(_review_out(row))
    return out


def _review_out(row: Any) -> ReviewOut:
    out = msgspec.convert(row, ReviewOut, from_attributes=True)
    return msgspec.structs.replace(out, reviewed_at=_utc(out.reviewed_at))


def _utc(when: datetime) -> datetime:
    """SQLite hands stored UTC times back naive; the API promises RFC 3339, with an offset."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _item(row: Any, history: list[ReviewOut]) -> ReviewItem:
    sent = row.mention if isinstance(row.mention, dict) else {}
    return ReviewItem(
        prediction_id=row.id,
        mention_id=row.mention_id,
        created_at=_utc(row.created_at),
        text=row.text,
        reasons=(row.review_reasons or "").split(",") if row.review_reasons else [],
        prediction=msgspec.convert(row.output, ScoreOut),
        reviews=history,
        posted_at=_posted_at(sent.get("created_at")),
        channel=sent.get("channel") or None,
        author=_author(sent.get("author")),
    )


def _posted_at(value: Any) -> datetime | None:
    """The mention's own time as logged (RFC 3339 text); None when absent or unreadable, so a
    reviewer is shown the scored time, labelled as such, rather than a wrong posted time."""
    if not isinstance(value, str):
        return None
    try:
        return _utc(datetime.fromisoformat(value))
    except ValueError:
        return None


def _author(value: Any) -> Author | None:
    if not isinstance(value, dict):
        return None
    try:
        return msgspec.convert(value, Author)
    except msgspec.ValidationError:
        return None


def predicted_labels(p: ScoreOut) -> dict[str, Any]:
    return {
        "intent": p.intent.label if p.intent else None,
        "sentiment": p.sentiment.label if p.sentiment else None,
        "reply_action": p.reply.action,
        "tier": p.tier.level,
        "responder_id": p.responders[0].id if p.responders else None,
    }


def record(
    engine: Engine,
    prediction_id: int,
    data: ReviewIn,
    reviewer: str,
    intents: Collection[str],
    now: datetime,
) -> ReviewOut:
    """Check everything first, then one INSERT: a bad verdict stores nothing."""
    item = get_item(engine, prediction_id)
    given = {k: getattr(data, k) for k in LABELS if getattr(data, k) is not None}
    if data.verdict == "accept" and given:
        field = next(iter(given))
        raise InvalidInput(f"'accept' takes no labels; send verdict 'correct' with {field}", field)
    if data.verdict == "correct" and not given:
        raise InvalidInput(f"a correction needs at least one of {', '.join(LABELS)}", "$.verdict")
    if "intent" in given and given["intent"] not in intents:
        raise InvalidInput(
            f"unknown intent {given['intent']!r}; known: {', '.join(sorted(intents))}", "$.intent"
        )
    with engine.begin() as conn:
        if (
            "responder_id" in given
            and not conn.execute(
                select(responders.c.id).where(responders.c.id == given["responder_id"])
            ).first()
        ):
            raise InvalidInput(f"no responder {given['responder_id']!r}", "$.responder_id")
        labels = {**predicted_labels(item.prediction), **given}
        values = {
            "prediction_id": prediction_id,
            "reviewer": reviewer[:100],  # who signed in; `data.reviewer` is ignored
            "reviewed_at": now,
            "verdict": "accepted" if data.verdict == "accept" else "corrected",
            "note": data.note,
            **labels,
        }
        new_id = conn.execute(insert(reviews).values(**values)).inserted_primary_key[0]
    return msgspec.convert({"id": new_id, **values}, ReviewOut)


def purge(engine: Engine, retention_days: int, now: datetime) -> int:
    """Delete unreviewed predictions older than the retention; reviewed ones are labels."""
    if retention_days <= 0:
        return 0
    cutoff = now - timedelta(days=retention_days)
    with engine.begin() as conn:
        result = conn.execute(
            delete(predictions).where(
                and_(_p.created_at < cutoff, _p.id.not_in(select(_r.prediction_id)))
            )
        )
    return int(result.rowcount or 0)


# --- the summary ----------------------------------------------------------------------------


def wilson(hits: int, n: int, z: float = 1.96) -> tuple[float, float] | tuple[None, None]:
    """95 % interval of a proportion that stays inside [0, 1] and is sane for small n."""
    if n == 0:
        return None, None
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return round(max(0.0, centre - half), 4), round(min(1.0, centre + half), 4)


def _reviewed_rows(engine: Engine, since: datetime | None) -> list[Any]:
    latest = _latest_review_ids()
    query = (
        select(
            _p.id,
            _p.output,
            _p.review_reasons,
            _r.verdict,
            _r.reviewed_at,
            *[_r[k] for k in LABELS],
        )
        .join(reviews, reviews.c.prediction_id == _p.id)
        .join(latest, latest.c.id == _r.id)
    )
    if since:
        query = query.where(_p.created_at >= since)
    with engine.connect() as conn:
        return conn.execute(query).all()


def _head_accuracy(rows: list[Any]) -> list[HeadAccuracy]:
    out = []
    for head, label in zip(HEADS, LABELS, strict=True):
        pairs = [(predicted_labels(_score(r))[label], r._mapping[label], r) for r in rows]
        pairs = [(p, t, r) for p, t, r in pairs if t is not None]
        rand = [(p, t) for p, t, r in pairs if sampling.RANDOM in (r.review_reasons or "")]
        hits = sum(p == t for p, t, _ in pairs)
        rand_hits = sum(p == t for p, t in rand)
        low, high = wilson(rand_hits, len(rand))
        out.append(
            HeadAccuracy(
                head=head,
                reviewed=len(pairs),
                accuracy=round(hits / len(pairs), 4) if pairs else None,
                random_reviewed=len(rand),
                random_accuracy=round(rand_hits / len(rand), 4) if rand else None,
                ci_low=low,
                ci_high=high,
            )
        )
    return out


def _score(row: Any) -> ScoreOut:
    return msgspec.convert(row.output, ScoreOut)


def _confusion(rows: list[Any]) -> dict[str, dict[str, int]]:
    counts = Counter((predicted_labels(_score(r))["intent"], r.intent) for r in rows)
    out: dict[str, dict[str, int]] = defaultdict(dict)
    for (predicted, reviewed), n in sorted(counts.items(), key=lambda kv: str(kv[0])):
        out[str(predicted)][str(reviewed)] = n
    return dict(out)


def _agreement(rows: list[Any]) -> list[DayAgreement]:
    days: dict[str, list[bool]] = defaultdict(list)
    for r in rows:
        days[r.reviewed_at.date().isoformat()].append(r.verdict == "accepted")
    return [
        DayAgreement(day=d, reviewed=len(v), agreement=round(sum(v) / len(v), 4))
        for d, v in sorted(days.items())
    ]


def _kpis(engine: Engine, rows: list[Any], since: datetime | None) -> Kpis:
    window = [_p.created_at >= since] if since else []
    with engine.connect() as conn:
        total = conn.execute(_count().where(*window)).scalar() or 0
        done = conn.execute(
            select(outcomes.c.mention_id, outcomes.c.first_response_s, outcomes.c.resolved)
            .join(predictions, _p.mention_id == outcomes.c.mention_id)
            .where(*window)
        ).all()
        left_alone = conn.execute(
            select(_p.id, _p.mention_id).where(_p.reply_action == "none", *window)
        ).all()
        crisis = conn.execute(_count().where(_p.tier == 5, *window)).scalar() or 0
    answered = {o.mention_id for o in done if o.first_response_s is not None}
    corrected_to_reply = {r.id for r in rows if r.reply_action != "none"}
    ttfr = [o.first_response_s for o in done if o.first_response_s is not None]
    resolved = [bool(o.resolved) for o in done if o.resolved is not None]
    return Kpis(
        predictions=int(total),
        mean_first_response_s=round(statistics.fmean(ttfr), 1) if ttfr else None,
        median_first_response_s=round(statistics.median(ttfr), 1) if ttfr else None,
        resolved_share=round(sum(resolved) / len(resolved), 4) if resolved else None,
        replies_avoided=sum(
            1 for p in left_alone if p.mention_id not in answered and p.id not in corrected_to_reply
        ),
        crisis_escalations=int(crisis),
        crisis_confirmed=sum(1 for r in rows if _score(r).tier.level == 5 and r.tier == 5),
    )


def summary(engine: Engine, since: datetime | None = None) -> SummaryOut:
    rows = _reviewed_rows(engine, since)
    _, open_total = queue(engine, QueueFilter(since=since), limit=0, offset=0)
    return SummaryOut(
        reviewed=len(rows),
        open=open_total,
        heads=_head_accuracy(rows),
        intent_confusion=_confusion(rows),
        agreement=_agreement(rows),
        kpis=_kpis(engine, rows, since),
    )
