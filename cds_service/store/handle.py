"""The store as the app holds it: the database, the recorder thread and the overrides."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from ..config import Settings
from ..protocol.messages import FeedbackItem
from . import feedback
from .db import connect, migrate, utcnow
from .patients import hasher_for
from .recorder import Recorder, Served
from .repeats import Overrides, when

log = logging.getLogger("cds_service.store")
FLUSH_SECONDS = 0.5
"""How long feedback waits for the cards still queued, so that it finds the card it names."""
FEEDBACK_SECONDS = 10.0
"""The longest feedback waits for the database before it is answered 503 (a hung server)."""


class StoreUnavailable(Exception):
    """The database cannot keep feedback now: the client is told to retry (503)."""

    retry_after = 30


class Store:
    def __init__(self, settings: Settings):
        self.engine = connect(settings.database_url)
        self.overrides = Overrides()
        self.unknown_feedback = 0
        self.recorder = Recorder(
            self.engine,
            hasher_for(settings.patient_hash_key, settings.data_dir),
            settings.store_queue,
            prepare=self._prepare,
            refresh=self._refresh,
        )

    def record(self, served: Served) -> None:
        self.recorder.record(served)

    async def feedback(self, service: str, items: Sequence[FeedbackItem]) -> int:
        """:meth:`keep_feedback` in a worker thread, given up (503) after ``FEEDBACK_SECONDS``.

        A write given up on may still land later and the EHR then sends the item again: the
        repeat is the same event and is kept once (``feedback.event_digest``).
        """
        try:
            return await asyncio.wait_for(
                asyncio.to_thread(self.keep_feedback, service, items), FEEDBACK_SECONDS
            )
        except TimeoutError:
            log.warning("store: feedback not kept within %g s; answered 503", FEEDBACK_SECONDS)
            raise StoreUnavailable("the store did not answer in time") from None

    def keep_feedback(self, service: str, items: Sequence[FeedbackItem]) -> int:
        """Write feedback before it is acknowledged; how many items name an unknown card.

        Blocking (run it in a worker thread). Raises :class:`StoreUnavailable` when the
        database is not ready or refuses the write.
        """
        received = utcnow()
        rows = feedback.rows(service, items, received)  # a client's mistake is a 400 first
        if not self.recorder.ready.is_set():
            raise StoreUnavailable("the store is not ready")
        self.recorder.flush(FLUSH_SECONDS)
        try:
            unknown = feedback.keep(self.engine, rows)
        except SQLAlchemyError as error:
            log.warning("store: feedback not kept (%s); answered 503", type(error).__name__)
            raise StoreUnavailable("the store cannot keep feedback now") from None
        for item in items:
            if item.outcome == "overridden":
                self.overrides.note(item.card, when(item.outcomeTimestamp, received))
        if unknown:
            self.unknown_feedback += unknown
            log.warning("store: %d feedback items name a card this service never served", unknown)
        return unknown

    async def ready(self) -> str | None:
        """For ``/ready``: None when the database answers, else why not."""
        try:
            await asyncio.to_thread(self._ping)
        except SQLAlchemyError as error:
            return f"database: {type(error).__name__}"
        return None

    def _ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def status(self) -> dict[str, Any]:
        return self.recorder.status() | {"unknownCardFeedback": self.unknown_feedback}

    def close(self) -> None:
        self.recorder.close()
        self.engine.dispose()

    def _prepare(self) -> None:
        migrate(self.engine)
        self.overrides.refresh(self.engine, utcnow())

    def _refresh(self) -> None:
        self.overrides.refresh(self.engine, utcnow())


def open_store(settings: Settings) -> Store | None:
    """The store the settings ask for; None when it is off (``database_url`` empty)."""
    return Store(settings) if settings.database_url else None
