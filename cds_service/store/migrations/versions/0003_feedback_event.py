"""One row per feedback event: an item the EHR sends again is not kept twice.

Rows kept before this revision get their event digest; of repeats, the first kept stays.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from cds_service.store.db import UtcDateTime
from cds_service.store.feedback import EVENT_COLUMNS, event_digest

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.add_column("feedback", sa.Column("event", sa.String(64)))
    connection = op.get_bind()
    said = [sa.column(c, UtcDateTime if c == "outcome_at" else sa.Text) for c in EVENT_COLUMNS]
    table = sa.table("feedback", sa.column("id"), sa.column("event"), *said)
    seen: set[str] = set()
    repeats: list[int] = []
    for row in connection.execute(sa.select(table).order_by(table.c.id)).mappings():
        digest = event_digest(row)
        if digest in seen:
            repeats.append(row["id"])
            continue
        seen.add(digest)
        connection.execute(sa.update(table).where(table.c.id == row["id"]).values(event=digest))
    if repeats:
        connection.execute(sa.delete(table).where(table.c.id.in_(repeats)))
    with op.batch_alter_table("feedback") as batch:
        batch.alter_column("event", existing_type=sa.String(64), nullable=False)
    op.create_index("ux_feedback_event", "feedback", ["event"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_feedback_event", "feedback")
    with op.batch_alter_table("feedback") as batch:
        batch.drop_column("event")
