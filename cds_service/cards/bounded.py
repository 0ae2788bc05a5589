"""An answer within its size limit, and never by dropping a card in silence.

An EHR shows the cards in a sidebar: an answer of megabytes is useless to it and costly to
build and send (issue 12, item 8). When the cards of a call are larger than the limit
(``CDS_MAX_RESPONSE_BYTES``), the most severe are kept, in their order, while they fit, and one
card says how many were left out, so that the prescriber knows the answer is not complete.
"""

from __future__ import annotations

import uuid

import orjson

from ..protocol.messages import Card, CdsResponse, Coding, Source
from .render import TOPIC_SYSTEM

_SEVERITY = {"critical": 0, "warning": 1, "info": 2}
_NAMESPACE = uuid.UUID("2c4f1d0e-9a57-4c1b-8f3e-6d1e0b7a5c93")
"""The notice's uuid is public ``uuid5`` of the left-out cards' uuids: those are keyed
(``ids.py``), so it names no patient either."""
_RESERVED = 2048
"""Bytes kept free for the card that says what was left out."""


def _size(card: Card) -> int:
    return len(orjson.dumps(card.wire())) + 1


def written(response: CdsResponse, limit: int) -> tuple[CdsResponse, bytes]:
    """The answer to send and its JSON: ``response`` if it fits in ``limit`` bytes, as nearly
    all do (written once, not sized card by card first), else its most severe cards and a
    notice."""
    body = orjson.dumps(response.wire())
    if len(body) <= limit:
        return response, body
    shown = _trimmed(response, limit)
    return shown, orjson.dumps(shown.wire())


def _trimmed(response: CdsResponse, limit: int) -> CdsResponse:
    sizes = [_size(card) for card in response.cards]
    budget = max(limit - _RESERVED, 0)
    ranked = sorted(range(len(sizes)), key=lambda i: _SEVERITY[response.cards[i].indicator])
    kept: set[int] = set()
    for index in ranked:
        if sizes[index] <= budget:
            kept.add(index)
            budget -= sizes[index]
    left = [card for i, card in enumerate(response.cards) if i not in kept]
    cards = [card for i, card in enumerate(response.cards) if i in kept]
    return CdsResponse(cards=[*cards, _notice(left, limit)])


def _notice(left: list[Card], limit: int) -> Card:
    worst = min((_SEVERITY[c.indicator] for c in left), default=2)
    severe = sum(1 for c in left if _SEVERITY[c.indicator] == worst)
    level = next(name for name, rank in _SEVERITY.items() if rank == worst)
    topics = sorted({c.source.topic.code for c in left if c.source.topic})
    shown = ", ".join(topics[:5]) + (f" and {len(topics) - 5} more" if len(topics) > 5 else "")
    return Card(
        uuid=str(uuid.uuid5(_NAMESPACE, "|".join(sorted(c.uuid for c in left)))),
        summary=f"{len(left)} more cards were not sent: the answer was over its size limit",
        detail=(
            f"The cards of this call were larger than the service's limit of {limit} bytes, so "
            f"{len(left)} cards were left out ({severe} of them {level}), from the rules "
            f"{shown}. **This answer is not complete.** Review the record; a record this large "
            "often holds many resources the service could not read."
        ),
        indicator="warning" if worst > 0 else "critical",
        source=Source(
            label="CDS service",
            topic=Coding(
                system=TOPIC_SYSTEM,
                code="answer-too-large",
                display="Cards left out of an answer over its size limit",
            ),
        ),
    )
