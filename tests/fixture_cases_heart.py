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
    if DRUGS[drug] is None:  # matched by name only
        return {"text": NAMES.get(drug, drug)}
    return {"coding": [{"system": RXNORM, "code": DRUGS[drug], "display": drug}], "text": drug}


NAMES = {"doxorubicin liposome": "Doxil (doxorubicin HCl liposome injection)"}
"""The text an order of a drug with no code is written with, where its ingredient is not it."""
AML = [("91861009", "Acute myeloid leukemia")]
ADULT, CHILD = "1968-04-04", "2017-06-01"
"""A woman of 58 and a child of 9 on the fixtures' date (2026-10-02)."""


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
        "id": f"admin-{name}-{drug.replace(' ', '-')}-{date}",
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
    name: str,
    dose: float,
    resources: list[dict[str, Any]],
    unit: str = "mg/m2",
    drug: str = "doxorubicin",
    birth: str = ADULT,
    conditions: list[tuple[str | None, str]] = BREAST,
    **extra: Any,
) -> Case:
    text = NAMES.get(drug, f"{drug.capitalize()} injection")
    if drug == "doxorubicin":
        text = "Doxorubicin 2 mg/mL injection (AC)"
    return Case(
        name,
        "female",
        birth,
        conditions=conditions,
        order=(drug, text, dose, unit, "q21d"),
        resources=resources,
        **extra,
    )


def own_limit(name: str, drug: str, prior: tuple[float, int], dose: float, **extra: Any) -> Case:
    """A course of ``drug`` on file (a completed order of count x dose) and one more dose."""
    per_dose, count = prior
    past = finished(name, f"medrx-{name}-prior", drug, per_dose, "mg/m2", {"count": count})
    return anthracycline(name, dose, [past, *lvef(name, NORMAL_LVEF)], drug=drug, **extra)


def chest_radiotherapy(name: str) -> dict[str, Any]:
    """A completed mediastinal radiotherapy course, named by text only (no code verified)."""
    return {
        "resourceType": "Procedure",
        "id": f"proc-{name}-rt",
        "status": "completed",
        "code": {"text": "Mediastinal radiotherapy (involved-site, 30 Gy)"},
        "subject": _subject(name),
        "performedPeriod": {"start": "2025-01-06", "end": "2025-02-14"},
    }


FIRST_DOSE = "2026-03-09"
"""The first dose of the HER2 drug on file: a week after the March LVEF (its baseline)."""


def started(name: str, drug: str, dose: float, start: str | None) -> list[dict[str, Any]]:
    """The first administration of ``drug`` on ``start``; none when the order is the first."""
    return [given(name, drug, dose, "mg/kg", start)] if start else []


def kadcyla(name: str, *values: tuple[str, int], start: str | None = FIRST_DOSE) -> Case:
    """Ado-trastuzumab emtansine 3.6 mg/kg ordered, with these LVEF results, started ``start``."""
    order = ("ado-trastuzumab emtansine", "Kadcyla 160 mg injection", 3.6, "mg/kg", "q21d")
    return Case(
        name,
        "female",
        "1972-08-08",
        conditions=BREAST,
        findings={"HER2": True},
        order=order,
        resources=[
            *lvef(name, *values),
            *started(name, "ado-trastuzumab emtansine", 3.6, start),
        ],
    )


def trastuzumab(
    name: str, *values: tuple[str, int], hook: str = "order-sign", start: str | None = FIRST_DOSE
) -> Case:
    """Trastuzumab 6 mg/kg ordered (or active, for patient-view), first given on ``start``."""
    order = ("trastuzumab", "Trastuzumab 150 mg injection", 6, "mg/kg", "q21d")
    return Case(
        name,
        "female",
        "1972-08-08",
        conditions=BREAST if hook != "patient-view" else [],
        findings={"HER2": True} if hook != "patient-view" else {},
        active=[("MedicationRequest", "trastuzumab")] if hook == "patient-view" else [],
        order=order if hook != "patient-view" else ("", "", None, None, None),
        resources=[*lvef(name, *values), *started(name, "trastuzumab", 6, start)],
        hook=hook,
    )


def her2_drug(
    name: str,
    drug: tuple[str, str, float],
    *values: tuple[str, int],
    conditions: list[tuple[str | None, str]] = BREAST,
) -> Case:
    """``drug`` (ingredient, order text, mg/kg) ordered, first given on FIRST_DOSE, with these
    LVEF results."""
    ingredient, text, dose = drug
    return Case(
        name,
        "female",
        "1972-08-08",
        conditions=conditions,
        findings={"HER2": True},
        order=(ingredient, text, dose, "mg/kg", "q21d"),
        resources=[*lvef(name, *values), *started(name, ingredient, dose, FIRST_DOSE)],
    )


