"""Initial schema: responders, api_keys, predictions, claims, outcomes.

Revision ID: 0001
Revises:
"""

from alembic import op

from switchboard.service.db import metadata

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The first revision creates the tables as service/db.py declares them; later revisions
    # must spell out their changes with op.* so that existing databases follow.
    metadata.create_all(op.get_bind())


def downgrade() -> None:
    metadata.drop_all(op.get_bind())
