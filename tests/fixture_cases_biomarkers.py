"""Fixture patients for biomarker-matched targeted therapy (rules/biomarkers/).

Variants follow the Genomics Reporting STU3 example ``EGFR-L858R-var`` (and its
``-significance`` diagnostic implication); MSI, HER2 and ECOG the mCODE 4.0.0 examples; staging
(stage group, M category, a secondary cancer Condition) the mCODE shapes of
``tests/fixture_cases_care.py``. The ALK case is the mCODE GenomeX patient Adam Anyperson: his
published Observations, unchanged, with a non-small cell lung cancer, a clinical stage group IV
and an ECOG score added (``fixtures/fhir/PROVENANCE.md``). The extent of disease decides which
matched drugs a card offers: the cases pair advanced, not advanced and unstaged patients.
"""

from __future__ import annotations

import json
from typing import Any

from tests.fixture_cases import CATEGORY, FIXTURES, HGNC, LOINC, TBD, Case
from tests.fixture_cases import _coding as _concept
from tests.fixture_cases_care import (
    CM1,
    M_CATEGORY,
    STAGE_GROUP,
    STAGE_IIB,
    STAGE_IV,
    condition,
    staging,
)
from tests.fixture_cases_oncotype_orders import finished_course

EXAMPLES = FIXTURES / "biomarker-examples"
HGVS = "http://varnomen.hgvs.org"
PROFILES = "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition"
GENES = {
    "EGFR": "HGNC:3236",
    "BRAF": "HGNC:1097",
    "BRCA1": "HGNC:1100",
    "ALK": "HGNC:427",
    "ROS1": "HGNC:10261",
    "CD74": "HGNC:1697",
    "MET": "HGNC:7029",
    "RET": "HGNC:9967",
    "KIF5B": "HGNC:6324",
    "KRAS": "HGNC:6407",
    "NTRK1": "HGNC:8031",
    "NTRK2": "HGNC:8032",
    "NTRK3": "HGNC:8033",
    "ETV6": "HGNC:3495",
}
"""HGNC ids: clinical-facts 4.1 (verified) and rules/knowledge/biomarkers.yaml (its sources).
CD74 1697, KIF5B 6324 and ETV6 3495, fusion partners only, from the same public gene lists."""
PRESENT, ABSENT = ("LA9633-4", "Present"), ("LA9634-2", "Absent")
SOMATIC, GERMLINE = ("LA6684-0", "Somatic"), ("LA6683-2", "Germline")
MSI_ANSWERS = {"MSI-H": ("LA26203-2", "MSI-H"), "stable": ("LA14122-8", "Stable")}
NSCLC = [("254637007", "Non-small cell lung cancer")]
BREAST = [("254837009", "Breast cancer")]
COLON = [(None, "Malignant neoplasm of colon")]
MELANOMA = [(None, "Malignant melanoma of skin")]
EGFR_L858R = {"protein": "NP_005219.2:p.Leu858Arg", "dna": "NM_005228.4:c.2573T>G"}
BRAIN_METASTASES = ("94225005", "Secondary malignant neoplasm of brain")
STAGED = "2026-09-10"
"""When the staging was recorded: the day of the biomarker results."""
BRAF_V600E = {"protein": "p.Val600Glu", "dna": "c.1799T>A"}


