"""Served cards and the feedback on them.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "served_card",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.String(64), nullable=False),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("hook", sa.String(32), nullable=False),
        sa.Column("rule_id", sa.String(128), nullable=False),
        sa.Column("rule_set_version", sa.String(64), nullable=False),
        sa.Column("indicator", sa.String(16), nullable=False),
        sa.Column("suggestion_uuids", sa.Text, nullable=False),
        sa.Column("patient_hash", sa.String(64), nullable=False),
        sa.Column("encounter_hash", sa.String(64)),
        sa.Column("hook_instance", sa.String(128), nullable=False),
        sa.Column("served_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_served_card_uuid", "served_card", ["card_uuid"])
    op.create_index("ix_served_card_rule_time", "served_card", ["rule_id", "served_at"])
    op.create_index("ix_served_card_time", "served_card", ["served_at"])
    op.create_table(
        "feedback",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("card_uuid", sa.String(64), nullable=False),
        sa.Column("service", sa.String(128), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("accepted_suggestions", sa.Text, nullable=False),
        sa.Column("override_system", sa.Text),
        sa.Column("override_code", sa.String(128)),
        sa.Column("override_display", sa.Text),
        sa.Column("user_comment", sa.Text),
        sa.Column("outcome_at", sa.DateTime, nullable=False),
        sa.Column("received_at", sa.DateTime, nullable=False),
    )
    op.create_index("ix_feedback_card_outcome", "feedback", ["card_uuid", "outcome"])
    op.create_index("ix_feedback_received", "feedback", ["received_at"])


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_table("served_card")
