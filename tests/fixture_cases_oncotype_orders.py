"""Fixture patients for the order-time Recurrence Score check: endocrine therapy alone at RS 26+."""

from __future__ import annotations

from tests.fixture_cases import Case

BREAST = [("254837009", "Breast cancer")]
ANASTROZOLE = ("anastrozole", "Anastrozole 1 mg tablet", 1, "mg", "daily")

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
    Case(
        "anastrozole-alone-rs-25",
        "female",
        "1962-05-16",
        conditions=BREAST,
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 25},
        order=ANASTROZOLE,
    ),
)
