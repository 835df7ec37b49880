"""QA review: the mention, lowest confidence and review reasons on predictions; reviews table.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

from switchboard.service.db import reviews

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NEW_COLUMNS = (
    sa.Column("mention", sa.JSON, nullable=True),
    sa.Column("confidence", sa.Float, nullable=True),
    sa.Column("review_reasons", sa.String(200), nullable=True),
)


def upgrade() -> None:
    # A fresh database already has all of it: revision 0001 creates the tables from service/db.py.
    bind = op.get_bind()
    have = {c["name"] for c in sa.inspect(bind).get_columns("predictions")}
    for column in NEW_COLUMNS:
        if column.name not in have:
            op.add_column("predictions", column.copy())
    reviews.create(bind, checkfirst=True)


def downgrade() -> None:
    op.drop_table("reviews")
    for column in NEW_COLUMNS:
        op.drop_column("predictions", column.name)