ENHERTU = ("trastuzumab deruxtecan", "Enhertu 100 mg injection", 5.4)
PERJETA = ("pertuzumab", "Perjeta 420 mg/14 mL injection", 420)
METASTATIC = [(None, "Metastatic malignant neoplasm of breast")]
NORMAL_LVEF = ("2026-04-20", 62)
INFANT = "2025-03-01"
"""A child of 1 year 7 months on the fixtures' date: under the daunorubicin label's 2 years."""


def infant_daunorubicin(name: str, dose: float) -> Case:
    """4 x 40 mg/m2 of daunorubicin on file, 9 kg and BSA 0.45 m2: the label's 10 mg/kg is
    10 x 9 / 0.45 = 200 mg/m2; ``dose`` more is checked against it."""
    past = finished(name, f"medrx-{name}-prior", "daunorubicin", 40, "mg/m2", {"count": 4})
    body = [measure(name, "weight", 9, "2026-09-20"), measure(name, "BSA", 0.45, "2026-09-20")]
    return anthracycline(
        name,
        dose,
        [past, *lvef(name, NORMAL_LVEF), *body],
        drug="daunorubicin",
        birth=INFANT,
        conditions=AML,
    )


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
    # Each drug's own labelled limit (knowledge/anthracyclines.yaml): at it, and past it
    own_limit("daunorubicin-aml-induction", "daunorubicin", (90, 2), 90, conditions=AML),
    own_limit("daunorubicin-at-550", "daunorubicin", (92, 5), 90, conditions=AML),
    own_limit("daunorubicin-past-550", "daunorubicin", (60, 8), 90, conditions=AML),
    own_limit("mitoxantrone-aml-course", "mitoxantrone", (12, 2), 12, conditions=AML),
    own_limit("mitoxantrone-at-140", "mitoxantrone", (16, 8), 12, conditions=AML),
    own_limit("mitoxantrone-past-140", "mitoxantrone", (16, 8), 14, conditions=AML),
    own_limit("epirubicin-at-900", "epirubicin", (100, 8), 100),
    own_limit("epirubicin-past-900", "epirubicin", (100, 8), 110),
    own_limit("idarubicin-no-labelled-limit", "idarubicin", (12, 6), 12, conditions=AML),
    own_limit("liposomal-doxorubicin-at-550", "doxorubicin liposome", (50, 10), 50),
    own_limit("liposomal-doxorubicin-past-550", "doxorubicin liposome", (50, 10), 60),
    # A child: daunorubicin's own 300 mg/m2, and the IGHG 250 mg/m2 surveillance threshold
    own_limit("child-daunorubicin-at-300", "daunorubicin", (60, 4), 60, birth=CHILD),
    own_limit("child-daunorubicin-past-300", "daunorubicin", (60, 4), 70, birth=CHILD),
    own_limit("child-doxorubicin-250", "doxorubicin", (55, 4), 30, birth=CHILD),
    # A child under 2: daunorubicin's 10 mg/kg (200 mg/m2 at 9 kg and 0.45 m2)
    infant_daunorubicin("infant-daunorubicin-at-200", 40),
    infant_daunorubicin("infant-daunorubicin-past-200", 50),
    own_limit("child-doxorubicin-240", "doxorubicin", (55, 4), 20, birth=CHILD),
    # Co-therapy that lowers doxorubicin's limit to 400: trastuzumab, chest radiotherapy
    own_limit(
        "doxorubicin-trastuzumab-above-400",
        "doxorubicin",
        (60, 6),
        60,
        active=[("MedicationRequest", "trastuzumab")],
    ),
    anthracycline(
        "doxorubicin-chest-rt-above-400",
        60,
        [
            finished(
                "doxorubicin-chest-rt-above-400",
                "medrx-doxorubicin-chest-rt-above-400-prior",
                "doxorubicin",
                60,
                "mg/m2",
                {"count": 6},
            ),
            chest_radiotherapy("doxorubicin-chest-rt-above-400"),
            *lvef("doxorubicin-chest-rt-above-400", NORMAL_LVEF),
        ],
    ),
    own_limit("doxorubicin-no-cotherapy-420", "doxorubicin", (60, 6), 60),
    # Baseline LVEF before an anthracycline
    anthracycline("anthracycline-no-lvef", 60, []),
    anthracycline("anthracycline-lvef-49", 60, lvef("anthracycline-lvef-49", ("2026-09-20", 49))),
    anthracycline("anthracycline-lvef-50", 60, lvef("anthracycline-lvef-50", ("2026-09-20", 50))),
    # T-DM1 (Kadcyla Table 4): below 40 %, and 40-45 % after a fall of 10 points or more
    kadcyla("tdm1-lvef-39", ("2026-03-02", 58), ("2026-09-21", 39)),
    kadcyla("tdm1-lvef-45-fall-10", ("2026-03-02", 55), ("2026-09-21", 45)),
    kadcyla("tdm1-lvef-46-fall-20", ("2026-03-02", 66), ("2026-09-21", 46)),
    # T-DXd (Enhertu label): below 40 %, a fall of more than 20, 40-45 % after a fall of 10-20
    her2_drug("tdxd-lvef-39", ENHERTU, ("2026-03-02", 58), ("2026-09-21", 39)),
    her2_drug("tdxd-lvef-46-fall-21", ENHERTU, ("2026-03-02", 67), ("2026-09-21", 46)),
    her2_drug("tdxd-lvef-46-fall-20", ENHERTU, ("2026-03-02", 66), ("2026-09-21", 46)),
    her2_drug("tdxd-lvef-45-fall-10", ENHERTU, ("2026-03-02", 55), ("2026-09-21", 45)),
    her2_drug("tdxd-no-lvef", ENHERTU),
    # Pertuzumab (Perjeta label 2.3): early breast cancer below 50 % after a fall of 10; in
    # metastatic disease below 40 %, or 40-45 % after a fall of 10
    her2_drug("pertuzumab-early-lvef-49", PERJETA, ("2026-03-02", 59), ("2026-09-21", 49)),
    her2_drug("pertuzumab-early-lvef-50", PERJETA, ("2026-03-02", 60), ("2026-09-21", 50)),
    her2_drug(
        "pertuzumab-mbc-lvef-45-fall-10",
        PERJETA,
        ("2026-03-02", 55),
        ("2026-09-21", 45),
        conditions=METASTATIC,
    ),
    her2_drug(
        "pertuzumab-mbc-lvef-46-fall-12",
        PERJETA,
        ("2026-03-02", 58),
        ("2026-09-21", 46),
        conditions=METASTATIC,
    ),
    # Trastuzumab: withhold for a fall of 16 points, or of 10 points to below 50 %
    trastuzumab("trastuzumab-lvef-fall-16", ("2026-03-02", 66), ("2026-09-21", 50)),
    trastuzumab("trastuzumab-lvef-fall-15", ("2026-03-02", 65), ("2026-09-21", 50)),
    trastuzumab("trastuzumab-lvef-fall-10-to-49", ("2026-03-02", 59), ("2026-09-21", 49)),
    trastuzumab("trastuzumab-lvef-fall-10-to-50", ("2026-03-02", 60), ("2026-09-21", 50)),
    trastuzumab("trastuzumab-no-lvef"),
    # The baseline is the latest LVEF before the first trastuzumab dose, not the earliest:
    # 70 (2025) and 60 before the start, 50 now: -10 from 60, no hold (from 70 it was -20)
    trastuzumab(
        "trast-baseline-before-start",
        ("2025-06-02", 70),
        ("2026-03-02", 60),
        ("2026-09-21", 50),
    ),
    # The same results with trastuzumab started before the 60: the baseline is 70, -20
    trastuzumab(
        "trast-baseline-started-earlier",
        ("2025-06-02", 70),
        ("2026-03-02", 60),
        ("2026-09-21", 50),
        start="2025-06-09",
    ),
    # No LVEF before the first dose: the earliest on file is the baseline, and the card says so
    trastuzumab(
        "trast-baseline-none-before",
        ("2026-04-01", 66),
        ("2026-09-21", 50),
    ),
    # A first trastuzumab order: a fall before it is not the label's fall on trastuzumab
    trastuzumab(
        "trast-first-order-fall-before",
        ("2026-03-02", 66),
        ("2026-09-21", 50),
        start=None,
    ),
    trastuzumab(
        "trastuzumab-active-lvef-fall-16",
        ("2026-03-02", 66),
        ("2026-06-01", 60),
        ("2026-09-21", 50),
        hook="patient-view",
    ),
)
