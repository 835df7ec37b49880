"""Idempotent scoring and O(1) context: unique mention ids, author and brand activity counters.

Revision ID: 0004
Revises: 0003

An older database may hold a mention scored several times (retries before 0004). The earliest
prediction of each mention is kept; reviews of the later ones move to it, then the later ones
go, and the index on `mention_id` becomes unique. The counters are back-filled from the last
eight days of predictions, so author history and brand volume carry on across the upgrade.
"""

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op
from sqlalchemy import select

from switchboard.service import activity
from switchboard.service.db import author_activity, brand_activity, predictions

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

INDEX = "ix_predictions_mention_id"
KEEP = "SELECT MIN(k.id) FROM predictions k WHERE k.mention_id = predictions.mention_id"


def _mention_index_is_unique(bind: sa.Connection) -> bool:
    for index in sa.inspect(bind).get_indexes("predictions"):
        if index["name"] == INDEX:
            return bool(index["unique"])
    return False


def _deduplicate(bind: sa.Connection) -> None:
    bind.execute(
        sa.text(
            "UPDATE reviews SET prediction_id = (SELECT MIN(k.id) FROM predictions k "
            "WHERE k.mention_id = (SELECT p.mention_id FROM predictions p "
            "WHERE p.id = reviews.prediction_id))"
        )
    )
    bind.execute(sa.text(f"DELETE FROM predictions WHERE id <> ({KEEP})"))


def _backfill(bind: sa.Connection) -> None:
    """Counters from the predictions of the last eight days, counted by the writer's own rule."""
    since = datetime.now(UTC) - timedelta(days=activity.HISTORY_DAYS + 1)
    p = predictions.c
    query = select(p.author_id, p.brand, p.created_at, p.sentiment, p.intent, p.reply_action)
    rows = bind.execute(query.where(p.created_at >= since)).mappings()
    while chunk := rows.fetchmany(10_000):
        activity.add(bind, [_utc(dict(r)) for r in chunk])


def _utc(row: dict) -> dict:
    """SQLite hands back naive datetimes; the service stores UTC."""
    when = row["created_at"]
    row["created_at"] = when if when.tzinfo else when.replace(tzinfo=UTC)
    return row


def upgrade() -> None:
    # A fresh database already has all of it: revision 0001 creates the tables from service/db.py.
    bind = op.get_bind()
    if not _mention_index_is_unique(bind):
        _deduplicate(bind)
        op.drop_index(INDEX, table_name="predictions")
        op.create_index(INDEX, "predictions", ["mention_id"], unique=True)
    have = set(sa.inspect(bind).get_table_names())
    if "author_activity" not in have:
        author_activity.create(bind)
        brand_activity.create(bind)
        _backfill(bind)


def downgrade() -> None:
    op.drop_table("brand_activity")
    op.drop_table("author_activity")
    op.drop_index(INDEX, table_name="predictions")
    op.create_index(INDEX, "predictions", ["mention_id"])
