"""Label currency of the biomarker tables (the clinical review, LOW; FDA labels 2024-2026).

HER2-ultralow is told apart from HER2-low and from a plain negative; nivolumab with ipilimumab
needs MSI-H or dMMR in colorectal cancer; osimertinib is allowed by T790M, which does not allow
gefitinib. A drug tied to two separate biomarkers (osimertinib: EGFR sensitizing or T790M;
crizotinib: ALK or ROS1; entrectinib: ROS1 or NTRK) is never read as "negative" while one of
them is untested; MSI-H, dMMR and TMB-H, one property, keep a negative MSI as the answer.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.ruleset.compiled import RuleSet
from tests.fixture_cases_biomarkers import ABSENT, msi, variant
from tests.fixture_cases_nsclc_orders import fusion
from tests.test_biomarkers import cancer, draft, markers, read, targeted

PT = "pt-x"
LUNG = cancer(PT, "Non-small cell lung cancer")
COLON = cancer(PT, "Colon cancer")
T790M = {"protein": "NP_005219.2:p.Thr790Met", "dna": "NM_005228.4:c.2369C>T"}


def her2(text: str) -> dict[str, Any]:
    """HER2 coded negative with the lab's words, as tests/fixture_cases_biomarkers.her2_low."""
    value = {"coding": [{"system": "http://loinc.org", "code": "LA6577-6"}], "text": text}
    return {
        "resourceType": "Observation",
        "id": "her2",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "48676-1"}]},
        "subject": {"reference": f"Patient/{PT}"},
        "valueCodeableConcept": value,
    }


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("HER2-ultralow (IHC 0 with membrane staining)", "HER2-ultralow"),
        ("HER2 IHC >0 <1+", "HER2-ultralow"),
        ("HER2-low: IHC 1+", "HER2-low"),
        ("IHC 2+, FISH not amplified", "HER2-low"),
        ("IHC 0, no staining", None),
    ],
)
def test_her2_ultralow_is_its_own_category(rule_set: RuleSet, text: str, category: str | None):
    order = targeted(read(rule_set, PT, [her2(text)], [draft(PT, "trastuzumab")]))
    assert (order.status, order.category) == ("negative", category)


def test_t790m_allows_osimertinib_but_not_gefitinib(rule_set: RuleSet):
    found = [variant("x", "EGFR", **T790M), LUNG]
    osimertinib = targeted(read(rule_set, PT, found, [draft(PT, "osimertinib")]))
    assert (osimertinib.biomarker, osimertinib.status) == ("EGFR T790M", "present")
    gefitinib = targeted(read(rule_set, PT, found, [draft(PT, "gefitinib")]))
    assert (gefitinib.biomarker, gefitinib.status) == ("EGFR", "not interpreted")
    assert markers(read(rule_set, PT, found))["EGFR T790M"].drugs_if_advanced == "osimertinib"


def test_a_t790m_pertinent_negative_leaves_the_sensitizing_mutation_to_test(rule_set: RuleSet):
    t790m_absent = variant("x", "EGFR", found=ABSENT, protein="p.Thr790Met")
    order = targeted(read(rule_set, PT, [t790m_absent, LUNG], [draft(PT, "osimertinib")]))
    assert (order.biomarker, order.status) == ("EGFR", "not on file")
    assert (order.negative or "").startswith("EGFR T790M:")
    assert "Observation/var-x-egfr" in order.sources


def test_a_sensitizing_pertinent_negative_leaves_t790m_to_test(rule_set: RuleSet):
    l858r_absent = variant("x", "EGFR", found=ABSENT, protein="p.Leu858Arg")
    order = targeted(read(rule_set, PT, [l858r_absent, LUNG], [draft(PT, "osimertinib")]))
    assert (order.biomarker, order.status) == ("EGFR T790M", "not on file")
    assert (order.negative or "").startswith("EGFR:")


def test_an_egfr_gene_negative_answers_for_both(rule_set: RuleSet):
    gene_absent = variant("x", "EGFR", found=ABSENT)
    order = targeted(read(rule_set, PT, [gene_absent, LUNG], [draft(PT, "osimertinib")]))
    assert (order.status, order.negative) == ("negative", None)


@pytest.mark.parametrize(
    ("drug", "resources", "biomarker", "status"),
    [
        ("crizotinib", [variant("x", "ALK", found=ABSENT)], "ROS1", "not on file"),
        ("crizotinib", [], "ALK", "not on file"),
        ("crizotinib", [variant("x", "ALK", found=ABSENT), fusion("x", "ROS1", "CD74")], "ROS1",
         "present"),
        ("crizotinib", [variant("x", "ALK", found=ABSENT), variant("x", "ROS1", found=ABSENT)],
         "ALK", "negative"),
        ("entrectinib", [variant("x", "ROS1", found=ABSENT)], "NTRK fusion", "not on file"),
        ("capmatinib", [], "MET exon 14", "not on file"),
        ("selpercatinib", [], "RET fusion", "not on file"),
        ("larotrectinib", [], "NTRK fusion", "not on file"),
        ("sotorasib", [variant("x", "KRAS", protein="p.Gly12Asp")], "KRAS G12C",
         "not interpreted"),
    ],
)  # fmt: skip
def test_nsclc_driver_drugs_need_their_biomarker(
    rule_set: RuleSet, drug: str, resources: list, biomarker: str, status: str
):
    order = targeted(read(rule_set, PT, [*resources, LUNG], [draft(PT, drug)]))
    assert (order.biomarker, order.status) == (biomarker, status)


def test_entrectinib_outside_the_lung_needs_ntrk_only(rule_set: RuleSet):
    thyroid = cancer(PT, "Papillary thyroid cancer")
    ntrk_absent = variant("x", "NTRK1", found=ABSENT)
    order = targeted(read(rule_set, PT, [ntrk_absent, thyroid], [draft(PT, "entrectinib")]))
    assert (order.accepted, order.status) == ("NTRK fusion", "negative")


@pytest.mark.parametrize("drug", ["nivolumab", "ipilimumab", "pembrolizumab"])
def test_a_stable_msi_answers_for_colorectal_immunotherapy(rule_set: RuleSet, drug: str):
    stable = msi("x", "stable") | {"subject": {"reference": f"Patient/{PT}"}}
    order = targeted(read(rule_set, PT, [stable, COLON], [draft(PT, drug)]))
    assert (order.biomarker, order.status, order.negative) == ("MSI-H", "negative", None)


def test_nivolumab_needs_no_msi_for_lung_cancer(rule_set: RuleSet):
    found = read(rule_set, PT, [LUNG], [draft(PT, "Opdivo")])
    assert not [f for f in found if type(f).__name__ == "TargetedOrder"]
