"""What a rule set made of the records it read: their facts, and the cards of each check.

An EHR sends the same genotypes, Patient and Conditions at every order-select and order-sign of
a patient, and reading them into facts, running the engine and rendering the cards were most of
such a call. The facts of one record depend only on what the record holds (every resource and
draft order as sent, the patient's id, the service's zone: ``PatientRecord.content``), the day
and the rule set's knowledge; its cards on those facts, the hook, the keys that stayed without
data (their rules do not run) and the key of the card uuids. So both are kept per rule set (a
reload starts afresh) under a digest of exactly those, and equal inputs give equal answers by
construction. Another patient's record, or the same record with one character changed, has
another digest. Never keyed by id. What depends on more (the repeat after an override, which
reads the store) is applied to the kept cards on every call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date

from ..facts.types.fact import Fact
from ..kept import Kept
from ..prefetch.record import PatientRecord
from ..protocol.fhir import content_digest
from ..protocol.messages import Card

CAPACITY = 512
"""Records kept, and checks: their facts (tens each) and cards are a few kB pickled."""
MAX_BYTES = 16 * 2**20
"""Of each, at most. The bench's records (55 to 1,000 resources) give facts and cards of 3-5 kB
pickled: the budget only matters for an unusually large record."""


class Remembered:
    """The facts and the cards of the most recently used records."""

    def __init__(self, capacity: int = CAPACITY):
        self._facts: Kept[list[Fact]] = Kept(capacity, MAX_BYTES)
        self._cards: Kept[list[Card]] = Kept(capacity, MAX_BYTES)

    def facts(
        self, record: PatientRecord, today: date, extract: Callable[[], list[Fact]]
    ) -> list[Fact]:
        """The facts of ``record`` on ``today``: remembered, else ``extract()`` remembered."""
        if record.content is None:
            return extract()
        return self._facts.get(record.content + today.isoformat().encode(), extract)

    def cards(
        self,
        content: bytes | None,
        today: date,
        hook: str,
        not_run: Mapping[str, str],
        uuid_key: str,
        check: Callable[[], list[Card]],
    ) -> list[Card]:
        """The cards of ``hook``'s rules on the record whose digest is ``content``, on ``today``,
        with the keys in ``not_run`` (key: why) left without data and uuids made under the key
        that ``uuid_key`` names (``CardIds.fingerprint``): remembered, else ``check()``
        remembered."""
        if content is None:
            return check()
        inputs = [content.hex(), today.isoformat(), hook, sorted(not_run.items())]
        key = content_digest({"check": inputs, "uuids": uuid_key})
        if key is None:
            return check()
        return self._cards.get(key, check)

    def __len__(self) -> int:
        """Records whose facts are kept."""
        return len(self._facts)
