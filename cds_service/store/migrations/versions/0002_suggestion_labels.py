"""Suggestion labels beside their uuids: the report says which suggestion was taken in words.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("served_card", sa.Column("suggestion_labels", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("served_card") as table:
        table.drop_column("suggestion_labels")
