"""Feedback kept before it is acknowledged: the EHR hears 200 only for what is written.

Feedback for a card uuid the service never served is kept as well (a client's mix-up, or a card
from before the store existed) and counted: the report shows it per service.

Keeping is idempotent: an item sent again (the EHR retries after a 503 whose write landed
late, or after losing the 200) is the same event and is kept once, so no override reason is
counted twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, Insert, select
from sqlalchemy.dialects import postgresql, sqlite

from ..protocol.messages import FeedbackItem
from ..protocol.outcomes import ClientError
from .db import feedback, served_card

LIMITS = {"card_uuid": 64, "override_code": 128}
"""Columns of bounded length the client fills: longer is the client's mistake (400), not 503."""


def rows(service: str, items: Sequence[FeedbackItem], received: datetime) -> list[dict[str, Any]]:
    """The rows to keep; a ClientError (400) for a value no column can hold."""
    kept = [_row(service, item, received) for item in items]
    for index, row in enumerate(kept):
        for column, limit in LIMITS.items():
            if len(row[column] or "") > limit:
                where = "card" if column == "card_uuid" else "overrideReason.reason.code"
                message = f"{where} is longer than {limit} characters"
                raise ClientError.of(400, "invalid", message, f"feedback[{index}].{where}")
    return kept


def _row(service: str, item: FeedbackItem, received: datetime) -> dict[str, Any]:
    reason = item.overrideReason
    coding = reason.reason if reason else None
    row = {
        "card_uuid": item.card,
        "service": service,
        "outcome": item.outcome,
        "accepted_suggestions": " ".join(s.id for s in item.acceptedSuggestions or ()),
        "override_system": coding.system if coding else None,
        "override_code": coding.code if coding else None,
        "override_display": coding.display if coding else None,
        "user_comment": reason.userComment if reason else None,
        "outcome_at": item.outcomeTimestamp,
        "received_at": received,
    }
    return {**row, "event": event_digest(row)}


EVENT_COLUMNS = (
    "service",
    "card_uuid",
    "outcome",
    "outcome_at",
    "accepted_suggestions",
    "override_system",
    "override_code",
    "override_display",
    "user_comment",
)
"""What makes one feedback event: everything the client said, not when it reached us."""


def event_digest(row: Mapping[str, Any]) -> str:
    """The identity of a feedback item: equal for an item sent twice, whatever the backend gave
    back for its time (aware or naive UTC)."""
    said = [row[column] for column in EVENT_COLUMNS]
    at = row["outcome_at"]
    said[EVENT_COLUMNS.index("outcome_at")] = (
        at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    ).isoformat()
    return hashlib.sha256(orjson.dumps(said)).hexdigest()


def keep(engine: Engine, kept: list[dict[str, Any]]) -> int:
    """Write the feedback rows in one transaction; the number naming a card never served.

    Raises SQLAlchemyError when the database cannot take them: nothing is half kept.
    """
    uuids = {row["card_uuid"] for row in kept}
    with engine.begin() as connection:
        served = set(
            connection.scalars(
                select(served_card.c.card_uuid).where(served_card.c.card_uuid.in_(uuids)).distinct()
            )
        )
        connection.execute(_insert_new(connection), kept)
    return sum(row["card_uuid"] not in served for row in kept)


def _insert_new(connection: Connection) -> Insert:
    """An insert that skips an event already kept (the unique ``event`` column)."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(feedback).on_conflict_do_nothing(index_elements=["event"])
