"""Radiotherapy being ordered: a draft ServiceRequest naming a procedure of the table.

Pelvic radiotherapy and total body irradiation are gonadotoxic (ASCO 2018 fertility
preservation; the review, M7); the fertility card must come when they are ordered, before the
Procedure exists. The table recognises them by words (knowledge/procedures.yaml).
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service import facts
from tests.test_facts import PATIENT, extract, only


def draft(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "ServiceRequest",
        "id": "rt",
        "status": "draft",
        "intent": "order",
        "code": {"text": text},
        "subject": {"reference": f"Patient/{PATIENT}"},
        **extra,
    }


@pytest.mark.parametrize(
    ("text", "procedure"),
    [
        ("Pelvic radiotherapy, external beam, 45 Gy in 25 fractions", "pelvic_radiotherapy"),
        ("Radiotherapy to the pelvis", "pelvic_radiotherapy"),
        ("Total body irradiation 12 Gy (conditioning)", "total_body_irradiation"),
    ],
)
def test_an_ordered_radiotherapy_is_read_as_its_procedure(rule_set, text, procedure):
    ordered = only(extract(rule_set, orders=[draft(text)]), facts.DraftProcedure)
    assert (ordered.order, ordered.procedure, ordered.text) == (
        "ServiceRequest/rt",
        procedure,
        text,
    )


@pytest.mark.parametrize(
    "text", ["TBI rehabilitation referral", "Radiotherapy to the breast", "Pelvic ultrasound"]
)
def test_other_orders_are_not_gonadotoxic_radiotherapy(rule_set, text):
    found = extract(rule_set, orders=[draft(text)])
    assert not [f for f in found if isinstance(f, facts.DraftProcedure)]


def test_a_done_procedure_is_not_an_order(rule_set):
    done = {**draft("Pelvic radiotherapy"), "resourceType": "Procedure", "status": "completed"}
    del done["intent"]
    found = extract(rule_set, [done])
    assert not [f for f in found if isinstance(f, facts.DraftProcedure)]
    assert only(found, facts.PerformedProcedure).procedure == "pelvic_radiotherapy"


def test_an_unreadable_radiotherapy_order_says_so(rule_set):
    found = extract(rule_set, orders=[draft("Pelvic radiotherapy", authoredOn="next week")])
    broken = only(found, facts.Unreadable)
    assert (broken.role, broken.procedure) == ("draft_order", "pelvic_radiotherapy")
    assert not [f for f in found if isinstance(f, facts.DraftProcedure)]
