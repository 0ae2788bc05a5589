"""Retention: served cards and feedback older than the setting are deleted, on request."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Engine, delete

from .db import feedback, served_card


def purge(engine: Engine, now: datetime, days: int) -> tuple[int, int]:
    """Delete cards served and feedback received more than ``days`` ago; how many of each."""
    if days < 1:
        raise ValueError("the retention must be at least one day")
    cutoff = now - timedelta(days=days)
    with engine.begin() as connection:
        cards = connection.execute(delete(served_card).where(served_card.c.served_at < cutoff))
        items = connection.execute(delete(feedback).where(feedback.c.received_at < cutoff))
    return cards.rowcount, items.rowcount
