"""Tests being ordered now: a ServiceRequest among the draft orders that names a known test.

A finding of ``rules/knowledge/oncology.yaml`` with ``ordered_when`` words is the result of a
test; a draft ServiceRequest whose code carries those words is that test being ordered. This is
how a rule says, at order-select and order-sign, that the guideline does not use the test's
result for this patient (an Oncotype DX Breast order in metastatic disease).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from fhir.resources.R4B.servicerequest import ServiceRequest

from ..knowledge.tables import Knowledge
from ..prefetch.record import PatientRecord
from ..protocol import fhir
from .clinical import unreadable
from .types.diseasefacts import DraftTest
from .types.fact import Fact


def draft_tests(record: PatientRecord, knowledge: Knowledge) -> Iterable[Fact]:
    """One fact per draft ServiceRequest and test it names; one not valid FHIR is an
    unreadable draft order naming the test, so the check it would have had is said not run."""
    wanted = {
        s.name: s.ordered_when for s in knowledge.oncology.findings.values() if s.ordered_when
    }
    for resource in record.draft_orders:
        if resource.get("resourceType") != "ServiceRequest":
            continue
        try:
            order = fhir.validate(resource)
        except fhir.InvalidResource as error:
            for name in _named(wanted, fhir.raw_concept(resource.get("code"))[1]):
                yield unreadable(error, "ServiceRequest", "draft_order", finding=name)
            continue
        assert isinstance(order, ServiceRequest)
        reference = fhir.reference_of(resource)
        for name in _named(wanted, fhir.concept_words(order.code)):
            yield DraftTest(
                order=reference,
                finding=name,
                text=fhir.concept_text(order.code) or name,
                sources=(reference,),
            )


def _named(wanted: Mapping[str, Sequence[re.Pattern[str]]], texts: Sequence[str]) -> list[str]:
    """The tests whose ``ordered_when`` words one of ``texts`` carries."""
    return [
        name
        for name, patterns in wanted.items()
        if any(p.search(t) for t in texts for p in patterns)
    ]
