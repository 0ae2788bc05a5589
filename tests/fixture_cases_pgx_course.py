"""Fixture patients on both sides of the starting-dose and tamoxifen boundaries (issue 13).

A genotype-guided reduction is for the *starting* dose (CPIC DPYD 2017 Table 2 footnote;
DPWG UGT1A1 2022; Onivyde label: 50 mg/m2, then 70 mg/m2 as tolerated), so a first order gets
the cut and a later cycle does not; CPIC reduces mercaptopurine only from 75 mg/m2/day. A man
with breast cancer keeps tamoxifen (ASCO 2020, Hassett); a woman of the same genotype is told
of the alternatives. Earlier doses are completed MedicationAdministrations shaped like the
mCODE 4.0.0 example
``MedicationAdministration-cancer-related-medication-admin-doxorubicin-jenny-m``.
"""

from __future__ import annotations

from typing import Any

from tests.fixture_cases import DRUGS, RXNORM, UCUM, Case

COLON = [(None, "Adenocarcinoma of colon")]
PANCREAS = [(None, "Adenocarcinoma of pancreas, metastatic")]
BREAST = [("254837009", "Breast cancer")]
ALL = [("277571004", "B-cell acute lymphoblastic leukemia")]


def _cycles(name: str, drug: str, dose: float, unit: str, days: tuple[str, ...]) -> list[Any]:
    """Completed administrations of ``drug`` on ``days`` (a drug without RxNorm code by name)."""
    code = DRUGS[drug]
    concept: dict[str, Any] = {"text": drug}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": drug}]
    return [
        {
            "resourceType": "MedicationAdministration",
            "id": f"admin-{name}-{day}",
            "status": "completed",
            "medicationCodeableConcept": concept,
            "subject": {"reference": f"Patient/pt-{name}"},
            "effectiveDateTime": day,
            "dosage": {"dose": {"value": dose, "unit": unit, "system": UCUM, "code": unit}},
        }
        for day in days
    ]


