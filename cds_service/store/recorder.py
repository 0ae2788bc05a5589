"""Served cards written off the request path: a bounded queue, one writer thread, batches.

A call only puts one tuple on the queue (no I/O, no hashing). The writer thread takes what has
queued, up to ``BATCH`` calls, and inserts it in one transaction; while it lingers for more it
sleeps rather than waking for each call. While the database is down it keeps its batch and
retries with backoff; calls keep being answered, and once the queue is full what does not fit
is counted as lost and logged (the gap), never waited for.

The writer shares the interpreter lock and, on a busy machine, a core with the thread that
answers calls, and a batch is a few milliseconds of its work: done in one go, it held up the
calls that arrived meanwhile, which made the p99 of a call at c=1 nearly three times its
median. So the writer runs at a lower CPU priority (``NICE``), mostly in the gaps between
calls, and hands the lock over every ``STEP`` calls' rows and every ``STEP`` rows inserted: a
call arriving mid-batch waits for one step, not for the batch.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError

from ..protocol.messages import Card
from .db import served_card
from .patients import PatientHasher

log = logging.getLogger("cds_service.store")
BATCH = 500
STEP = 16
"""Calls made into rows, and rows inserted by one statement of a batch's transaction, between
two hand-overs of the interpreter lock: some 0.1 ms of the writer's work (``bench/README.md``)."""
NICE = 5
"""The writer thread's nice value: a CPU weight a third of a call thread's. Recording takes
some 4 % of what a call of one card costs and some 12 % of one of four, so on a core saturated
by calls the writer still keeps up; at 19 (a weight of 1.5 %) it fell behind and the queue
filled. The tail of the calls is as short at 5 as at 19 (``bench/README.md``)."""
HOOK_INSTANCE = 128
"""The longest hookInstance kept (a UUID in practice; the client sets it, the column is bounded)."""
LINGER = 0.1
"""Seconds the writer waits for more calls after the first, unless a flush or close hurries
it. The writer's CPU is taken from the process that answers the calls: with a call every
1.2 ms and one card each, it took 75 us a call with 20 ms of linger and 40 us with 100 ms on
SQLite, some 0.7 ms a transaction and 30 us a row (``bench/README.md``)."""
BACKOFF = (0.2, 5.0)
"""First and longest wait, in seconds, between tries of a batch the database refused."""


@dataclass(frozen=True)
class Served:
    """One call's cards and who they were for, as the call answered them."""

    service: str
    hook: str
    hook_instance: str
    patient_id: str
    encounter_id: str | None
    rule_set_version: str
    cards: Sequence[Card]
    at: datetime


