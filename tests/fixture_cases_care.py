"""Fixture patients for supportive care: fertility preservation and goals of care.

Ages and intervals are chosen for :data:`tests.fixture_cases.TODAY` (2026-11-21), the day the
tests fix the service's clock to: "diagnosed 4 weeks ago" is 2026-10-24. The staging
Observations and the secondary cancer Condition follow the mCODE 4.0.0 example shapes
(``tnm-clinical-stage-group-3c``, ``tnm-clinical-distant-metastases-category-cM0``,
``secondary-cancer-condition-brain-mets``; fixtures/fhir/PROVENANCE.md).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.fixture_cases import CATEGORY, SNOMED, TODAY, Case

MCODE = "http://hl7.org/fhir/us/mcode/StructureDefinition/"
AJCC_8 = ("897275008", "American Joint Commission on Cancer, Cancer Staging Manual, 8th edition")
STAGE_GROUP = ("399537006", "Clinical TNM stage grouping")
M_CATEGORY = ("399387003", "cM category")
STAGE_IV = ("1222837003", "American Joint Committee on Cancer stage IV")
STAGE_IIB = ("1222769001", "American Joint Committee on Cancer stage IIB")
CM1 = ("1229903009", "American Joint Committee on Cancer cM1")
NSCLC = ("254637007", "Non-small cell lung cancer")


def weeks_ago(weeks: int) -> str:
    return (TODAY - timedelta(weeks=weeks)).isoformat()


def _concept(code: tuple[str, str]) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": code[0], "display": code[1]}]}


def condition(
    case: str,
    code: tuple[str, str],
    onset: str | None,
    profile: str = "mcode-primary-cancer-condition",
) -> dict[str, Any]:
    """A current cancer Condition; ``onset`` None leaves no date at all (not even recorded)."""
    resource: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"cond-{case}-{profile.split('-')[1]}",
        "meta": {"profile": [MCODE + profile]},
        "clinicalStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                    "code": "active",
                }
            ]
        },
        "code": _concept(code) | {"text": code[1]},
        "subject": {"reference": f"Patient/pt-{case}"},
    }
    if onset:
        resource["onsetDateTime"] = onset
    return resource


def staging(
    case: str, kind: tuple[str, str], value: tuple[str, str], when: str | None
) -> dict[str, Any]:
    """A TNM stage group or M category Observation (AJCC 8th edition)."""
    profile = {STAGE_GROUP: "stage-group", M_CATEGORY: "distant-metastases-category"}[kind]
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{profile}-{case}",
        "meta": {"profile": [f"{MCODE}mcode-tnm-{profile}"]},
        "status": "final",
        "category": [{"coding": [{"system": CATEGORY, "code": "imaging"}]}],
        "code": _concept(kind),
        "subject": {"reference": f"Patient/pt-{case}"},
        "valueCodeableConcept": _concept(value),
        "method": _concept(AJCC_8),
    }
    if when:
        resource["effectiveDateTime"] = when
    return resource


def advance_care_planning(case: str) -> dict[str, Any]:
    return {
        "resourceType": "Procedure",
        "id": f"proc-acp-{case}",
        "status": "completed",
        "code": _concept(("713603004", "Advance care planning")),
        "subject": {"reference": f"Patient/pt-{case}"},
        "performedDateTime": weeks_ago(2),
    }


def goals_of_care(name: str, *resources: dict[str, Any]) -> Case:
    """A woman of 66 with an ECOG on file (so that only the care rules speak), at patient-view."""
    return Case(
        name,
        "female",
        "1960-02-02",
        findings={"ECOG": 1},
        hook="patient-view",
        resources=list(resources),
    )


ORDERS = {
    "cyclophosphamide": ("cyclophosphamide", "Cyclophosphamide injection", 600, "mg/m2", "q21d"),
    "paclitaxel": ("paclitaxel", "Paclitaxel injection", 175, "mg/m2", "q21d"),
}


def fertility(
    name: str,
    birth: str,
    drug: str = "cyclophosphamide",
    gender: str = "female",
    diagnosis: tuple[str | None, str] = ("254837009", "Breast cancer"),
    tests: tuple[str, ...] = (),
) -> Case:
    """A patient about to sign a first chemotherapy order, at order-sign."""
    return Case(name, gender, birth, conditions=[diagnosis], order=ORDERS[drug], tests=list(tests))


def _goals_of_care_cases() -> tuple[Case, ...]:
    due, overdue = "goals-of-care-stage-iv-due", "goals-of-care-stage-iv-overdue"
    documented, stage_ii = "goals-of-care-documented", "goals-of-care-stage-ii"
    m1, metastatic = "goals-of-care-m1-category", "goals-of-care-metastatic-condition"
    undated = "goals-of-care-date-unknown"
    brain = ("94225005", "Secondary malignant neoplasm of brain")
    return (
        goals_of_care(
            due,
            condition(due, NSCLC, weeks_ago(4)),
            staging(due, STAGE_GROUP, STAGE_IV, weeks_ago(4)),
        ),
        goals_of_care(
            overdue,
            condition(overdue, NSCLC, weeks_ago(13)),
            staging(overdue, STAGE_GROUP, STAGE_IV, weeks_ago(13)),
        ),
        goals_of_care(
            documented,
            condition(documented, NSCLC, weeks_ago(6)),
            staging(documented, STAGE_GROUP, STAGE_IV, weeks_ago(6)),
            condition(documented, brain, weeks_ago(6), "mcode-secondary-cancer-condition"),
            advance_care_planning(documented),
        ),
        goals_of_care(
            stage_ii,
            condition(stage_ii, NSCLC, weeks_ago(13)),
            staging(stage_ii, STAGE_GROUP, STAGE_IIB, weeks_ago(13)),
        ),
        goals_of_care(
            m1,
            condition(m1, NSCLC, weeks_ago(30)),
            staging(m1, M_CATEGORY, CM1, weeks_ago(2)),
        ),
        goals_of_care(
            metastatic,
            condition(metastatic, NSCLC, weeks_ago(40)),
            condition(metastatic, brain, weeks_ago(1), "mcode-secondary-cancer-condition"),
        ),
        goals_of_care(
            undated,
            condition(undated, NSCLC, None),
            staging(undated, M_CATEGORY, CM1, None),
        ),
    )


STAGE_IIIB = ("1222805004", "American Joint Committee on Cancer stage IIIB")
AML = ("91861009", "Acute myeloid leukemia")


def written(case: str, code: tuple[str, str] | None, text: str) -> dict[str, Any]:
    """A cancer Condition diagnosed 4 weeks ago whose text says more than its code: the
    resectability or the relapse, as clinicians write it (no SNOMED CT code was verified)."""
    resource = condition(case, code or ("", ""), weeks_ago(4))
    resource["code"] = ({"coding": _concept(code)["coding"]} if code else {}) | {"text": text}
    return resource


def _advanced_cases() -> tuple[Case, ...]:
    """Unresectable stage III and relapsed or refractory hematologic malignancies are advanced
    (knowledge/care.yaml, ASCO 2017 and 2024); resectable stage III and a new leukaemia not."""
    unresectable, resectable = "goals-of-care-nsclc-iiib-unresectable", "goals-of-care-nsclc-iiib"
    texts = {
        unresectable: (NSCLC, "Non-small cell lung cancer, stage IIIB, unresectable"),
        resectable: (NSCLC, "Non-small cell lung cancer, stage IIIB"),
        "goals-of-care-pancreas-locally-advanced": (None, "Locally advanced pancreatic cancer"),
        "goals-of-care-pancreas-resectable": (None, "Resectable pancreatic cancer"),
        "goals-of-care-aml-relapsed": (AML, "Acute myeloid leukemia, relapsed"),
        "goals-of-care-aml-new": (AML, "Acute myeloid leukemia"),
        "goals-of-care-myeloma-refractory": (None, "Multiple myeloma, refractory"),
        "goals-of-care-lymphoma-relapsed": (None, "Relapsed diffuse large B-cell lymphoma"),
    }
    cases = []
    for name, (code, text) in texts.items():
        resources = [written(name, code, text)]
        if code == NSCLC:
            resources.append(staging(name, STAGE_GROUP, STAGE_IIIB, weeks_ago(4)))
        cases.append(goals_of_care(name, *resources))
    return tuple(cases)


def ecog_3(name: str, diagnosis: tuple[str | None, str]) -> Case:
    """A man of 70 at ECOG 3 about to sign cyclophosphamide: Choosing Wisely's performance-status
    item is about solid tumours, not lymphoma (patient-factors/performance-status.yaml)."""
    return Case(
        name,
        "male",
        "1956-03-03",
        conditions=[diagnosis],
        findings={"ECOG": 3},
        order=ORDERS["cyclophosphamide"],
    )


CASES: tuple[Case, ...] = (
    fertility("fertility-cyclophosphamide-age-30", "1996-05-10"),
    fertility("fertility-cyclophosphamide-age-46", "1980-03-15"),
    fertility(
        "fertility-cyclophosphamide-age-11",
        "2015-06-01",
        gender="male",
        diagnosis=(None, "Hodgkin lymphoma"),
    ),
    fertility(
        "fertility-consult-on-file",
        "1996-05-11",
        tests=("Fertility preservation consultation (oocyte cryopreservation)",),
    ),
    fertility("fertility-paclitaxel-age-30", "1996-05-12", "paclitaxel"),
    *_goals_of_care_cases(),
    *_advanced_cases(),
    ecog_3("ecog-3-cyclophosphamide-breast", ("254837009", "Breast cancer")),
    ecog_3("ecog-3-cyclophosphamide-lymphoma", (None, "Diffuse large B-cell lymphoma")),
)
