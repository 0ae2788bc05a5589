"""The extent of disease decides which matched drugs a biomarker fact offers.

Drugs the biomarker table marks ``extent: advanced`` are offered (``drugs``) only when the
record shows advanced cancer; otherwise they are held apart (``drugs_if_advanced``), whether
staging shows the cancer is not advanced or no staging is on file (unknown, never early). The
fixture cases (tests/fixture_cases_biomarkers.py) show the cards; these tests pin the facts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cds_service import facts
from cds_service.ruleset.compiled import RuleSet
from tests.fixture_cases_biomarkers import EGFR_L858R, msi, variant
from tests.test_care import NSCLC, SECONDARY, STAGE_IV, condition, extract, snomed, staging
from tests.test_rule_files import edit, problems

COLON = condition("c1", "Malignant tumor of colon", "363406005", onsetDateTime="2026-09-01")
MSI_H = msi("1", "MSI-H")  # the subject is Patient/pt-1, as the test_care helpers write
STAGE_IIB = staging("sg2", "399588009", snomed("1222769001"), effectiveDateTime="2026-09-20")
PT3 = staging("pt", "384625004", snomed("1229859000"))
PN0 = staging("pn", "371494008", snomed("1229947003"))
PNX = staging("pn", "371494008", snomed("1229945006"))
MSI_DRUGS = "pembrolizumab, nivolumab, ipilimumab"
"""Colorectal MSI-H: Keytruda (KEYNOTE-177) and Opdivo + Yervoy (CheckMate 8HW), advanced only."""


def marker(rule_set: RuleSet, name: str, resources: list[dict[str, Any]]) -> facts.BiomarkerResult:
    (found,) = [
        f
        for f in extract(rule_set, resources)
        if isinstance(f, facts.BiomarkerResult) and f.biomarker == name
    ]
    return found


@pytest.mark.parametrize(
    ("staged", "extent", "basis"),
    [
        pytest.param([], "unknown", None, id="no-staging"),
        pytest.param([PT3], "unknown", None, id="t-category-alone"),
        pytest.param([PT3, PNX], "unknown", None, id="nodes-not-assessed"),
        pytest.param(
            [staging("sg", "399537006", snomed("1222837003"), status="preliminary")],
            "unknown",
            None,
            id="preliminary-stage-iv",
        ),
        pytest.param([PT3, PN0], "not advanced", "primary tumor T3; nodes N0", id="pt3-pn0"),
        pytest.param(
            [STAGE_IIB], "not advanced", "stage group II (2026-09-20)", id="stage-group-iib"
        ),
        pytest.param(
            [staging("m", "399387003", snomed("1229901006"))],
            "not advanced",
            "metastases M0",
            id="cm0",
        ),
    ],
)
def test_without_advanced_cancer_pembrolizumab_is_held_apart(
    rule_set: RuleSet, staged: list, extent: str, basis: str | None
):
    msi_h = marker(rule_set, "MSI-H", [COLON, MSI_H, *staged])
    assert (msi_h.extent, msi_h.extent_basis) == (extent, basis)
    assert (msi_h.drugs, msi_h.drugs_if_advanced) == (None, MSI_DRUGS)


@pytest.mark.parametrize(
    ("staged", "basis"),
    [
        pytest.param([STAGE_IV], "stage group IV (2026-10-24)", id="stage-iv"),
        pytest.param(
            [staging("m", "399387003", snomed("1229903009"), effectiveDateTime="2026-10-01")],
            "metastases M1 (2026-10-01)",
            id="cm1",
        ),
        pytest.param(
            [
                condition(
                    "c2",
                    "Secondary malignant neoplasm of brain",
                    "94225005",
                    onsetDateTime="2026-10-02",
                    meta={"profile": [SECONDARY]},
                )
            ],
            "Secondary malignant neoplasm of brain (2026-10-02)",
            id="metastatic-condition",
        ),
        pytest.param(
            [
                PT3,
                PN0,
                STAGE_IIB,
                staging("m", "399387003", snomed("1229903009"), effectiveDateTime="2026-10-01"),
            ],
            "metastases M1 (2026-10-01)",
            id="m1-wins-over-stage-ii",
        ),
    ],
)
def test_advanced_cancer_offers_pembrolizumab(rule_set: RuleSet, staged: list, basis: str):
    msi_h = marker(rule_set, "MSI-H", [COLON, MSI_H, *staged])
    assert (msi_h.extent, msi_h.extent_basis) == ("advanced", basis)
    assert (msi_h.drugs, msi_h.drugs_if_advanced) == (MSI_DRUGS, None)
    assert staged[-1]["resourceType"] + "/" + staged[-1]["id"] in msi_h.sources


def test_stage_ii_nsclc_is_offered_osimertinib_and_not_the_metastatic_only_inhibitors(
    rule_set: RuleSet,
):
    stage_ii = staging("sg", "399588009", snomed("1222769001"))
    egfr = marker(rule_set, "EGFR", [NSCLC, variant("1", "EGFR", **EGFR_L858R), stage_ii])
    assert (egfr.drugs, egfr.drugs_if_advanced) == ("osimertinib", "erlotinib, gefitinib")
    assert "Observation/sg" in egfr.sources  # the staging the choice rests on is evidence
    assert "metastatic NSCLC" in (egfr.source or "")


@pytest.mark.parametrize(
    ("site", "drugs", "held"),
    [
        (("Malignant melanoma of skin", None), "dabrafenib, trametinib", None),  # adjuvant too
        (
            ("Non-small cell lung cancer", "254637007"),
            None,
            "dabrafenib, trametinib, encorafenib, binimetinib",  # Braftovi + Mektovi, 2023
        ),
        (("Malignant tumor of colon", "363406005"), None, "encorafenib, cetuximab"),
    ],
    ids=["melanoma", "nsclc", "colon"],
)
def test_braf_v600e_in_stage_ii_disease_by_site(rule_set: RuleSet, site, drugs, held):
    braf = variant("1", "BRAF", protein="p.Val600Glu")
    braf_v600e = marker(rule_set, "BRAF V600E", [condition("c1", *site), braf, STAGE_IIB])
    assert (braf_v600e.drugs, braf_v600e.drugs_if_advanced) == (drugs, held)


def test_a_held_apart_drug_that_is_active_is_the_matched_therapy_on_file(rule_set: RuleSet):
    keytruda = {
        "resourceType": "MedicationStatement",
        "id": "k",
        "status": "active",
        "subject": {"reference": "Patient/pt-1"},
        "medicationCodeableConcept": {"text": "Keytruda 200 mg"},
    }
    msi_h = marker(rule_set, "MSI-H", [COLON, MSI_H, keytruda])
    assert msi_h.extent == "unknown"
    assert msi_h.on_therapy == "pembrolizumab (MedicationStatement/k)"


def test_a_mistyped_extent_in_a_rule_is_refused(tmp_path: Path):
    """``extent: early`` would never match: the rule set refuses it with its line."""
    file = Path("biomarkers") / "matched-therapy.yaml"
    rules = edit(tmp_path, "        extent: not advanced\n", "        extent: early\n", file)
    (problem,) = problems(rules)
    assert problem.path == (rules / file).resolve()
    assert "extent 'early' is not among the disease extents" in problem.message
