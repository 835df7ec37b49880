"""Indexes for author history and brand volume: (author_id, created_at), (brand, created_at).

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A fresh database already has them: revision 0001 creates the tables from service/db.py.
    op.create_index(
        "ix_predictions_author_time",
        "predictions",
        ["author_id", "created_at"],
        if_not_exists=True,
    )
    op.create_index(
        "ix_predictions_brand_time", "predictions", ["brand", "created_at"], if_not_exists=True
    )


def downgrade() -> None:
    op.drop_index("ix_predictions_brand_time", "predictions")
    op.drop_index("ix_predictions_author_time", "predictions")