CASES: tuple[Case, ...] = (
    # capecitabine already taken, known only from an active statement or order: a later cycle
    # too (course.py), so that key feeds the course stage (fact_sources, tests/test_partial.py)
    *(
        Case(
            f"dpyd-c1905-het-capecitabine-{kind.lower()}",
            "female",
            birth,
            genotypes={"DPYD": "DPYD c.1905+1G>A/Reference"},
            conditions=COLON,
            active=[(kind, "capecitabine")],
            order=("capecitabine", "Capecitabine 500 MG Oral Tablet", 750, "mg/m2", "daily"),
        )
        for kind, birth in (
            ("MedicationStatement", "1961-03-15"),
            ("MedicationRequest", "1961-03-16"),
        )
    ),
    Case(
        "dpyd-c1905-het-capecitabine-cycle3",
        "female",
        "1961-03-14",
        genotypes={"DPYD": "DPYD c.1905+1G>A/Reference"},
        conditions=COLON,
        order=("capecitabine", "Capecitabine 500 MG Oral Tablet", 750, "mg/m2", "daily"),
        resources=_cycles(
            "dpyd-c1905-het-capecitabine-cycle3",
            "capecitabine",
            500,
            "mg/m2",
            ("2026-08-10", "2026-08-31"),
        ),
    ),
    Case(  # AS 0.5, first order: the "avoid" card and its cancel suggestion, as before
        "dpyd-2a-2846-capecitabine",
        "female",
        "1960-10-08",
        genotypes={"DPYD": "DPYD c.1905+1G>A/c.2846A>T"},
        conditions=COLON,
        order=("capecitabine", "Capecitabine 150 MG Oral Tablet", 250, "mg/m2", "daily"),
    ),
    Case(  # the same genotype treated anyway: cycle 2 says TDM, not "cancel" again
        "dpyd-2a-2846-capecitabine-cycle2",
        "female",
        "1960-10-08",
        genotypes={"DPYD": "DPYD c.1905+1G>A/c.2846A>T"},
        conditions=COLON,
        order=("capecitabine", "Capecitabine 150 MG Oral Tablet", 250, "mg/m2", "daily"),
        resources=_cycles(
            "dpyd-2a-2846-capecitabine-cycle2", "capecitabine", 250, "mg/m2", ("2026-10-26",)
        ),
    ),
    Case(  # AS 0 treated anyway: still critical (no dose shown safe), no cancel suggestion
        "dpyd-2a-13-capecitabine-cycle2",
        "male",
        "1955-01-30",
        genotypes={"DPYD": "DPYD c.1905+1G>A/c.1679T>G"},
        conditions=COLON,
        order=("capecitabine", "Capecitabine 150 MG Oral Tablet", 150, "mg/m2", "daily"),
        resources=_cycles(
            "dpyd-2a-13-capecitabine-cycle2", "capecitabine", 150, "mg/m2", ("2026-10-26",)
        ),
    ),
    Case(
        "dpyd-c1905-het-capecitabine-pills",
        "male",
        "1957-06-02",
        genotypes={"DPYD": "DPYD c.1905+1G>A/Reference"},
        conditions=COLON,
        order=("capecitabine", "Capecitabine 500 MG Oral Tablet", 3, "{pill}", "daily"),
    ),
    Case(
        "dpyd-c2846-het-capecitabine-reduced-start",
        "female",
        "1963-02-20",
        genotypes={"DPYD": "DPYD c.2846A>T/Reference"},
        conditions=COLON,
        order=("capecitabine", "Capecitabine 500 MG Oral Tablet", 500, "mg/m2", "daily"),
    ),
    Case(
        "ugt1a1-28-28-onivyde-escalated",
        "male",
        "1956-11-30",
        genotypes={"UGT1A1": "UGT1A1 *28/*28"},
        conditions=PANCREAS,
        order=(
            "irinotecan liposome",
            "Onivyde (irinotecan liposome) injection",
            70,
            "mg/m2",
            "q14d",
        ),
        resources=_cycles(
            "ugt1a1-28-28-onivyde-escalated",
            "irinotecan liposome",
            50,
            "mg/m2",
            ("2026-09-04", "2026-09-18"),
        ),
    ),
    Case(
        "tpmt-im-mercaptopurine-50",
        "female",
        "2014-02-02",
        genotypes={"TPMT": "*1/*3A", "NUDT15": "*1/*1"},
        conditions=ALL,
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 50, "mg/m2", "daily"),
    ),
    Case(  # plain mg, no BSA, height or weight: CPIC's threshold cannot be checked
        "tpmt-im-mercaptopurine-mg",
        "male",
        "2013-06-11",
        genotypes={"TPMT": "*1/*3A", "NUDT15": "*1/*1"},
        conditions=ALL,
        order=("mercaptopurine", "Mercaptopurine 50 MG Oral Tablet", 50, "mg", "daily"),
    ),
    Case(  # 40 mg for 40 kg: 1 mg/kg/day, below CPIC's 1.5, not cut
        "tpmt-im-mercaptopurine-40mg-40kg",
        "male",
        "2013-06-11",
        genotypes={"TPMT": "*1/*3A", "NUDT15": "*1/*1"},
        conditions=ALL,
        order=("mercaptopurine", "Mercaptopurine 50 MG Oral Tablet", 40, "mg", "daily"),
        findings={"weight": 40},
    ),
    Case(  # 60 mg for 40 kg: 1.5 mg/kg/day, CPIC's threshold itself, cut
        "tpmt-im-mercaptopurine-60mg-40kg",
        "male",
        "2013-06-11",
        genotypes={"TPMT": "*1/*3A", "NUDT15": "*1/*1"},
        conditions=ALL,
        order=("mercaptopurine", "Mercaptopurine 50 MG Oral Tablet", 60, "mg", "daily"),
        findings={"weight": 40},
    ),
    Case(  # the result arrives while the patient is on the drug: the chart says so (H6)
        "dpyd-c1905-het-on-capecitabine",
        "female",
        "1962-05-17",
        genotypes={"DPYD": "DPYD c.1905+1G>A/Reference"},
        conditions=COLON,
        active=[("MedicationRequest", "capecitabine")],
        hook="patient-view",
    ),
    Case(
        "cyp2d6-pm-man-tamoxifen",
        "male",
        "1960-09-19",
        genotypes={"CYP2D6": "CYP2D6 *4/*4"},
        conditions=BREAST,
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-pm-woman-status-unknown-tamoxifen",
        "female",
        "1974-09-19",
        genotypes={"CYP2D6": "CYP2D6 *4/*4"},
        conditions=BREAST,
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
)

Card = tuple[str, str, str]
EXPECTED: dict[str, list[Card]] = {
    **{
        f"dpyd-c1905-het-capecitabine-{kind}.order-sign": [
            ("dpyd-intermediate-after-start", "info", "dose by tolerance, no further genotype cut")
        ]
        for kind in ("medicationstatement", "medicationrequest")
    },
    "dpyd-2a-2846-capecitabine.order-sign": [
        ("dpyd-poor-as0.5", "critical", "avoid capecitabine; choose a non-fluoropyrimidine")
    ],
    "dpyd-2a-2846-capecitabine-cycle2.order-sign": [
        ("dpyd-poor-as0.5-after-start", "warning", "already on capecitabine: strongly reduced")
    ],
    "tpmt-im-mercaptopurine-mg.order-sign": [
        (
            "mercaptopurine-intermediate-dose-not-compared",
            "warning",
            "mercaptopurine dose not comparable with CPIC's threshold",
        )
    ],
    "tpmt-im-mercaptopurine-40mg-40kg.order-sign": [
        ("mercaptopurine-intermediate-below-full-dose", "info", "already starts below the full")
    ],
    "tpmt-im-mercaptopurine-60mg-40kg.order-sign": [
        ("mercaptopurine-intermediate", "warning", "18-48 mg once daily (30-80%)")
    ],
    "dpyd-2a-13-capecitabine-cycle2.order-sign": [
        ("dpyd-poor-after-start", "critical", "(AS 0) already given capecitabine")
    ],
}
