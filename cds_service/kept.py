"""Values kept by a digest of what they were made from, as bytes the garbage collector never walks.

The service keeps three things between calls: the FHIR model of each resource content it
validated, the facts of each record it read, and the cards of each record it checked. Kept as
Python objects they were some 200,000 objects that every full collection walked, 170-220 ms
in the middle of whichever call triggered it, once in every few dozen first calls of a patient.
Kept pickled, each entry is one ``bytes`` object, which the collector does not track: a hit costs
an unpickling (tens of microseconds), and each caller gets its own copy, so no call can change
what another one reads.

The key is the caller's: a digest of everything the value depends on, never an id alone, so that
a kept value is the value for that content by construction.

Pickling costs too (some 60 us a FHIR model): a store whose values are mostly made once, as the
models of a patient's first call, keeps a value only when it is made the second time.
"""

from __future__ import annotations

import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class Kept(Generic[T]):
    """The most recently used values, each pickled under its key: at most ``capacity`` of them
    and ``max_bytes`` of pickles (a client's resources can be large), the oldest dropped first."""

    def __init__(self, capacity: int, max_bytes: int = 64 * 2**20, on_second_use: bool = False):
        self.capacity, self.max_bytes = capacity, max_bytes
        self._entries: OrderedDict[bytes, bytes] = OrderedDict()
        self._bytes = 0
        self._seen: OrderedDict[bytes, None] | None = OrderedDict() if on_second_use else None
        """Keys made once and not kept, when values are kept on their second use only."""
        self._lock = threading.Lock()  # calls may run in worker threads; the order is shared

    def get(self, key: bytes, make: Callable[[], T]) -> T:
        """The value kept under ``key``, else ``make()``, kept.

        ``make`` runs outside the lock: two calls may both make a missing value, equally. What
        ``make`` raises is raised, and nothing is kept. A value that cannot be pickled is
        returned without being kept.
        """
        with self._lock:
            blob = self._entries.get(key)
            if blob is not None:
                self._entries.move_to_end(key)
        if blob is not None:
            value: T = pickle.loads(blob)
            return value
        value = make()
        if self._seen is not None and self._first_use(key):
            return value
        try:
            blob = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, TypeError, AttributeError):
            return value
        if len(blob) > self.max_bytes // 16:  # one value never crowds out most of the others
            return value
        with self._lock:
            self._bytes += len(blob) - len(self._entries.pop(key, b""))
            self._entries[key] = blob
            while len(self._entries) > self.capacity or self._bytes > self.max_bytes:
                self._bytes -= len(self._entries.popitem(last=False)[1])
        return value

    def _first_use(self, key: bytes) -> bool:
        """Whether ``key`` is made for the first time (among the last ``4 * capacity``)."""
        assert self._seen is not None
        with self._lock:
            if self._seen.pop(key, 0) is None:
                return False
            self._seen[key] = None
            if len(self._seen) > 4 * self.capacity:
                self._seen.popitem(last=False)
            return True

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0
            if self._seen is not None:
                self._seen.clear()

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size(self) -> int:
        """Bytes of pickles kept."""
        return self._bytes
