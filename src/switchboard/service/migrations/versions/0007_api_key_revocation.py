"""API key revocation: `revoked_at` on api_keys (`switchboard keys revoke ID`).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A fresh database already has it: revision 0001 creates the tables from service/db.py.
    bind = op.get_bind()
    if "revoked_at" not in {c["name"] for c in sa.inspect(bind).get_columns("api_keys")}:
        op.add_column(
            "api_keys", sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    op.drop_column("api_keys", "revoked_at")
