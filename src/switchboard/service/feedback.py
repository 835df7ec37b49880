"""Reviewed predictions and recorded outcomes, exported as labelled cases for retraining.

One row per prediction that has a verdict or an outcome recorded since the given time. Labels
come from the latest verdict (intent, sentiment, reply mode, tier, responder; `actionable` =
the reviewed reply is not "none") and from the latest outcome (who replied, first response,
resolved, csat; an outcome alone also says the mention was answered). Case ids are
`fb-<prediction id>`, so feedback never collides with the history it is trained beside, and
`split` is `train`: corrections are learnt from, never held out.
A JSON sidecar (`<out>.feedback.json`) lists what went in; `switchboard train` logs it to MLflow.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, func, or_, select

from switchboard.data.schema import COLUMN_NAMES, FEEDBACK_SIDECAR_SUFFIX
from switchboard.service.db import outcomes, predictions, reviews

_p, _r, _o = predictions.c, reviews.c, outcomes.c


@dataclass(slots=True)
class ExportReport:
    since: str
    exported_at: str
    rows: int = 0
    reviewed: int = 0
    outcome_only: int = 0
    case_ids: list[str] = field(default_factory=list)
    reviewers: dict[str, int] = field(default_factory=dict)


def _latest(key: Any, id_col: Any) -> Any:
    return select(func.max(id_col).label("id")).group_by(key).subquery()


def _reviewed(conn: Any) -> dict[int, Any]:
    latest = _latest(_r.prediction_id, _r.id)
    rows = conn.execute(select(reviews).join(latest, latest.c.id == _r.id)).all()
    return {r.prediction_id: r for r in rows}


def _outcomes(conn: Any) -> dict[str, Any]:
    latest = _latest(_o.mention_id, _o.id)
    rows = conn.execute(select(outcomes).join(latest, latest.c.id == _o.id)).all()
    return {r.mention_id: r for r in rows}


def _case(p: Any, verdict: Any | None, outcome: Any | None) -> dict[str, Any]:
    mention = p.mention or {}
    author = mention.get("author") or {}
    row: dict[str, Any] = {
        "case_id": f"fb-{p.id}",
        "text": p.text,
        "created_at": mention.get("created_at") or p.created_at.isoformat(),
        "channel": mention.get("channel"),
        "brand": p.brand,
        "author_id": author.get("id"),
        "author_followers": author.get("followers"),
        "author_verified": author.get("verified"),
        "language": mention.get("language"),
    }
    if verdict is not None:
        row |= {
            "intent": verdict.intent,
            "sentiment": verdict.sentiment,
            "reply_action": verdict.reply_action,
            "actionable": verdict.reply_action != "none",
            "tier": verdict.tier,
            "responder_id": verdict.responder_id,
        }
    if outcome is not None:
        replied = outcome.reply_action in ("public", "private")
        row |= {
            "responder_id": row.get("responder_id") or (outcome.responder_id if replied else None),
            "first_response_s": outcome.first_response_s,
            "resolved": outcome.resolved,
            "csat": outcome.csat,
        }
        if verdict is None and outcome.reply_action:
            row |= {"reply_action": outcome.reply_action, "actionable": replied}
    return row


def export(engine: Engine, since: datetime, out: Path) -> ExportReport:
    """Write the cases as CSV (schema columns only) plus the sidecar; returns what went in."""
    report = ExportReport(since=since.isoformat(), exported_at=datetime.now(UTC).isoformat())
    with engine.connect() as conn:
        verdicts = _reviewed(conn)
        results = _outcomes(conn)
        fresh_reviews = {k for k, v in verdicts.items() if _aware(v.reviewed_at) >= since}
        fresh_outcomes = {k for k, v in results.items() if _aware(v.recorded_at) >= since}
        query = select(predictions).where(
            or_(_p.id.in_(fresh_reviews), _p.mention_id.in_(fresh_outcomes))
        )
        rows, seen = [], set()
        for p in conn.execute(query.order_by(_p.id.desc())):  # newest prediction per mention
            verdict = verdicts.get(p.id)
            if verdict is None and p.mention_id in seen:
                continue  # an outcome labels the latest prediction of its mention only
            seen.add(p.mention_id)
            rows.append(_case(p, verdict, results.get(p.mention_id)))
            if verdict is not None:
                report.reviewed += 1
                report.reviewers[verdict.reviewer] = report.reviewers.get(verdict.reviewer, 0) + 1
            else:
                report.outcome_only += 1
    frame = pd.DataFrame(rows, columns=list(COLUMN_NAMES))
    # A reviewer's correction is a label to learn from, not to be held out: feedback rows are
    # training rows (the history's own split still measures the model).
    frame["split"] = "train"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(out, index=False)
    report.rows, report.case_ids = len(frame), frame["case_id"].tolist()
    sidecar(out).write_text(json.dumps(asdict(report), indent=2))
    return report


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + FEEDBACK_SIDECAR_SUFFIX)


def _aware(when: datetime) -> datetime:
    """SQLite hands datetimes back naive; they were written as UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)
