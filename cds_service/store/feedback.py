"""Feedback kept before it is acknowledged: the EHR hears 200 only for what is written.

Feedback for a card uuid the service never served is kept as well (a client's mix-up, or a card
from before the store existed) and counted: the report shows it per service.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, insert, select

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
    return {
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
        connection.execute(insert(feedback), kept)
    return sum(row["card_uuid"] not in served for row in kept)
