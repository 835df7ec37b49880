"""Rows of mentions (with explicit context columns) to the decisions `/v1/score` returns.

The registered MLflow model (training/pyfunc.py), `switchboard batch-score --engine local` and
`--engine spark` all call `decision_frame`, which goes through `Router.recommend` as the
service does. Context is explicit: the service reads author history and brand volume from its
counters, a batch row carries them as columns (batch/context.py computes them from the data in
time order). `now` for a row is its `created_at` (the batch run's start when it has none).

Inputs are forgiving, since Parquet files, Spark and pandas hand the same column over as int32,
int64, float, nullable Int64 or object with None: missing or NaN is "not given", numbers are
read as numbers whatever their width. Responders are not ranked (no roster: presence and load
are only known live), so `responders` is not an output column.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from switchboard.routing.router import Recommendation, Router
from switchboard.routing.types import AuthorHistory, Context, Mention

# `text` is required; every other input is optional.
MENTION_COLUMNS = (
    "mention_id",
    "created_at",
    "channel",
    "brand",
    "language",
    "author_id",
    "author_followers",
    "author_verified",
)
AUTHOR_COLUMNS = (
    "author_recent_mentions",
    "author_recent_negative",
    "author_recent_abusive",
    "author_recent_replied",
)
CONTEXT_COLUMNS = (*AUTHOR_COLUMNS, "brand_volume_ratio")
INPUT_COLUMNS = ("text", *MENTION_COLUMNS, *CONTEXT_COLUMNS)
STRING_INPUTS = ("mention_id", "channel", "brand", "language", "author_id")

# Output column -> Spark SQL type: the flat form of the `/v1/score` response's decision fields
# (`reply.action` is `reply_action`, `tier.level` is `tier`, `explanation.rules[].code` is
# `rule_codes`).
OUTPUT_TYPES = {
    "mention_id": "string",
    "model_version": "string",
    "policy_version": "string",
    "intent": "string",
    "intent_confidence": "double",
    "sentiment": "string",
    "sentiment_confidence": "double",
    "reply_action": "string",
    "reply_reasons": "array<string>",
    "tier": "int",
    "tier_name": "string",
    "priority": "int",
    "sla_seconds": "double",  # whole seconds; null when no reply is recommended
    "abstain": "boolean",
    "rule_codes": "array<string>",
}
OUTPUT_COLUMNS = tuple(OUTPUT_TYPES)


def spark_schema() -> str:
    """The output as a Spark DDL struct, for `spark_udf(result_type=...)`."""
    return "struct<" + ",".join(f"{k}:{v}" for k, v in OUTPUT_TYPES.items()) + ">"


def _missing(v: Any) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    return isinstance(v, float) and math.isnan(v)


def _string(v: Any) -> str | None:
    return None if _missing(v) else str(v)


def _number(v: Any, column: str, row: int) -> float | None:
    if _missing(v):
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        raise ValueError(f"row {row}: {column} is not a number: {v!r}") from None


def _when(v: Any, row: int) -> datetime | None:
    """A timestamp, ISO string or Unix seconds as an aware UTC datetime (naive means UTC)."""
    if _missing(v):
        return None
    if isinstance(v, int | float):
        return datetime.fromtimestamp(float(v), UTC)
    try:
        ts = pd.Timestamp(v)
    except (TypeError, ValueError):
        raise ValueError(f"row {row}: created_at is not a time: {v!r}") from None
    ts = ts.tz_localize(UTC) if ts.tzinfo is None else ts.tz_convert(UTC)
    return ts.to_pydatetime()


def _flag(v: Any) -> bool | None:
    if _missing(v):
        return None
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "y", "t")
    return bool(v)


def row_inputs(record: dict[str, Any], row: int, started: datetime) -> tuple[Mention, Context]:
    """One input row as the Mention and Context the service would build for it."""
    followers = _number(record.get("author_followers"), "author_followers", row)
    created = _when(record.get("created_at"), row)
    mention = Mention(
        id=_string(record.get("mention_id")) or str(row),
        text=str(record["text"]),
        channel=_string(record.get("channel")),
        brand=_string(record.get("brand")),
        created_at=created,
        language=_string(record.get("language")),
        author_id=_string(record.get("author_id")),
        author_followers=None if followers is None else int(followers),
        author_verified=_flag(record.get("author_verified")),
    )
    counts = [_number(record.get(c), c, row) for c in AUTHOR_COLUMNS]
    ratio = _number(record.get("brand_volume_ratio"), "brand_volume_ratio", row)
    context = Context(
        now=created or started,
        author=AuthorHistory(*(int(n or 0) for n in counts)),
        volume_ratio=1.0 if ratio is None else ratio,
    )
    return mention, context


def decision_row(rec: Recommendation, router: Router) -> dict[str, Any]:
    """The decision fields of `/v1/score`'s response (service/scoring.py `to_response`)."""
    d, heads = rec.decision, rec.heads
    intent, sentiment = heads.get("intent"), heads.get("sentiment")
    return {
        "mention_id": rec.mention.id,
        "model_version": router.bundle.version,
        "policy_version": router.policy.version,
        "intent": intent.label if intent else None,
        "intent_confidence": round(intent.confidence, 4) if intent else None,
        "sentiment": sentiment.label if sentiment else None,
        "sentiment_confidence": round(sentiment.confidence, 4) if sentiment else None,
        "reply_action": d.reply_action,
        "reply_reasons": list(d.reply_reasons),
        "tier": d.tier,
        "tier_name": d.tier_name,
        "priority": d.priority,
        "sla_seconds": None if d.sla_seconds is None else float(d.sla_seconds),
        "abstain": d.abstain,
        "rule_codes": [r.code for r in d.rules],
    }


def decide(router: Router, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decisions for records (INPUT_COLUMNS keys; only `text` required), in order."""
    started = datetime.now(UTC)
    pairs = [row_inputs(r, i, started) for i, r in enumerate(records)]
    mentions = [m for m, _ in pairs]
    recs = router.recommend(mentions, [c for _, c in pairs], (), started)
    return [decision_row(r, router) for r in recs]


def decision_frame(router: Router, frame: pd.DataFrame) -> pd.DataFrame:
    """`decide` on a DataFrame: one output row per input row, same index, OUTPUT_COLUMNS."""
    if "text" not in frame.columns:
        raise ValueError("required column 'text' is missing")
    rows = decide(router, frame.to_dict("records"))
    out = pd.DataFrame(rows, columns=list(OUTPUT_COLUMNS), index=frame.index)
    return out.astype({"tier": "int32", "priority": "int32", "abstain": bool})
