"""Fixture patients for the heart: cumulative anthracycline dose, LVEF, trastuzumab holds.

Past doses are MedicationAdministrations and completed MedicationRequests shaped like the mCODE
4.0.0 examples (``MedicationAdministration-cancer-related-medication-admin-doxorubicin-jenny-m``,
``MedicationRequest-cancer-related-medication-request-doxorubicin-jenny-m``); LVEF, height and
BSA Observations like ``Observation-bodyheight-jenny-m-2018-03-06`` and
``Observation-body-surface-area-brian-l``. Each case sits on one side of one threshold of
``rules/patient-factors/anthracyclines.yaml`` or ``trastuzumab-lvef*.yaml``.
"""

from __future__ import annotations

from typing import Any

from tests.fixture_cases import (
    CATEGORY,
    DRUGS,
    LOINC,
    RXNORM,
    UCUM,
    Case,
)

BREAST = [("254837009", "Breast cancer")]
MEASURES = {  # name -> (LOINC code, display, UCUM unit); codes from knowledge/oncology.yaml
    "LVEF": ("10230-1", "Left ventricular Ejection fraction", "%"),
    "BSA": ("8277-6", "Body surface area", "m2"),
    "height": ("8302-2", "Body height", "cm"),
    "weight": ("29463-7", "Body weight", "kg"),
}
CYCLES = ("2026-05-04", "2026-05-25", "2026-06-15", "2026-07-06")
"""Four 3-weekly cycles before the draft order of 2026-10-02."""


def _subject(name: str) -> dict[str, str]:
    return {"reference": f"Patient/pt-{name}"}


def _drug(drug: str) -> dict[str, Any]:
    return {"coding": [{"system": RXNORM, "code": DRUGS[drug], "display": drug}], "text": drug}


def measure(name: str, kind: str, value: float, date: str) -> dict[str, Any]:
    code, display, unit = MEASURES[kind]
    return {
        "resourceType": "Observation",
        "id": f"obs-{kind.lower()}-{name}-{date}",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "vital-signs"}]}],
        "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
        "subject": _subject(name),
        "effectiveDateTime": date,
        "valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit},
    }


def given(
    name: str, drug: str, dose: float, unit: str, date: str, request: str | None = None
) -> dict[str, Any]:
    """A completed administration of one dose."""
    administration: dict[str, Any] = {
        "resourceType": "MedicationAdministration",
        "id": f"admin-{name}-{drug}-{date}",
        "status": "completed",
        "medicationCodeableConcept": _drug(drug),
        "subject": _subject(name),
        "effectiveDateTime": date,
        "dosage": {"dose": {"value": dose, "unit": unit, "system": UCUM, "code": unit}},
    }
    if request:
        administration["request"] = {"reference": f"MedicationRequest/{request}"}
    return administration


def finished(
    name: str, ident: str, drug: str, dose: float, unit: str, repeat: dict[str, Any]
) -> dict[str, Any]:
    """A completed order, its number of doses stated by ``repeat`` (count or boundsDuration)."""
    return {
        "resourceType": "MedicationRequest",
        "id": ident,
        "status": "completed",
        "intent": "order",
        "medicationCodeableConcept": _drug(drug),
        "subject": _subject(name),
        "authoredOn": "2026-01-05",
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 21, "periodUnit": "d", **repeat}},
                "doseAndRate": [
                    {"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}
                ],
            }
        ],
    }


def four_cycles(name: str, dose: float = 60, unit: str = "mg/m2") -> list[dict[str, Any]]:
    """Doxorubicin 4 x ``dose``: a completed order of 4 and the 4 administrations naming it."""
    order = f"medrx-{name}-ac"
    return [
        finished(name, order, "doxorubicin", dose, unit, {"count": 4}),
        *(given(name, "doxorubicin", dose, unit, day, order) for day in CYCLES),
    ]


def ten_cycles(name: str) -> list[dict[str, Any]]:
    """Doxorubicin 50 mg/m2 every 21 days for 210 days: 10 doses, 500 mg/m2."""
    duration = {"boundsDuration": {"value": 210, "unit": "d", "system": UCUM, "code": "d"}}
    return [finished(name, f"medrx-{name}-dox", "doxorubicin", 50, "mg/m2", duration)]


def lvef(name: str, *values: tuple[str, int]) -> list[dict[str, Any]]:
    return [measure(name, "LVEF", value, date) for date, value in values]


def anthracycline(
    name: str, dose: float, resources: list[dict[str, Any]], unit: str = "mg/m2", **extra: Any
) -> Case:
    text = "Doxorubicin 2 mg/mL injection (AC)"
    return Case(
        name,
        "female",
        "1968-04-04",
        conditions=BREAST,
        order=("doxorubicin", text, dose, unit, "q21d"),
        resources=resources,
        **extra,
    )


