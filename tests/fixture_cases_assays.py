"""Fixture patients for genomic assay eligibility at patient-view: MammaPrint, Decipher, Oncotype
DX Colon, each criterion met and just missed.

Findings are mCODE-shaped Observations (histologic grade, tumor size with its largest-dimension
component, TNM T category, margins, PSA, MSI) and the prostatectomy an mCODE surgical
Procedure; codes are those of ``rules/knowledge/oncology.yaml`` and ``procedures.yaml``. Ages
stay clear of the age-50 line because a fixture's age moves with the calendar; the rule files'
examples test 50 against 51. Assay results are read by their names only (no code verified), so
the prefetch cannot carry them: their meanings are tested in the rule files' examples.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.fixture_cases import CATEGORY, LOINC, SNOMED, UCUM, Case

Build = Callable[[str], dict[str, Any]]
"""A resource of the case, from its name (ids and the subject derive from it)."""

GRADES = {
    1: ("LA27823-6", "Nottingham grade 1"),
    2: ("LA27824-4", "Nottingham grade 2"),
    3: ("LA27825-1", "Nottingham grade 3"),
}
T_CATEGORIES = {  # pT answers, SNOMED CT (knowledge/oncology.yaml)
    "pT2": "1229852009",
    "pT3": "1229859000",
    "pT3a": "1229860005",
    "pT4": "1229864001",
}
MARGINS = {
    True: ("370109009", "Surgical margin involved by tumor"),
    False: ("55182004", "Surgical margin uninvolved by tumor"),
}
MSI = {"MSI-H": ("LA26203-2", "MSI-H"), "stable": ("LA14122-8", "Stable")}
BREAST = ("254837009", "Breast cancer")
PROSTATE = ("399068003", "Malignant tumor of prostate")
COLON = ("363406005", "Malignant tumor of colon")


def _observation(name: str, kind: str, code: tuple[str, str, str], **value: Any) -> dict:
    return {
        "resourceType": "Observation",
        "id": f"obs-{kind}-{name}",
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "laboratory"}]}],
        "code": {"coding": [{"system": code[0], "code": code[1], "display": code[2]}]},
        "subject": {"reference": f"Patient/pt-{name}"},
        "effectiveDateTime": value.pop("when", "2026-09-20"),
        **value,
    }


def _answer(system: str, code: str, display: str) -> dict[str, Any]:
    return {
        "coding": [{"system": system, "code": code} | ({"display": display} if display else {})]
    }


def grade(number: int) -> Build:
    code = (LOINC, "44648-4", "Histologic grade [Score] in Breast cancer specimen by Nottingham")
    return lambda name: _observation(
        name, "grade", code, valueCodeableConcept=_answer(LOINC, *GRADES[number])
    )


def size(cm: float) -> Build:
    """mCODE TumorSize: the largest dimension as component 33728-7."""
    largest = {"coding": [{"system": LOINC, "code": "33728-7"}]}
    quantity = {"value": cm, "unit": "cm", "system": UCUM, "code": "cm"}
    return lambda name: _observation(
        name,
        "size",
        (LOINC, "21889-1", "Size Tumor"),
        component=[{"code": largest, "valueQuantity": quantity}],
    )


def t_category(answer: str) -> Build:
    return lambda name: _observation(
        name,
        "pt",
        (SNOMED, "384625004", "pT category"),
        valueCodeableConcept=_answer(SNOMED, T_CATEGORIES[answer], f"AJCC {answer}"),
    )


def margin(positive: bool) -> Build:
    code = (LOINC, "84905-9", "Margin involvement [Type] in Prostate tumor")
    return lambda name: _observation(
        name, "margin", code, valueCodeableConcept=_answer(SNOMED, *MARGINS[positive])
    )


def psa(value: float, when: str) -> Build:
    code = (LOINC, "2857-1", "Prostate specific Ag [Mass/volume] in Serum or Plasma")
    quantity = {"value": value, "unit": "ng/mL", "system": UCUM, "code": "ng/mL"}
    return lambda name: _observation(name, f"psa-{when}", code, when=when, valueQuantity=quantity)


def msi(status: str) -> Build:
    return lambda name: _observation(
        name,
        "msi",
        (LOINC, "81695-9", "Microsatellite instability [Interpretation] in Cancer specimen"),
        valueCodeableConcept=_answer(LOINC, *MSI[status]),
    )


def prostatectomy(when: str) -> Build:
    """Shaped like the mCODE cancer-related surgical procedure example."""
    return lambda name: {
        "resourceType": "Procedure",
        "id": f"proc-rp-{name}",
        "meta": {
            "profile": [
                "http://hl7.org/fhir/us/mcode/StructureDefinition/"
                "mcode-cancer-related-surgical-procedure"
            ]
        },
        "status": "completed",
        "code": _answer(SNOMED, "26294005", "Radical prostatectomy"),
        "subject": {"reference": f"Patient/pt-{name}"},
        "performedDateTime": when,
    }


def case(
    name: str,
    gender: str,
    birth: str,
    cancer: tuple[str, str],
    built: list[Build],
    findings: dict[str, Any] | None = None,
    tests: tuple[str, ...] = (),
) -> Case:
    """A patient-view case with ECOG on file (so that only the assay rules speak)."""
    return Case(
        name,
        gender,
        birth,
        conditions=[cancer],
        findings={**(findings or {}), "ECOG": 0},
        tests=list(tests),
        hook="patient-view",
        resources=[build(name) for build in built],
    )


ER_HER2 = {"ER": True, "HER2": False}


CASES: tuple[Case, ...] = (
    # MammaPrint: MINDACT clinical risk, age over 50, nothing on file or ordered
    case(
        "mammaprint-n0-grade2-2p1cm",
        "female",
        "1966-04-12",
        BREAST,
        [grade(2), size(2.1)],
        {**ER_HER2, "pN": "N0"},
    ),
    case(
        "mammaprint-n0-grade2-2cm",
        "female",
        "1966-04-13",
        BREAST,
        [grade(2), size(2.0)],
        {**ER_HER2, "pN": "N0"},
    ),
    case(
        "mammaprint-n1-grade1-2p5cm",
        "female",
        "1964-02-20",
        BREAST,
        [grade(1), size(2.5)],
        {**ER_HER2, "pN": "N1"},
    ),
    case(
        "mammaprint-n1-grade1-2cm",
        "female",
        "1964-02-21",
        BREAST,
        [grade(1), size(2.0)],
        {**ER_HER2, "pN": "N1"},
    ),
    case(
        "mammaprint-n0-grade3-age-45",
        "female",
        "1981-05-10",
        BREAST,
        [grade(3), size(1.5)],
        {**ER_HER2, "pN": "N0"},
    ),
    case(
        "mammaprint-n0-grade3-age-60",
        "female",
        "1966-05-10",
        BREAST,
        [grade(3), size(1.5)],
        {**ER_HER2, "pN": "N0"},
    ),
    case(
        "mammaprint-n0-no-size", "female", "1966-04-14", BREAST, [grade(2)], {**ER_HER2, "pN": "N0"}
    ),
    case(
        "mammaprint-ordered",
        "female",
        "1966-04-15",
        BREAST,
        [grade(2), size(2.5)],
        {**ER_HER2, "pN": "N0"},
        ("MammaPrint 70-gene breast cancer recurrence assay",),
    ),
    case(
        "mammaprint-ordered-age-45",
        "female",
        "1981-05-11",
        BREAST,
        [grade(3), size(1.5)],
        {**ER_HER2, "pN": "N0"},
        ("MammaPrint",),
    ),
    # Decipher after radical prostatectomy (2026-06-15): pT3, positive margin, or PSA >= 0.2
    case(
        "decipher-pt2-negative-margin",
        "male",
        "1961-03-03",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT2"), margin(False), psa(0.05, "2026-08-20")],
    ),
    case(
        "decipher-pt3a",
        "male",
        "1961-03-04",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT3a"), margin(False), psa(0.05, "2026-08-20")],
    ),
    case(
        "decipher-positive-margin",
        "male",
        "1961-03-05",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT2"), margin(True), psa(0.05, "2026-08-20")],
    ),
    case(
        "decipher-psa-0p2",
        "male",
        "1961-03-06",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT2"), margin(False), psa(0.2, "2026-08-20")],
    ),
    case(
        "decipher-psa-0p1",
        "male",
        "1961-03-07",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT2"), margin(False), psa(0.1, "2026-08-20")],
    ),
    case(
        "decipher-psa-before-prostatectomy",
        "male",
        "1961-03-08",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT2"), margin(False), psa(7.9, "2026-04-02")],
    ),
    case(
        "decipher-no-prostatectomy",
        "male",
        "1961-03-09",
        PROSTATE,
        [t_category("pT3"), psa(7.9, "2026-04-02")],
    ),
    case(
        "decipher-ordered",
        "male",
        "1961-03-10",
        PROSTATE,
        [prostatectomy("2026-06-15"), t_category("pT3"), margin(True)],
        tests=("Decipher Prostate genomic classifier",),
    ),
    # Oncotype DX Colon: T3 N0 and mismatch repair proficient
    case(
        "colon-t3n0-mss",
        "female",
        "1958-07-01",
        COLON,
        [t_category("pT3"), msi("stable")],
        {"pN": "N0"},
    ),
    case(
        "colon-t3n0-msi-h",
        "female",
        "1958-07-02",
        COLON,
        [t_category("pT3"), msi("MSI-H")],
        {"pN": "N0"},
    ),
    case(
        "colon-t4n0-mss",
        "male",
        "1958-07-03",
        COLON,
        [t_category("pT4"), msi("stable")],
        {"pN": "N0"},
    ),
    case(
        "colon-t3n1-mss",
        "male",
        "1958-07-04",
        COLON,
        [t_category("pT3"), msi("stable")],
        {"pN": "N1"},
    ),
    case("colon-t3n0-no-msi", "female", "1958-07-05", COLON, [t_category("pT3")], {"pN": "N0"}),
    case("colon-no-t-category", "male", "1958-07-06", COLON, [msi("stable")], {"pN": "N0"}),
)
