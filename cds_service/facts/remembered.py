"""The facts of a record seen before, by the digest of its exact content.

An EHR sends the same genotypes, Patient and Conditions at every order-select and order-sign of
a patient, and reading them into facts was most of such a call. The facts of one record depend
only on what the record holds (every resource and draft order as sent, the patient's id, the
service's zone: ``PatientRecord.content``), the day and the rule set's knowledge; so they are
kept per rule set (a reload starts afresh) under a digest of the first two with the day, and
equal content gives equal facts by construction. Another patient's record, or the same record
with one character changed, has another digest. Never keyed by id.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import date

from ..prefetch.record import PatientRecord
from .types.fact import Fact

CAPACITY = 512
"""Records kept: their facts (tens each, frozen) hold a few MiB."""


class Remembered:
    """The facts of the most recently used records; facts are frozen and shared between calls."""

    def __init__(self, capacity: int = CAPACITY):
        self.capacity = capacity
        self._entries: OrderedDict[bytes, tuple[Fact, ...]] = OrderedDict()
        self._lock = threading.Lock()  # calls may run in worker threads; the order is shared

    def facts(
        self, record: PatientRecord, today: date, extract: Callable[[], list[Fact]]
    ) -> list[Fact]:
        """The facts of ``record`` on ``today``: remembered, else ``extract()`` remembered."""
        if record.content is None:
            return extract()
        key = record.content + today.isoformat().encode()
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
        if found is None:
            found = tuple(extract())  # outside the lock: two calls may both extract, equally
            with self._lock:
                self._entries[key] = found
                if len(self._entries) > self.capacity:
                    self._entries.popitem(last=False)
        return list(found)

    def __len__(self) -> int:
        return len(self._entries)
