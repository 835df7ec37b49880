"""Review sign-in: an owner name on API keys and the review page's server-side sessions.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

from switchboard.service.db import review_sessions

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A fresh database already has all of it: revision 0001 creates the tables from service/db.py.
    bind = op.get_bind()
    if "name" not in {c["name"] for c in sa.inspect(bind).get_columns("api_keys")}:
        op.add_column("api_keys", sa.Column("name", sa.String(100), nullable=True))
    review_sessions.create(bind, checkfirst=True)


def downgrade() -> None:
    op.drop_table("review_sessions")
    op.drop_column("api_keys", "name")
