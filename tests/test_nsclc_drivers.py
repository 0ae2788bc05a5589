"""NSCLC drivers beyond EGFR and ALK read from results as labs write them (issue 15).

Each driver of rules/knowledge/biomarkers.yaml (ROS1, BRAF V600E, MET exon 14 skipping, RET
fusion, NTRK fusion, KRAS G12C) is read from the notations labs send: protein and cDNA HGVS,
words, a gene coded by its HGNC id alone, a fusion typed by Sequence Ontology or named by its
two genes. A change of the same gene that is not the driver is never read as it. At stage IV
lung cancer each one offers the drugs its FDA labels name.
"""

from __future__ import annotations

from typing import Any

import pytest

from cds_service.ruleset.compiled import RuleSet
from tests.fixture_cases_biomarkers import variant
from tests.fixture_cases_nsclc_orders import fusion
from tests.test_biomarker_extent import COLON, marker
from tests.test_care import NSCLC, STAGE_IV


def _id_only(observation: dict[str, Any]) -> dict[str, Any]:
    """The gene coded by its HGNC id alone, no display (as some lab systems send it)."""
    for coding in observation["component"][0]["valueCodeableConcept"]["coding"]:
        coding.pop("display", None)
    return observation


def _bare_fusion(gene: str) -> dict[str, Any]:
    """One gene and the change type gene_fusion, no partner named."""
    found = fusion("1", gene, "ETV6")
    del found["component"][1]  # the partner gene
    return found


@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("KRAS G12C", variant("1", "KRAS", protein="NP_004976.2:p.Gly12Cys")),
        ("KRAS G12C", variant("1", "KRAS", protein="p.G12C")),
        ("KRAS G12C", variant("1", "KRAS", dna="NM_004985.5:c.34G>T")),
        ("KRAS G12C", _id_only(variant("1", "KRAS", protein="p.Gly12Cys"))),
        ("BRAF V600E", variant("1", "BRAF", dna="NM_004333.6:c.1799T>A")),
        ("EGFR", variant("1", "EGFR", dna="NM_005228.5:c.2573T>G")),
        ("MET exon 14", variant("1", "MET", dna="MET exon 14 skipping")),
        ("MET exon 14", variant("1", "MET", protein="METex14")),
        ("MET exon 14", _id_only(variant("1", "MET", dna="exon 14 skipping mutation"))),
        ("ROS1", fusion("1", "ROS1", "CD74")),
        ("ROS1", _bare_fusion("ROS1")),
        ("RET fusion", fusion("1", "RET", "KIF5B")),
        ("RET fusion", _bare_fusion("RET")),
        ("NTRK fusion", fusion("1", "NTRK3", "ETV6")),
        ("NTRK fusion", _bare_fusion("NTRK1")),
        ("NTRK fusion", _id_only(_bare_fusion("NTRK2"))),
    ],
    ids=[
        "kras-p-hgvs-3-letter",
        "kras-p-1-letter",
        "kras-c-hgvs",
        "kras-hgnc-id-only",
        "braf-c-hgvs",
        "egfr-c-hgvs",
        "met-words",
        "met-ex14",
        "met-hgnc-id-only",
        "ros1-two-genes",
        "ros1-so-type",
        "ret-two-genes",
        "ret-so-type",
        "ntrk3-two-genes",
        "ntrk1-so-type",
        "ntrk2-hgnc-id-only",
    ],
)
def test_driver_is_read_from_the_notations_labs_use(rule_set: RuleSet, name, result):
    assert marker(rule_set, name, [NSCLC, result, STAGE_IV]).status == "present"


@pytest.mark.parametrize(
    ("name", "result"),
    [
        ("KRAS G12C", variant("1", "KRAS", protein="p.Gly12Asp")),
        ("KRAS G12C", variant("1", "KRAS", dna="c.35G>T")),  # G12V
        ("MET exon 14", variant("1", "MET", dna="MET amplification")),
        ("RET fusion", variant("1", "RET", protein="p.Met918Thr")),  # medullary thyroid
        ("ROS1", variant("1", "ROS1", protein="p.Gly2032Arg")),  # a resistance mutation
    ],
    ids=["kras-g12d", "kras-g12v", "met-amplification", "ret-m918t", "ros1-g2032r"],
)
def test_another_change_of_the_gene_is_not_the_driver(rule_set: RuleSet, name, result):
    found = marker(rule_set, name, [NSCLC, result, STAGE_IV])
    assert found.status == "not interpreted"  # never present, never a pertinent negative
    assert found.drugs is None


@pytest.mark.parametrize(
    ("name", "result", "drugs"),
    [
        ("ROS1", fusion("1", "ROS1", "CD74"), "crizotinib, entrectinib, repotrectinib"),
        (
            "BRAF V600E",
            variant("1", "BRAF", protein="p.Val600Glu"),
            "dabrafenib, trametinib, encorafenib, binimetinib",
        ),
        ("MET exon 14", variant("1", "MET", dna="exon 14 skipping"), "capmatinib, tepotinib"),
        ("RET fusion", fusion("1", "RET", "KIF5B"), "selpercatinib, pralsetinib"),
        ("NTRK fusion", fusion("1", "NTRK3", "ETV6"), "larotrectinib, entrectinib, repotrectinib"),
        ("KRAS G12C", variant("1", "KRAS", protein="p.Gly12Cys"), "sotorasib, adagrasib"),
    ],
    ids=["ros1", "braf-v600e", "met", "ret", "ntrk", "kras-g12c"],
)
def test_stage_iv_lung_cancer_is_offered_the_labelled_drugs(rule_set: RuleSet, name, result, drugs):
    found = marker(rule_set, name, [NSCLC, result, STAGE_IV])
    assert (found.drugs, found.drugs_if_advanced) == (drugs, None)
    assert found.source  # the labels the card cites


def test_kras_g12c_source_says_it_is_not_first_line(rule_set: RuleSet):
    kras = marker(rule_set, "KRAS G12C", [NSCLC, variant("1", "KRAS", protein="G12C"), STAGE_IV])
    assert "at least one prior systemic therapy" in (kras.source or "")


def test_ntrk_fusion_is_matched_at_any_site_and_kras_g12c_in_lung_only(rule_set: RuleSet):
    ntrk = marker(rule_set, "NTRK fusion", [COLON, fusion("1", "NTRK1", "ETV6"), STAGE_IV])
    assert ntrk.drugs == "larotrectinib, entrectinib, repotrectinib"  # tumour-agnostic labels
    kras = marker(rule_set, "KRAS G12C", [COLON, variant("1", "KRAS", protein="G12C"), STAGE_IV])
    assert kras.status == "present"
    assert kras.drugs is None
