"""Override-aware repeats: a card the clinician overrode is shown again, as info, or not at all.

A card's uuid is derived from its rule, the patient and the evidence, so "overridden for this
patient and the same evidence" is "this uuid was overridden". The rule's ``after_override``
(``repeat: show | info | hide``, ``within_hours``) says what happens within the window; ``show``
(the default) is the behaviour without a store. A ``critical`` card is never hidden: the schema
refuses ``hide`` on one, and should a rule set say so anyway it is shown as info instead.

The overrides are kept in memory, loaded from the store at start and read again by the
recorder thread every few seconds (so several processes over one database agree within
seconds); a call looks them up without any I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Engine, select

from ..protocol.messages import Card
from ..ruleset.compiled import RuleSet
from .db import feedback

HORIZON = timedelta(hours=2160)
"""The longest ``within_hours`` a rule may set (90 days); older overrides are forgotten."""
OVERLAP = timedelta(minutes=1)
PRUNE_EVERY = timedelta(hours=1)


class Overrides:
    """The last time each card uuid was overridden, within the horizon."""

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}
        self._cursor: datetime | None = None
        self._pruned: datetime | None = None
        self._lock = threading.Lock()

    def note(self, card_uuid: str, at: datetime) -> None:
        with self._lock:
            if card_uuid not in self._last or self._last[card_uuid] < at:
                self._last[card_uuid] = at

    def last(self, card_uuid: str) -> datetime | None:
        return self._last.get(card_uuid)

    def refresh(self, engine: Engine, now: datetime) -> None:
        """Read overrides received since the last read (all within the horizon, the first time).

        Each read goes back ``OVERLAP`` before the newest it saw: a row another process stamped
        earlier but committed later is still found (reading one twice changes nothing).
        """
        since = self._cursor - OVERLAP if self._cursor else now - HORIZON
        query = select(feedback.c.card_uuid, feedback.c.outcome_at, feedback.c.received_at).where(
            feedback.c.outcome == "overridden", feedback.c.received_at >= since
        )
        with engine.connect() as connection:
            found = connection.execute(query).all()
        for card_uuid, outcome_at, received_at in found:
            self.note(card_uuid, when(outcome_at, received_at))
            self._cursor = max(self._cursor or received_at, received_at)
        if self._pruned is None or now - self._pruned > PRUNE_EVERY:
            with self._lock:
                self._last = {u: t for u, t in self._last.items() if now - t <= HORIZON}
            self._pruned = now


def when(outcome_at: datetime, received_at: datetime) -> datetime:
    """When an override counts from: the clinician's time, but never later than its arrival."""
    return min(outcome_at, received_at)


def apply(
    cards: Sequence[Card], rule_set: RuleSet, overrides: Overrides, now: datetime
) -> list[Card]:
    """The cards to answer with, each as its rule's ``after_override`` says."""
    shown = []
    for card in cards:
        rule = rule_set.rules.get(card.source.topic.code if card.source.topic else "")
        policy = rule.card.get("after_override") if rule else None
        overridden = overrides.last(card.uuid)
        if (
            not policy
            or policy["repeat"] == "show"
            or overridden is None
            or now - overridden > timedelta(hours=float(policy["within_hours"]))
        ):
            shown.append(card)
        elif policy["repeat"] == "hide" and card.indicator != "critical":
            continue
        else:
            shown.append(_as_info(card, overridden, policy["within_hours"]))
    return shown


def _as_info(card: Card, overridden: datetime, hours: float) -> Card:
    note = (
        f"Overridden for this patient and this evidence on {overridden:%Y-%m-%d %H:%M} UTC; "
        f"shown as information (was {card.indicator}) for {hours:g} hours after an override."
    )
    detail = f"{card.detail}\n\n{note}" if card.detail else note
    return card.model_copy(update={"indicator": "info", "detail": detail})