def trastuzumab(name: str, *values: tuple[str, int], hook: str = "order-sign") -> Case:
    order = ("trastuzumab", "Trastuzumab 150 mg injection", 6, "mg/kg", "q21d")
    return Case(
        name,
        "female",
        "1972-08-08",
        conditions=BREAST if hook != "patient-view" else [],
        findings={"HER2": True} if hook != "patient-view" else {},
        active=[("MedicationRequest", "trastuzumab")] if hook == "patient-view" else [],
        order=order if hook != "patient-view" else ("", "", None, None, None),
        resources=lvef(name, *values),
        hook=hook,
    )


NORMAL_LVEF = ("2026-04-20", 62)

CASES: tuple[Case, ...] = (
    # Cumulative doxorubicin-equivalent dose: 300 mg/m2 (warning) and 550 mg/m2 (critical)
    anthracycline(
        "anthracycline-240-plus-60",
        60,
        [
            *four_cycles("anthracycline-240-plus-60"),
            *lvef("anthracycline-240-plus-60", NORMAL_LVEF),
        ],
    ),
    anthracycline(
        "anthracycline-240-plus-50",
        50,
        [
            *four_cycles("anthracycline-240-plus-50"),
            *lvef("anthracycline-240-plus-50", NORMAL_LVEF),
        ],
    ),
    anthracycline(
        "anthracycline-above-limit",
        60,
        [*ten_cycles("anthracycline-above-limit"), *lvef("anthracycline-above-limit", NORMAL_LVEF)],
    ),
    anthracycline(
        "anthracycline-at-limit",
        50,
        [*ten_cycles("anthracycline-at-limit"), *lvef("anthracycline-at-limit", NORMAL_LVEF)],
    ),
    anthracycline(
        "anthracycline-cyclophosphamide-above-400",
        60,
        [
            finished(
                "anthracycline-cyclophosphamide-above-400",
                "medrx-anthracycline-cyclophosphamide-above-400-dox",
                "doxorubicin",
                60,
                "mg/m2",
                {"count": 6},
            ),
            *lvef("anthracycline-cyclophosphamide-above-400", NORMAL_LVEF),
        ],
        active=[("MedicationRequest", "cyclophosphamide")],
    ),
    # Other anthracyclines and doses in mg
    anthracycline(
        "anthracycline-epirubicin-prior",
        60,
        [
            *(
                given("anthracycline-epirubicin-prior", "epirubicin", 100, "mg/m2", day)
                for day in CYCLES[:3]
            ),
            *lvef("anthracycline-epirubicin-prior", NORMAL_LVEF),
        ],
    ),
    anthracycline(
        "anthracycline-mg-bsa",
        60,
        [
            *(given("anthracycline-mg-bsa", "doxorubicin", 108, "mg", day) for day in CYCLES),
            measure("anthracycline-mg-bsa", "BSA", 1.8, "2026-04-20"),
            *lvef("anthracycline-mg-bsa", NORMAL_LVEF),
        ],
    ),
    anthracycline(
        "anthracycline-mg-mosteller",
        108,
        [
            *(given("anthracycline-mg-mosteller", "doxorubicin", 108, "mg", day) for day in CYCLES),
            measure("anthracycline-mg-mosteller", "height", 180, "2026-04-20"),
            measure("anthracycline-mg-mosteller", "weight", 64.8, "2026-04-20"),
            *lvef("anthracycline-mg-mosteller", NORMAL_LVEF),
        ],
        unit="mg",
    ),
    anthracycline(
        "anthracycline-mg-no-bsa",
        60,
        [
            *(given("anthracycline-mg-no-bsa", "doxorubicin", 108, "mg", day) for day in CYCLES),
            *lvef("anthracycline-mg-no-bsa", NORMAL_LVEF),
        ],
    ),
    # Baseline LVEF before an anthracycline
    anthracycline("anthracycline-no-lvef", 60, []),
    anthracycline("anthracycline-lvef-49", 60, lvef("anthracycline-lvef-49", ("2026-09-20", 49))),
    anthracycline("anthracycline-lvef-50", 60, lvef("anthracycline-lvef-50", ("2026-09-20", 50))),
    # Trastuzumab: withhold for a fall of 16 points, or of 10 points to below 50 %
    trastuzumab("trastuzumab-lvef-fall-16", ("2026-03-02", 66), ("2026-09-21", 50)),
    trastuzumab("trastuzumab-lvef-fall-15", ("2026-03-02", 65), ("2026-09-21", 50)),
    trastuzumab("trastuzumab-lvef-fall-10-to-49", ("2026-03-02", 59), ("2026-09-21", 49)),
    trastuzumab("trastuzumab-lvef-fall-10-to-50", ("2026-03-02", 60), ("2026-09-21", 50)),
    trastuzumab("trastuzumab-no-lvef"),
    trastuzumab(
        "trastuzumab-active-lvef-fall-16",
        ("2026-03-02", 66),
        ("2026-06-01", 60),
        ("2026-09-21", 50),
        hook="patient-view",
    ),
)
