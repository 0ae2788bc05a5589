"""Fixture patients for chemotherapy ordered in advanced NSCLC with a driver on file.

The variants and the mCODE stage group are built as in ``tests/fixture_cases_biomarkers.py``;
fusions add a second gene and the change type gene_fusion (SO:0001565), as the Genomics
Reporting ``ROS1-Fusion`` example types its fusion. The order is paclitaxel. Per driver, a
stage IV patient with no matched therapy gets the card; on its matched drug, at stage IIB, or
with a change that is not the driver (BRAF V600K, KRAS G12D, a MET exon 14 pertinent negative),
none. KRAS G12C gets an information card: its inhibitors come after first-line therapy.
"""

from __future__ import annotations

from typing import Any

from tests.fixture_cases import HGNC, LOINC, Case
from tests.fixture_cases import _coding as _concept
from tests.fixture_cases_biomarkers import ABSENT, EGFR_L858R, GENES, NSCLC, STAGED, variant
from tests.fixture_cases_care import STAGE_GROUP, STAGE_IIB, STAGE_IV, staging

PACLITAXEL = ("paclitaxel", "Paclitaxel 200 mg/m2 IV", 200, "mg/m2", "q21d")
SO = "http://www.sequenceontology.org"
RULE = "nsclc-chemotherapy-driver-no-matched-therapy"
KRAS_RULE = "nsclc-chemotherapy-kras-g12c"


def fusion(case: str, gene: str, partner: str) -> dict[str, Any]:
    """A fusion variant: both genes studied and the change type gene_fusion."""
    found = variant(case, gene)
    partner_gene = _concept(HGNC, GENES[partner], partner)
    found["component"][1:1] = [
        {"code": _concept(LOINC, "48018-6"), "valueCodeableConcept": partner_gene},
        {
            "code": _concept(LOINC, "48019-4"),
            "valueCodeableConcept": _concept(SO, "SO:0001565", "gene_fusion"),
        },
    ]
    return found


def _case(
    name: str,
    birth: str,
    driver: dict[str, Any],
    stage: tuple[str, str] = STAGE_IV,
    on: list[tuple[str, str]] | None = None,
) -> Case:
    return Case(
        name,
        "female",
        birth,
        conditions=NSCLC,
        findings={"ECOG": 1},
        active=on or [],
        resources=[driver, staging(name, STAGE_GROUP, stage, STAGED)],
        order=PACLITAXEL,
    )


def _egfr(name: str) -> dict[str, Any]:
    return variant(name, "EGFR", **EGFR_L858R)


