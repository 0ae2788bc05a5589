"""Supportive care on file: consultations, referrals and conversations the guidelines ask for.

``rules/knowledge/care.yaml`` says how each item is recognised in a ServiceRequest (an order or
referral on file, or among the draft orders) or a Procedure (done, or being done), and which
statuses count. An item found nowhere becomes a :class:`CareMissing` fact, which is how a rule
asks for it.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .clinical import on_file
from .types.carefacts import CareMissing, CareOnFile
from .types.fact import Fact


def care(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """The first resource on file for each care item, and a :class:`CareMissing` for the rest."""
    items = knowledge.care.items
    found: dict[str, CareOnFile] = {}
    for reference, status, code in on_file(record, knowledge.care.on_file_statuses):
        codes = fhir.codes_of(code)
        texts = fhir.concept_words(code)
        for name, item in items.items():
            if name not in found and (item.by_code(codes) or item.by_words(texts)):
                found[name] = CareOnFile(
                    item=name,
                    resource=reference,
                    status=status,
                    text=fhir.concept_text(code),
                    sources=(reference,),
                )
    yield from found.values()
    yield from (CareMissing(item=name) for name in items if name not in found)
