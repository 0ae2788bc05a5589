"""Tests being ordered now: a ServiceRequest among the draft orders that names a known test.

A finding of ``rules/knowledge/oncology.yaml`` with ``ordered_when`` words is the result of a
test; a draft ServiceRequest whose code carries those words is that test being ordered. This is
how a rule says, at order-select and order-sign, that the guideline does not use the test's
result for this patient (an Oncotype DX Breast order in metastatic disease).
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir.resources.R4B.servicerequest import ServiceRequest

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .types.diseasefacts import DraftTest
from .types.fact import Fact


def draft_tests(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """One fact per draft ServiceRequest and test it names (an invalid one is left out)."""
    wanted = {
        s.name: s.ordered_when for s in knowledge.oncology.findings.values() if s.ordered_when
    }
    for resource in record.draft_orders:
        if resource.get("resourceType") != "ServiceRequest":
            continue
        try:
            order = fhir.validate(resource)
        except fhir.InvalidResource:
            continue  # the draft-order-unreadable check is for medication orders
        assert isinstance(order, ServiceRequest)
        texts = fhir.concept_words(order.code)
        reference = fhir.reference_of(resource)
        for name, patterns in wanted.items():
            if any(p.search(t) for t in texts for p in patterns):
                yield DraftTest(
                    order=reference,
                    finding=name,
                    text=fhir.concept_text(order.code) or name,
                    sources=(reference,),
                )
