"""Fixture patients for the order-time Recurrence Score check: endocrine therapy alone at RS 26+."""

from __future__ import annotations

from typing import Any

from tests.fixture_cases import DRUGS, RXNORM, Case

BREAST = [("254837009", "Breast cancer")]
ANASTROZOLE = ("anastrozole", "Anastrozole 1 mg tablet", 1, "mg", "daily")
RS_31_N0 = {"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 31}


def finished_course(name: str, drug: str, authored: str) -> dict[str, Any]:
    """A finished course of ``drug`` (adjuvant chemotherapy or targeted), from ``authored``."""
    return {
        "resourceType": "MedicationRequest",
        "id": f"medrx-{name}-{drug}",
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": RXNORM, "code": DRUGS[drug], "display": drug}],
            "text": drug,
        },
        "subject": {"reference": f"Patient/pt-{name}"},
        "authoredOn": authored,
    }


CASES: tuple[Case, ...] = (
    Case(
        "anastrozole-alone-rs-31",
        "female",
        "1962-05-14",
        conditions=BREAST,
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 31},
        order=ANASTROZOLE,
    ),
    Case(
        "anastrozole-with-paclitaxel-rs-31",
        "female",
        "1962-05-15",
        conditions=BREAST,
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 31},
        active=[("MedicationRequest", "paclitaxel")],
        order=ANASTROZOLE,
    ),
    # Adjuvant chemotherapy completed before the aromatase inhibitor (the usual sequence)
    Case(
        "anastrozole-after-completed-chemo-rs-31",
        "female",
        "1962-05-17",
        conditions=BREAST,
        findings=RS_31_N0,
        order=ANASTROZOLE,
        resources=[
            finished_course("anastrozole-after-completed-chemo-rs-31", "paclitaxel", "2026-06-01")
        ],
    ),
    Case(
        "anastrozole-chemo-two-years-ago-rs-31",
        "female",
        "1962-05-18",
        conditions=BREAST,
        findings=RS_31_N0,
        order=ANASTROZOLE,
        resources=[
            finished_course("anastrozole-chemo-two-years-ago-rs-31", "paclitaxel", "2024-06-01")
        ],
    ),
    Case(
        "anastrozole-alone-rs-25",
        "female",
        "1962-05-16",
        conditions=BREAST,
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 25},
        order=ANASTROZOLE,
    ),
)