def variant(
    case: str,
    gene: str,
    *,
    found: tuple[str, str] = PRESENT,
    origin: tuple[str, str] = SOMATIC,
    protein: str | None = None,
    dna: str | None = None,
) -> dict[str, Any]:
    """A variant Observation shaped like the STU3 example ``EGFR-L858R-var``."""
    gene_coding = _concept(HGNC, GENES[gene], gene)
    components = [{"code": _concept(LOINC, "48018-6"), "valueCodeableConcept": gene_coding}]
    for code, change in (("48005-3", protein), ("48004-6", dna)):  # amino acid, DNA change
        if change:
            components.append(
                {"code": _concept(LOINC, code), "valueCodeableConcept": _concept(HGVS, change)}
            )
    components.append(
        {"code": _concept(LOINC, "48002-0"), "valueCodeableConcept": _concept(LOINC, *origin)}
    )
    return {
        "resourceType": "Observation",
        "id": f"var-{case}-{gene.lower()}",
        "meta": {"profile": [f"{PROFILES}/variant"]},
        "status": "final",
        "category": [_concept(CATEGORY, "laboratory")],
        "code": _concept(LOINC, "69548-6", "Genetic variant assessment"),
        "subject": {"reference": f"Patient/pt-{case}"},
        "effectiveDateTime": "2026-09-10",
        "valueCodeableConcept": _concept(LOINC, *found),
        "component": components,
    }


def pathogenic(case: str, gene: str) -> dict[str, Any]:
    """The diagnostic implication of a variant, shaped like ``EGFR-L858R-significance``."""
    return {
        "resourceType": "Observation",
        "id": f"dx-{case}-{gene.lower()}",
        "meta": {"profile": [f"{PROFILES}/diagnostic-implication"]},
        "status": "final",
        "category": [_concept(CATEGORY, "laboratory")],
        "code": _concept(TBD, "diagnostic-implication", "Diagnostic Implication"),
        "subject": {"reference": f"Patient/pt-{case}"},
        "effectiveDateTime": "2026-09-10",
        "derivedFrom": [{"reference": f"Observation/var-{case}-{gene.lower()}"}],
        "component": [
            {
                "code": _concept(LOINC, "53037-8", "Genetic variation clinical significance [Imp]"),
                "valueCodeableConcept": _concept(LOINC, "LA6668-3", "Pathogenic"),
            }
        ],
    }


def msi(case: str, value: str) -> dict[str, Any]:
    """An MSI result shaped like the mCODE example ``gx-genomic-msi``."""
    return {
        "resourceType": "Observation",
        "id": f"obs-msi-{case}",
        "status": "final",
        "category": [_concept(CATEGORY, "laboratory")],
        "code": _concept(LOINC, "81695-9", "Microsatellite instability [Interpretation]"),
        "subject": {"reference": f"Patient/pt-{case}"},
        "effectiveDateTime": "2026-09-10",
        "valueCodeableConcept": _concept(LOINC, *MSI_ANSWERS[value]),
    }


def her2_low(case: str) -> dict[str, Any]:
    """HER2 coded negative, with the IHC score in the text (mCODE ``tumor-marker-test-her2``)."""
    value = _concept(LOINC, "LA6577-6", "Negative") | {"text": "HER2-low: IHC 1+"}
    return {
        "resourceType": "Observation",
        "id": f"obs-her2-{case}",
        "status": "final",
        "category": [_concept(CATEGORY, "laboratory")],
        "code": _concept(LOINC, "48676-1", "HER2 [Interpretation] in Tissue"),
        "subject": {"reference": f"Patient/pt-{case}"},
        "effectiveDateTime": "2026-09-10",
        "valueCodeableConcept": value,
    }


def adam_anyperson() -> list[dict[str, Any]]:
    """The mCODE GenomeX patient's Observations (Bundle and the MSI example), unchanged."""
    bundle = json.loads((EXAMPLES / "Bundle-gx-genomic-bundle-adam-anyperson.json").read_text())
    found = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    found.append(json.loads((EXAMPLES / "Observation-gx-genomic-msi.json").read_text()))
    return found


def stage_iv_of(patient: str) -> dict[str, Any]:
    """A clinical stage group IV about a published example's patient (whose id is not pt-...)."""
    return staging(patient, STAGE_GROUP, STAGE_IV, STAGED) | {
        "subject": {"reference": f"Patient/{patient}"}
    }


