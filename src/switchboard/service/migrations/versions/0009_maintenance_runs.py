"""Periodic jobs: when each last ran, so that replicas run the retention purge once per period.

Revision ID: 0009
Revises: 0008
"""

from alembic import op

from switchboard.service.db import maintenance_runs

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A fresh database already has it: revision 0001 creates the tables from service/db.py.
    maintenance_runs.create(op.get_bind(), checkfirst=True)


def downgrade() -> None:
    op.drop_table("maintenance_runs")
