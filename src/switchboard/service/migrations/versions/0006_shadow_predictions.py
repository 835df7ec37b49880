"""Shadow mode: the challenger's predictions beside the champion's, for agreement reports.

Revision ID: 0006
Revises: 0005
"""

from alembic import op

from switchboard.service.db import shadow_predictions

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A fresh database already has it: revision 0001 creates the tables from service/db.py.
    shadow_predictions.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_table("shadow_predictions")