def msi_h_colon(name: str, birth: str, *staged: tuple[tuple[str, str], tuple[str, str]]) -> Case:
    """A man with MSI-H colon cancer at patient-view, and his staging: (kind, value) pairs."""
    return Case(
        name,
        "male",
        birth,
        conditions=COLON,
        findings={"ECOG": 1},
        resources=[
            msi(name, "MSI-H"),
            *(staging(name, kind, value, STAGED) for kind, value in staged),
        ],
        hook="patient-view",
    )


CASES: tuple[Case, ...] = (
    # EGFR and EGFR inhibitors (NSCLC)
    Case(
        "egfr-l858r-no-therapy",
        "female",
        "1961-02-03",
        conditions=NSCLC,
        findings={"ECOG": 1},
        resources=[variant("egfr-l858r-no-therapy", "EGFR", **EGFR_L858R)],
        hook="patient-view",
    ),
    Case(
        "egfr-l858r-stage-ii",
        "female",
        "1961-02-05",
        conditions=NSCLC,
        findings={"ECOG": 1},
        resources=[
            variant("egfr-l858r-stage-ii", "EGFR", **EGFR_L858R),
            staging("egfr-l858r-stage-ii", STAGE_GROUP, STAGE_IIB, STAGED),
        ],
        hook="patient-view",
    ),
    Case(
        "egfr-l858r-on-osimertinib",
        "female",
        "1961-02-04",
        conditions=NSCLC,
        findings={"ECOG": 1},
        active=[("MedicationRequest", "osimertinib")],
        resources=[variant("egfr-l858r-on-osimertinib", "EGFR", **EGFR_L858R)],
        hook="patient-view",
    ),
    Case(
        "egfr-negative-osimertinib",
        "male",
        "1958-07-08",
        conditions=NSCLC,
        findings={"ECOG": 1},
        resources=[variant("egfr-negative-osimertinib", "EGFR", found=ABSENT)],
        order=("osimertinib", "Osimertinib 80 mg tablet", 80, "mg", "daily"),
    ),
    Case(  # the EGFR test ordered, no result yet: the tests key feeds targeted_order.test_ordered
        "egfr-test-ordered-osimertinib",
        "male",
        "1958-07-09",
        conditions=NSCLC,
        findings={"ECOG": 1},
        tests=["EGFR mutation analysis"],
        order=("osimertinib", "Osimertinib 80 mg tablet", 80, "mg", "daily"),
    ),
    Case(
        "osimertinib-ecog-3-egfr-l858r",
        "male",
        "1964-05-10",
        conditions=NSCLC,
        findings={"ECOG": 3},
        resources=[variant("osimertinib-ecog-3-egfr-l858r", "EGFR", **EGFR_L858R)],
        order=("osimertinib", "Osimertinib 80 mg tablet", 80, "mg", "daily"),
    ),
    # BRAF V600E: melanoma (dabrafenib + trametinib) against colorectal cancer (encorafenib +
    # cetuximab; dabrafenib not indicated)
    Case(
        "braf-v600e-melanoma-dabrafenib",
        "male",
        "1970-03-03",
        conditions=MELANOMA,
        findings={"ECOG": 0},
        resources=[variant("braf-v600e-melanoma-dabrafenib", "BRAF", **BRAF_V600E)],
        order=("dabrafenib", "Dabrafenib 75 mg capsule", None, None, None),
    ),
    Case(
        "braf-v600e-colorectal",
        "female",
        "1966-04-04",
        conditions=COLON,
        findings={"ECOG": 0},
        resources=[
            variant("braf-v600e-colorectal", "BRAF", **BRAF_V600E),
            condition(
                "braf-v600e-colorectal",
                BRAIN_METASTASES,
                STAGED,
                "mcode-secondary-cancer-condition",
            ),
        ],
        hook="patient-view",
    ),
    Case(
        "braf-v600e-colorectal-dabrafenib",
        "female",
        "1966-04-05",
        conditions=COLON,
        findings={"ECOG": 0},
        resources=[variant("braf-v600e-colorectal-dabrafenib", "BRAF", **BRAF_V600E)],
        order=("dabrafenib", "Dabrafenib 75 mg capsule", None, None, None),
    ),
    # HER2: HER2-low is not HER2-positive
    Case(
        "her2-low-trastuzumab",
        "female",
        "1969-05-05",
        conditions=BREAST,
        findings={"ER": True, "ECOG": 0},
        resources=[her2_low("her2-low-trastuzumab")],
        order=("trastuzumab", "Trastuzumab 150 mg injection", 8, "mg/kg", "q21d"),
    ),
    # MSI-H and pembrolizumab
    msi_h_colon("msi-h-colorectal", "1955-06-06", (M_CATEGORY, CM1)),
    msi_h_colon("msi-h-colon-stage-ii", "1955-06-08", (STAGE_GROUP, STAGE_IIB)),
    msi_h_colon("msi-h-colon-no-stage", "1955-06-09"),
    Case(
        "msi-stable-colorectal-pembrolizumab",
        "male",
        "1955-06-07",
        conditions=COLON,
        findings={"ECOG": 1},
        resources=[msi("msi-stable-colorectal-pembrolizumab", "stable")],
        order=("pembrolizumab", "Pembrolizumab 200 mg injection", 200, "mg", "q21d"),
    ),
    # ALK fusion: the mCODE GenomeX example (MET-ALK fusion, NRAS/KIT/BRAF pertinent negatives,
    # TMB 57.1, MSI-H, five ALK inhibitor implications)
    Case(
        "alk-fusion-mcode-adam-anyperson",
        "male",
        "1990-01-01",
        conditions=NSCLC,
        findings={"ECOG": 1},
        resources=[*adam_anyperson(), stage_iv_of("gx-cancer-patient-adam-anyperson")],
        patient="gx-cancer-patient-adam-anyperson",
        hook="patient-view",
    ),
    # BRCA: germline pathogenic BRCA1 and olaparib (breast cancer)
    Case(
        "brca1-germline-breast",
        "female",
        "1978-07-07",
        conditions=BREAST,
        findings={"ER": False, "HER2": False, "pN": "N0", "ECOG": 0},
        resources=[
            variant(
                "brca1-germline-breast",
                "BRCA1",
                origin=GERMLINE,
                dna="NG_005905.2:g.126148_126152del",
            ),
            pathogenic("brca1-germline-breast", "BRCA1"),
        ],
        hook="patient-view",
    ),
    # Olaparib is labelled for HER2-negative breast cancer only: a HER2+ gBRCA patient is not
    # offered it (the review, M3); HER2's own card stays
    Case(
        "brca1-germline-her2-positive-breast",
        "female",
        "1978-07-09",
        conditions=BREAST,
        findings={"ER": False, "HER2": True, "pN": "N0", "ECOG": 0},
        resources=[
            variant(
                "brca1-germline-her2-positive-breast",
                "BRCA1",
                origin=GERMLINE,
                dna="NG_005905.2:g.126148_126152del",
            ),
            pathogenic("brca1-germline-her2-positive-breast", "BRCA1"),
        ],
        hook="patient-view",
    ),
    # A completed adjuvant trastuzumab course is matched therapy on file (the review, M4)
    Case(
        "her2-positive-trastuzumab-completed",
        "female",
        "1978-07-10",
        conditions=BREAST,
        findings={"ER": False, "HER2": True, "pN": "N0", "ECOG": 0},
        resources=[
            finished_course("her2-positive-trastuzumab-completed", "trastuzumab", "2025-03-01")
        ],
        hook="patient-view",
    ),
    Case(
        "brca-untested-breast-olaparib",
        "female",
        "1978-07-08",
        conditions=BREAST,
        findings={"ER": False, "HER2": False, "ECOG": 0},
        order=("olaparib", "Olaparib 150 mg tablet", None, None, None),
    ),
)