CASES: tuple[Case, ...] = (
    _case("nsclc-egfr-stage-iv-paclitaxel", "1958-07-01", _egfr("nsclc-egfr-stage-iv-paclitaxel")),
    _case(
        "nsclc-egfr-stage-iv-paclitaxel-on-osimertinib",
        "1958-07-02",
        _egfr("nsclc-egfr-stage-iv-paclitaxel-on-osimertinib"),
        on=[("MedicationRequest", "osimertinib")],
    ),
    _case(
        "nsclc-egfr-stage-ii-paclitaxel",
        "1958-07-03",
        _egfr("nsclc-egfr-stage-ii-paclitaxel"),
        STAGE_IIB,
    ),
    _case("nsclc-ros1-paclitaxel", "1961-03-01", fusion("nsclc-ros1-paclitaxel", "ROS1", "CD74")),
    _case(
        "nsclc-ros1-paclitaxel-on-entrectinib",
        "1961-03-02",
        fusion("nsclc-ros1-paclitaxel-on-entrectinib", "ROS1", "CD74"),
        on=[("MedicationRequest", "entrectinib")],
    ),
    _case(
        "nsclc-braf-v600e-paclitaxel",
        "1961-03-03",
        variant("nsclc-braf-v600e-paclitaxel", "BRAF", protein="p.Val600Glu", dna="c.1799T>A"),
    ),
    _case(
        "nsclc-braf-v600k-paclitaxel",
        "1961-03-04",
        variant("nsclc-braf-v600k-paclitaxel", "BRAF", protein="p.Val600Lys"),
    ),
    _case(
        "nsclc-met-ex14-paclitaxel",
        "1961-03-05",
        variant("nsclc-met-ex14-paclitaxel", "MET", dna="MET exon 14 skipping"),
    ),
    _case(
        "nsclc-met-ex14-negative-paclitaxel",
        "1961-03-06",
        variant(
            "nsclc-met-ex14-negative-paclitaxel", "MET", found=ABSENT, dna="MET exon 14 skipping"
        ),
    ),
    _case("nsclc-ret-paclitaxel", "1961-03-07", fusion("nsclc-ret-paclitaxel", "RET", "KIF5B")),
    _case(
        "nsclc-ret-paclitaxel-on-selpercatinib",
        "1961-03-08",
        fusion("nsclc-ret-paclitaxel-on-selpercatinib", "RET", "KIF5B"),
        on=[("MedicationRequest", "selpercatinib")],
    ),
    _case(
        "nsclc-kras-g12c-paclitaxel",
        "1961-03-09",
        variant("nsclc-kras-g12c-paclitaxel", "KRAS", protein="p.Gly12Cys", dna="c.34G>T"),
    ),
    _case(
        "nsclc-kras-g12c-paclitaxel-on-sotorasib",
        "1961-03-10",
        variant("nsclc-kras-g12c-paclitaxel-on-sotorasib", "KRAS", protein="p.Gly12Cys"),
        on=[("MedicationRequest", "sotorasib")],
    ),
    _case(
        "nsclc-kras-g12d-paclitaxel",
        "1961-03-11",
        variant("nsclc-kras-g12d-paclitaxel", "KRAS", protein="p.Gly12Asp"),
    ),
    _case("nsclc-ntrk-paclitaxel", "1961-03-12", fusion("nsclc-ntrk-paclitaxel", "NTRK3", "ETV6")),
    _case(
        "nsclc-ntrk-stage-ii-paclitaxel",
        "1961-03-13",
        fusion("nsclc-ntrk-stage-ii-paclitaxel", "NTRK3", "ETV6"),
        STAGE_IIB,
    ),
)

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "nsclc-egfr-stage-iv-paclitaxel.order-sign": [(RULE, "warning", "EGFR, advanced NSCLC")],
    "nsclc-egfr-stage-iv-paclitaxel-on-osimertinib.order-sign": [],
    "nsclc-egfr-stage-ii-paclitaxel.order-sign": [],
    "nsclc-ros1-paclitaxel.order-sign": [
        (RULE, "warning", "options: crizotinib, entrectinib, repotrectinib")
    ],
    "nsclc-ros1-paclitaxel-on-entrectinib.order-sign": [],
    "nsclc-braf-v600e-paclitaxel.order-sign": [
        (RULE, "warning", "options: dabrafenib, trametinib, encorafenib, binimetinib")
    ],
    "nsclc-braf-v600k-paclitaxel.order-sign": [],
    "nsclc-met-ex14-paclitaxel.order-sign": [(RULE, "warning", "options: capmatinib, tepotinib")],
    "nsclc-met-ex14-negative-paclitaxel.order-sign": [],
    "nsclc-ret-paclitaxel.order-sign": [(RULE, "warning", "options: selpercatinib, pralsetinib")],
    "nsclc-ret-paclitaxel-on-selpercatinib.order-sign": [],
    "nsclc-kras-g12c-paclitaxel.order-sign": [
        (KRAS_RULE, "info", "first line as without a driver; sotorasib, adagrasib after")
    ],
    "nsclc-kras-g12c-paclitaxel-on-sotorasib.order-sign": [],
    "nsclc-kras-g12d-paclitaxel.order-sign": [],
    "nsclc-ntrk-paclitaxel.order-sign": [
        (RULE, "warning", "options: larotrectinib, entrectinib, repotrectinib")
    ],
    "nsclc-ntrk-stage-ii-paclitaxel.order-sign": [],
}
