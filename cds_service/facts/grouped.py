"""Unreadable resources: none left unsaid, and those of one kind as one fact.

A resource sent with members of the wrong JSON type (``protocol/shape.py``) may be so broken
that no reader can tell what it is (a result whose ``code`` is a number): :func:`unreported`
makes it an :class:`Unreadable` of its own (role ``unrecognised``, or ``draft_order``), so that
it is said on a card and not dropped in silence, the README's promise for data that is not
valid FHIR.

A record with 4,000 broken results gave 4,000 cards, each listing all 4,000 problems: a 1.2 GB
answer (issue 12, item 8). Unreadable facts that say the same thing to the rules (same resource
type, role, gene, drug, finding, procedure and biomarker) are merged into one that names the
first few resources and counts the rest, so one card per kind says it, and no check is lost:
the rules see each kind that could not be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ..prefetch.record import PatientRecord
from ..protocol import fhir
from ..protocol.shape import Shaped
from .clinical import unreadable
from .types.carefacts import Unreadable
from .types.fact import Fact

SHOWN = 3
"""Resources named in a merged fact; the rest are counted ("and N more")."""


def _kind(fact: Unreadable) -> tuple[str | None, ...]:
    return (
        fact.resource_type,
        fact.role,
        fact.gene,
        fact.ingredient,
        fact.finding,
        fact.procedure,
        fact.biomarker,
    )


def grouped(found: Iterable[Fact]) -> list[Fact]:
    """``found`` with the unreadable facts of one kind merged, at the first one's place."""
    groups: dict[tuple[str | None, ...], list[Unreadable]] = {}
    order: list[Fact | tuple[str | None, ...]] = []
    for fact in found:
        if not isinstance(fact, Unreadable):
            order.append(fact)
            continue
        key = _kind(fact)
        if key not in groups:
            groups[key] = []
            order.append(key)
        groups[key].append(fact)
    return [item if isinstance(item, Fact) else _merged(groups[item]) for item in order]


def _merged(facts: list[Unreadable]) -> Unreadable:
    first = facts[0]
    if len(facts) == 1:
        return first
    more = len(facts) - 1
    others = facts[1:SHOWN]
    also = ", ".join(f"{f.resource} ({f.reason})" for f in others)
    rest = len(facts) - 1 - len(others)
    reason = f"{first.reason}; also {also}" + (f" and {rest} more" if rest else "")
    sources = tuple(dict.fromkeys(s for f in facts[:SHOWN] for s in f.sources))
    return replace(
        first, resource=f"{first.resource} and {more} more", reason=reason, sources=sources
    )


def unreported(record: PatientRecord, found: Iterable[Fact]) -> list[Unreadable]:
    """An :class:`Unreadable` for each resource of the wrong shape that no fact cites: the
    shape of the members some reader or validation read (``prefetch/reading.py``), and of
    every member of the patient and of a draft order.

    A fact that cites such a resource has read it and said what it could not use (a cumulative
    dose "not computed" names the administration that is not valid FHIR).
    """
    said = {source for fact in found for source in fact.sources}  # a fact citing it said it
    missed = []
    roles = [("draft_order", r) for r in record.draft_orders]
    roles += [("unrecognised", r) for r in [record.patient, *record.resources] if r is not None]
    for role, resource in roles:
        if isinstance(resource, Shaped) and (role == "draft_order" or resource is record.patient):
            resource = resource.complete()  # every member of these, read or not
        if isinstance(resource, Shaped) and resource.problems:
            reference = fhir.reference_of(resource)
            if reference not in said:
                error = fhir.InvalidResource(reference, "; ".join(resource.problems))
                missed.append(unreadable(error, str(resource.get("resourceType"))[:64], role))
    return missed
