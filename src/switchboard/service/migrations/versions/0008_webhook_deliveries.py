"""Crisis webhook: one row per tier-5 event, recorded before it is sent.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

from switchboard.service.db import webhook_deliveries

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A fresh database already has it: revision 0001 creates the tables from service/db.py.
    webhook_deliveries.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