class Recorder:
    """The writer thread and its queue; ``record`` never blocks and never raises."""

    def __init__(
        self,
        engine: Engine,
        hasher: PatientHasher,
        capacity: int = 10_000,
        prepare: Callable[[], None] | None = None,
        refresh: Callable[[], None] | None = None,
        refresh_seconds: float = 5.0,
    ):
        self._engine, self._hash = engine, hasher
        self._connection: Connection | None = None
        self._statement = insert(served_card)
        self._queue: queue.Queue[Served | None] = queue.Queue(capacity)
        self._prepare, self._refresh, self._refresh_seconds = prepare, refresh, refresh_seconds
        self._stopping: float | None = None
        self._logged = 0.0
        self._settled = threading.Condition()
        self._hurry = threading.Event()
        """Set by a flush or a close: the batch gathering is written without lingering."""
        self._submitted = self._done = 0
        self.recorded = self.lost = 0
        self.busy = 0.0
        """CPU seconds the writer spent on batches: what recording takes from the calls."""
        self.ready = threading.Event()
        """Set once ``prepare`` (the migrations) has run: until then feedback is refused."""
        self.failing = False
        self._thread = threading.Thread(target=self._run, name="cds-store-recorder", daemon=True)
        self._thread.start()

    def record(self, served: Served) -> None:
        if not served.cards:
            return
        with self._settled:
            self._submitted += 1
        try:
            self._queue.put_nowait(served)
        except queue.Full:
            self._settle(lost=len(served.cards))

    def flush(self, timeout: float) -> bool:
        """Wait until every call recorded so far is written (or lost); False on timeout."""
        with self._settled:
            target = self._submitted
            self._hurry.set()
            return self._settled.wait_for(lambda: self._done >= target, timeout)

    def close(self, timeout: float = 2.0) -> None:
        """Write what is queued (trying for ``timeout`` seconds), then stop the thread."""
        self._stopping = time.monotonic() + timeout
        self._queue.put(None)
        self._hurry.set()
        self._thread.join(timeout + 1)

    def status(self) -> dict[str, Any]:
        return {
            "ready": self.ready.is_set(),
            "failing": self.failing,
            "queued": self._queue.qsize(),
            "recordedCards": self.recorded,
            "lostCards": self.lost,
            "writerCpuSeconds": round(self.busy, 3),
        }

    def _run(self) -> None:
        _lower_priority()
        prepared = self._prepare is None or self._retry(
            self._prepare, "preparing the database", any_error=True
        )
        if not prepared:
            self._lose_all()
            return
        self.ready.set()
        due = time.monotonic() + self._refresh_seconds
        while True:
            if time.monotonic() >= due:  # also under constant load: other processes' feedback
                if self._refresh is not None:
                    self._retry(self._refresh, "reading feedback", once=True)
                due = time.monotonic() + self._refresh_seconds
            try:
                first = self._queue.get(timeout=max(0.0, due - time.monotonic()))
            except queue.Empty:
                continue
            batch = [first]
            if first is not None and self._queue.qsize() < BATCH - 1:
                self._hurry.wait(LINGER)  # the calls meanwhile queue without waking it
                self._hurry.clear()
            while len(batch) < BATCH and batch[-1] is not None:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            calls = [item for item in batch if item is not None]
            started = time.thread_time()
            if calls:
                rows = []
                for count, served in enumerate(calls, 1):
                    rows += self._prepared(served)
                    if count % STEP == 0:
                        _hand_over()
                written = not rows or self._retry(
                    lambda rows=rows: self._insert(rows), "recording cards"
                )
                self._settle(
                    recorded=len(rows) if written else 0,
                    lost=0 if written else len(rows),
                    calls=len(calls),
                )
            self.busy += time.thread_time() - started
            if batch[-1] is None:
                if self._connection is not None:
                    self._connection.close()
                return

    def _lose_all(self) -> None:
        """Closing before the database was ever ready: what is queued is counted lost."""
        while (item := self._queue.get()) is not None:
            self._settle(lost=len(item.cards))

    def _prepared(self, served: Served) -> list[dict[str, Any]]:
        """A call's rows; a call that cannot be made into rows is lost, never the thread."""
        try:
            return self._rows(served)
        except Exception:
            log.exception("store: a call's cards could not be prepared for recording")
            with self._settled:
                self.lost += len(served.cards)
            return []

    def _rows(self, served: Served) -> list[dict[str, Any]]:
        patient, encounter = self._hash(served.patient_id), self._hash(served.encounter_id)
        return [
            {
                "card_uuid": card.uuid,
                "service": served.service,
                "hook": served.hook,
                "rule_id": card.source.topic.code if card.source.topic else "",
                "rule_set_version": served.rule_set_version,
                "indicator": card.indicator,
                "suggestion_uuids": " ".join(s.uuid for s in card.suggestions or ()),
                "suggestion_labels": json.dumps([s.label for s in card.suggestions or ()]),
                "patient_hash": patient,
                "encounter_hash": encounter,
                "hook_instance": served.hook_instance[:HOOK_INSTANCE],
                "served_at": served.at,
            }
            for card in served.cards
        ]

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """One transaction on the writer's own connection, held between batches (no pool
        checkout or liveness ping per batch), in statements of ``STEP`` rows; dropped on
        failure, so the retry reconnects and a batch is never kept in part."""
        if self._connection is None:
            self._connection = self._engine.connect()
        try:
            with self._connection.begin():
                for start in range(0, len(rows), STEP):
                    self._connection.execute(self._statement, rows[start : start + STEP])
                    _hand_over()
        except SQLAlchemyError:
            self._connection.invalidate()
            self._connection.close()
            self._connection = None
            raise

    def _retry(
        self, step: Callable[[], None], doing: str, once: bool = False, any_error: bool = False
    ) -> bool:
        """Run ``step`` until it works, backing off while the database is unreachable; gives up
        at once on an error retrying cannot cure (a refused row), when closing, or if ``once``.
        ``any_error``: every error may pass (another process migrating the same database)."""
        wait = BACKOFF[0]
        while True:
            try:
                step()
            except SQLAlchemyError as error:
                self.failing = True
                transient = any_error or isinstance(error, OperationalError | InterfaceError)
                log.warning(
                    "store: %s failed (%s)%s",
                    doing,
                    type(error).__name__,
                    "" if transient else "; not retried: the database refuses it",
                )
                if once or not transient or self._left() <= 0:
                    return False
                time.sleep(max(0.0, min(wait, self._left())))
                wait = min(wait * 2, BACKOFF[1])
                continue
            if self.failing:
                log.warning("store: the database answers again; %d cards lost so far", self.lost)
            self.failing = False
            return True

    def _left(self) -> float:
        """Seconds left to keep trying: unbounded until ``close`` sets a deadline."""
        return BACKOFF[1] if self._stopping is None else self._stopping - time.monotonic()

    def _settle(self, recorded: int = 0, lost: int = 0, calls: int = 1) -> None:
        with self._settled:
            self.recorded += recorded
            self.lost += lost
            self._done += calls
            self._settled.notify_all()
        if lost and time.monotonic() - self._logged >= 1.0:  # an outage logs once a second
            self._logged = time.monotonic()
            log.warning("store: %d served cards not recorded (%d lost in all)", lost, self.lost)


def _lower_priority() -> None:
    """Lower the calling thread's CPU priority to ``NICE``, where a thread has its own (Linux):
    on a core that also answers calls, the scheduler runs a call first. A process already
    running lower keeps its priority."""
    if sys.platform != "linux":
        return
    thread = threading.get_native_id()
    try:
        nice = max(NICE, os.getpriority(os.PRIO_PROCESS, thread))
        os.setpriority(os.PRIO_PROCESS, thread, nice)
    except OSError as error:  # a sandbox that refuses it: the writer runs, at the usual priority
        log.warning("store: the writer keeps its priority (%s)", error.strerror)


def _hand_over() -> None:
    """Release the interpreter lock for a moment: a thread waiting for it (a call) takes it
    now, not when the interpreter's switch interval (5 ms) forces it."""
    time.sleep(0)
