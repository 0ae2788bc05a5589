"""Genomic variants and biomarkers read from the published examples and the shapes labs send.

The examples in ``fixtures/fhir/biomarker-examples/`` are copied unchanged from the mCODE 4.0.0
and Genomics Reporting 3.0.0 packages (``fixtures/fhir/PROVENANCE.md``).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from cds_service import facts
from cds_service.facts import variants
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import fixture_json
from tests.fixture_cases_biomarkers import GERMLINE, SOMATIC, variant
from tests.test_facts import TODAY, condition
from tests.test_facts import order as medication_request

SOMATIC_PATIENT = "somaticPatient"
ADAM = "gx-cancer-patient-adam-anyperson"
JOHN = "cancer-patient-john-anyperson"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"


def example(name: str) -> dict[str, Any]:
    return fixture_json(f"biomarker-examples/{name}.json")


def adam(*ids: str) -> list[dict[str, Any]]:
    """Observations of the mCODE GenomeX Bundle by id (all of them when none is named)."""
    bundle = example("Bundle-gx-genomic-bundle-adam-anyperson")
    found = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Observation"
    ]
    return [r for r in found if not ids or r["id"] in ids]


def egfr_l858r() -> list[dict[str, Any]]:
    """The STU3 somatic example: the variant, its significance and a gefitinib implication."""
    names = ("EGFR-L858R-var", "EGFR-L858R-significance", "EGFR-L858R-therapuDrug1")
    return [example(f"Observation-{name}") for name in names]


def cancer(patient: str, text: str) -> dict[str, Any]:
    return condition("c1", text, subject={"reference": f"Patient/{patient}"})


def draft(patient: str, drug: str) -> dict[str, Any]:
    return medication_request({"text": drug}, subject={"reference": f"Patient/{patient}"})


def read(rule_set: RuleSet, patient: str, resources, orders=()) -> list[facts.Fact]:
    record = PatientRecord(patient, None, list(resources), list(orders))
    return facts.extract(record, rule_set.knowledge, TODAY)


def markers(found: list[facts.Fact]) -> dict[str, facts.BiomarkerResult]:
    return {f.biomarker: f for f in found if isinstance(f, facts.BiomarkerResult)}


def targeted(found: list[facts.Fact]) -> facts.TargetedOrder:
    (order,) = [f for f in found if isinstance(f, facts.TargetedOrder)]
    return order


def unreadable(found: list[facts.Fact]) -> list[facts.Unreadable]:
    return [f for f in found if isinstance(f, facts.Unreadable)]


def test_stu3_variant_with_its_significance_and_implication(rule_set: RuleSet):
    record = PatientRecord(SOMATIC_PATIENT, None, egfr_l858r(), [])
    (read_variant,), broken = variants.read(record, rule_set.knowledge)
    assert broken == []
    assert read_variant.genes == ("EGFR",)
    assert read_variant.found == variants.PRESENT
    assert "NP_005219.2:p.Leu858Arg" in read_variant.changes
    assert (read_variant.origin, read_variant.significance) == ("somatic", "pathogenic")
    assert read_variant.responsive == {"gefitinib"}
    assert set(read_variant.interpreted_by) == {
        "Observation/EGFR-L858R-significance",
        "Observation/EGFR-L858R-therapuDrug1",
    }


def test_egfr_l858r_in_nsclc_names_the_egfr_inhibitors(rule_set: RuleSet):
    found = read(
        rule_set,
        SOMATIC_PATIENT,
        [*egfr_l858r(), cancer(SOMATIC_PATIENT, "Non-small cell lung cancer")],
    )
    egfr = markers(found)["EGFR"]
    assert (egfr.status, egfr.site, egfr.basis) == ("present", "lung", "variant")
    assert egfr.extent == "unknown"  # no staging: the metastatic-only inhibitors are apart
    assert (egfr.drugs, egfr.drugs_if_advanced) == ("osimertinib", "erlotinib, gefitinib")
    assert egfr.on_therapy is None
    assert "Observation/EGFR-L858R-var" in egfr.sources
    assert unreadable(found) == []  # the gefitinib implication is not a PGx result gone wrong


def test_a_matched_drug_on_file_is_named(rule_set: RuleSet):
    osimertinib = {
        "resourceType": "MedicationStatement",
        "id": "osi",
        "status": "active",
        "subject": {"reference": f"Patient/{SOMATIC_PATIENT}"},
        "medicationCodeableConcept": {"text": "Tagrisso 80 mg"},
    }
    resources = [*egfr_l858r(), cancer(SOMATIC_PATIENT, "Lung cancer"), osimertinib]
    egfr = markers(read(rule_set, SOMATIC_PATIENT, resources))["EGFR"]
    assert egfr.on_therapy == "osimertinib (MedicationStatement/osi)"


def test_mcode_met_alk_fusion_is_alk_and_the_pertinent_negatives_are_negative(rule_set):
    found = read(rule_set, ADAM, [*adam(), cancer(ADAM, "Non-small cell lung cancer")])
    read_markers = markers(found)
    alk = read_markers["ALK"]
    assert (alk.status, alk.origin, alk.basis) == ("present", "somatic", "variant")
    assert alk.result == "MET, ALK complex chromosomal rearrangement (somatic)"
    assert alk.drugs == "alectinib"  # adjuvant too; the others need metastatic disease
    assert alk.drugs_if_advanced == "brigatinib, lorlatinib, crizotinib, ceritinib"
    for braf in ("BRAF V600E", "BRAF V600K"):
        assert read_markers[braf].status == "negative"
        assert read_markers[braf].drugs is None
    assert read_markers["TMB-H"].status == "present"  # 57.1 mut/Mb
    assert "EGFR" not in read_markers  # BAP1, CDKN2A... are read and name no biomarker
    assert unreadable(found) == []


def without(resources: list[dict[str, Any]], ident: str, *words: str) -> list[dict[str, Any]]:
    """``resources`` with the components of ``ident`` that mention any of ``words`` removed."""
    edited = copy.deepcopy(resources)
    for resource in edited:
        if resource["id"] == ident:
            kept = [c for c in resource["component"] if not any(w in str(c) for w in words)]
            resource["component"] = kept
    return edited


def test_a_variant_naming_alk_and_a_partner_gene_is_a_fusion(rule_set: RuleSet):
    untyped = without(adam(), "gx-genomic-variant-fusion-met-alk", "48019-4")
    alk = markers(read(rule_set, ADAM, untyped))["ALK"]
    assert (alk.status, alk.basis) == ("present", "variant")


def test_a_lab_implication_makes_an_unmatched_variant_the_biomarker(rule_set: RuleSet):
    """ALK alone, no change type: the five "presumed responsive" implications decide."""
    alone = without(adam(), "gx-genomic-variant-fusion-met-alk", "48019-4", "MET")
    alk = markers(read(rule_set, ADAM, alone))["ALK"]
    assert (alk.status, alk.basis) == ("present", "lab implication")
    no_implications = [r for r in alone if not r["id"].startswith("gx-genomic-therapeutic")]
    assert markers(read(rule_set, ADAM, no_implications))["ALK"].status == "not interpreted"


def test_mcode_msi_example_is_msi_high(rule_set: RuleSet):
    msi = example("Observation-gx-genomic-msi")
    found = markers(read(rule_set, ADAM, [msi, cancer(ADAM, "Colon cancer")]))
    assert (found["MSI-H"].status, found["MSI-H"].site) == ("present", "colon")
    # pembrolizumab (KEYNOTE-177) and nivolumab with ipilimumab (CheckMate 8HW), advanced only
    held = "pembrolizumab, nivolumab, ipilimumab"
    assert (found["MSI-H"].drugs, found["MSI-H"].drugs_if_advanced) == (None, held)


@pytest.mark.parametrize(
    ("value", "status"), [(57.1, "present"), (10, "present"), (9.9, "negative")]
)
def test_tmb_high_from_ten_mutations_per_megabase(rule_set: RuleSet, value: float, status: str):
    (tmb,) = copy.deepcopy(adam("gx-genomic-tmb"))
    tmb["valueQuantity"]["value"] = value
    assert markers(read(rule_set, ADAM, [tmb]))["TMB-H"].status == status


def test_germline_brca1_needs_its_significance(rule_set: RuleSet):
    deletion = example("Observation-genomic-variant-germline-deletion")
    breast = cancer(JOHN, "Breast cancer")
    brca = markers(read(rule_set, JOHN, [deletion, breast]))["BRCA1/2"]
    assert (brca.status, brca.origin) == ("not interpreted", "germline")
    assert "clinical significance not stated" in brca.result
    significance = example("Observation-EGFR-L858R-significance")
    significance |= {
        "subject": {"reference": f"Patient/{JOHN}"},
        "derivedFrom": [{"reference": "Observation/genomic-variant-germline-deletion"}],
    }
    brca = markers(read(rule_set, JOHN, [deletion, significance, breast]))["BRCA1/2"]
    assert (brca.status, brca.drugs) == ("present", "olaparib")
    uncertain = copy.deepcopy(significance)
    answer = uncertain["component"][0]["valueCodeableConcept"]["coding"][0]
    answer |= {"code": "LA26333-7", "display": "Uncertain significance"}
    brca = markers(read(rule_set, JOHN, [deletion, uncertain, breast]))["BRCA1/2"]
    assert brca.status == "negative"


def pathogenic_brca1(origin: tuple[str, str]) -> list[dict[str, Any]]:
    found = variant("x", "BRCA1", dna="c.68_69del", origin=origin)
    significance = example("Observation-EGFR-L858R-significance") | {
        "subject": {"reference": "Patient/pt-x"},
        "derivedFrom": [{"reference": f"Observation/{found['id']}"}],
    }
    return [found, significance]


def test_a_somatic_brca_variant_is_not_matched_to_olaparib_in_breast_cancer(rule_set):
    somatic = pathogenic_brca1(SOMATIC)
    for site, drugs in (("Breast cancer", None), ("Ovarian cancer", "olaparib")):
        brca = markers(read(rule_set, "pt-x", [*somatic, cancer("pt-x", site)]))
        assert brca["BRCA1/2"].drugs == drugs, site


@pytest.mark.parametrize(
    ("origin", "status"), [(SOMATIC, "not interpreted"), (GERMLINE, "present")]
)
def test_olaparib_for_breast_cancer_needs_a_germline_variant(rule_set, origin, status):
    resources = [*pathogenic_brca1(origin), cancer("pt-x", "Breast cancer")]
    order = targeted(read(rule_set, "pt-x", resources, [draft("pt-x", "Lynparza")]))
    assert order.status == status


def test_a_variant_of_a_gene_no_biomarker_names_gives_nothing(rule_set: RuleSet):
    stk11 = example("Observation-genomic-variant-somatic-single-nucleotide")
    found = read(rule_set, JOHN, [stk11, cancer(JOHN, "Lung cancer")])
    assert markers(found) == {}
    assert unreadable(found) == []


@pytest.mark.parametrize(
    ("protein", "status"),
    [
        ("p.Glu746_Ala750del", "present"),  # exon 19 deletion
        ("p.(Leu747_Pro753delinsSer)", "present"),
        ("E746_S752delinsV", "present"),
        ("p.Leu858Arg", "present"),
        ("p.Thr790Met", "not interpreted"),  # a resistance mutation alone
        ("p.Ala767_Val769dup", "not interpreted"),  # exon 20 insertion
        ("p.Gly719Ser", "not interpreted"),
    ],
)
def test_egfr_changes(rule_set: RuleSet, protein: str, status: str):
    found = read(rule_set, "pt-x", [variant("x", "EGFR", protein=protein)])
    assert markers(found)["EGFR"].status == status


def test_a_pertinent_negative_for_another_change_is_not_a_negative(rule_set: RuleSet):
    t790m = variant("x", "EGFR", protein="p.Thr790Met", found=("LA9634-2", "Absent"))
    order = draft("pt-x", "osimertinib")
    assert targeted(read(rule_set, "pt-x", [t790m], [order])).status == "not on file"
    gene_only = variant("x", "EGFR", found=("LA9634-2", "Absent"))
    assert targeted(read(rule_set, "pt-x", [gene_only], [order])).status == "negative"


def test_a_present_variant_wins_over_a_negative_one(rule_set: RuleSet):
    negative = variant("x", "EGFR", found=("LA9634-2", "Absent")) | {"id": "negative"}
    positive = variant("x", "EGFR", protein="p.Leu858Arg")
    order = draft("pt-x", "osimertinib")
    assert targeted(read(rule_set, "pt-x", [negative, positive], [order])).status == "present"


def test_an_unreadable_variant_is_said_and_leaves_the_biomarker_not_interpreted(rule_set):
    broken = variant("x", "EGFR", protein="p.Leu858Arg") | {"effectiveDateTime": "yesterday"}
    found = read(rule_set, "pt-x", [broken], [draft("pt-x", "Tagrisso")])
    (note,) = unreadable(found)
    assert (note.gene, note.biomarker, note.resource) == ("EGFR", "EGFR", "Observation/var-x-egfr")
    order = targeted(found)
    assert (order.status, order.ingredient) == ("not interpreted", "osimertinib")
    assert "could not be read" in order.result


def test_a_variant_naming_no_gene_is_unreadable(rule_set: RuleSet):
    nameless = variant("x", "EGFR", protein="p.Leu858Arg")
    nameless["component"] = nameless["component"][1:]
    (note,) = unreadable(read(rule_set, "pt-x", [nameless]))
    assert (note.gene, note.biomarker) == (None, None)
    assert "no gene-studied component" in note.reason


def test_another_patients_variant_is_not_used(rule_set: RuleSet):
    (note,) = unreadable(read(rule_set, "pt-y", [variant("x", "EGFR", protein="p.Leu858Arg")]))
    assert "subject is Patient/pt-x" in note.reason


def test_mcode_gefitinib_order_without_an_egfr_mutation_on_file(rule_set: RuleSet):
    """John Anyperson's EGFR protein (IHC 39004-7) result is not an EGFR mutation result."""
    gefitinib = example("MedicationRequest-cancer-related-medication-request-gefitinib")
    protein = example("Observation-tumor-marker-test-egf")
    nsclc = cancer(JOHN, "Non-small cell lung cancer")
    order = targeted(read(rule_set, JOHN, [protein, nsclc], [gefitinib]))
    assert (order.ingredient, order.biomarker, order.status) == ("gefitinib", "EGFR", "not on file")
    assert order.site == "lung"


def test_erlotinib_needs_egfr_only_for_lung_cancer(rule_set: RuleSet):
    order = draft("pt-x", "erlotinib")
    assert targeted(read(rule_set, "pt-x", [cancer("pt-x", "Lung cancer")], [order])).site == "lung"
    pancreas = read(rule_set, "pt-x", [cancer("pt-x", "Pancreatic cancer")], [order])
    assert [f for f in pancreas if isinstance(f, facts.TargetedOrder)] == []


def her2(code: str | None, text: str) -> dict[str, Any]:
    value: dict[str, Any] = {"text": text}
    if code:
        value["coding"] = [{"system": "http://loinc.org", "code": code}]
    return {
        "resourceType": "Observation",
        "id": "her2",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85319-2"}]},
        "subject": {"reference": "Patient/pt-x"},
        "valueCodeableConcept": value,
    }


@pytest.mark.parametrize(
    ("code", "text", "status", "category"),
    [
        ("LA6576-8", "Positive", "present", None),
        (None, "IHC 3+", "present", None),
        (None, "IHC 2+, FISH amplified", "present", None),
        ("LA6577-6", "HER2-low (IHC 1+)", "negative", "HER2-low"),
        (None, "IHC 2+, FISH not amplified", "negative", "HER2-low"),
        ("LA6577-6", "Negative (IHC 0)", "negative", None),
        (None, "IHC 2+, ISH pending", "not interpreted", None),
    ],
)
def test_her2_status_and_her2_low(rule_set, code, text, status, category):
    order = targeted(read(rule_set, "pt-x", [her2(code, text)], [draft("pt-x", "Herceptin")]))
    assert (order.status, order.category) == (status, category)


def test_trastuzumab_deruxtecan_is_not_read_as_trastuzumab(rule_set: RuleSet):
    for text in ("Enhertu 100 mg", "fam-trastuzumab deruxtecan-nxki", "trastuzumab deruxtecan"):
        found = read(rule_set, "pt-x", [], [draft("pt-x", text)])
        assert [f for f in found if isinstance(f, facts.TargetedOrder)] == [], text


def test_a_test_already_ordered_is_named(rule_set: RuleSet):
    request = {
        "resourceType": "ServiceRequest",
        "id": "sr1",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pt-x"},
        "code": {"text": "EGFR mutation analysis"},
    }
    order = targeted(read(rule_set, "pt-x", [request], [draft("pt-x", "osimertinib")]))
    assert (order.status, order.test_ordered) == ("not on file", "ServiceRequest/sr1 (active)")


def mmr(answer: str) -> dict[str, Any]:
    """An MMR immunohistochemistry result, read by its words (no code for it was verified)."""
    return {
        "resourceType": "Observation",
        "id": "mmr",
        "status": "final",
        "code": {"text": "Mismatch repair protein IHC"},
        "subject": {"reference": f"Patient/{ADAM}"},
        "valueCodeableConcept": {"text": answer},
    }


def test_dmmr_by_immunohistochemistry_allows_pembrolizumab(rule_set: RuleSet):
    colon = cancer(ADAM, "Colon cancer")
    found = read(rule_set, ADAM, [mmr("MMR deficient"), colon], [draft(ADAM, "pembrolizumab")])
    assert (markers(found)["dMMR"].status, markers(found)["dMMR"].drugs_if_advanced) == (
        "present",
        "pembrolizumab, nivolumab, ipilimumab",
    )
    assert (targeted(found).biomarker, targeted(found).status) == ("dMMR", "present")
    proficient = read(rule_set, ADAM, [mmr("MMR intact"), colon], [draft(ADAM, "pembrolizumab")])
    assert markers(proficient)["dMMR"].status == "negative"
    assert (targeted(proficient).biomarker, targeted(proficient).status) == ("dMMR", "negative")


def test_an_unreadable_variant_takes_its_gene_only_from_the_gene_component(rule_set: RuleSet):
    """A change written "L858R" looks like a gene symbol; it must not name the gene."""
    broken = variant("x", "EGFR", protein="p.Leu858Arg") | {"effectiveDateTime": "yesterday"}
    broken["component"] = broken["component"][1:]  # no gene-studied component
    broken["component"][0]["valueCodeableConcept"] = {"coding": [{"display": "L858R"}]}
    (note,) = unreadable(read(rule_set, "pt-x", [broken]))
    assert (note.gene, note.biomarker) == (None, None)


@pytest.mark.parametrize(
    ("site", "status"),
    [("Melanoma of skin", "present"), ("Lung cancer", "not interpreted")],
)
def test_braf_v600k_is_accepted_for_dabrafenib_in_melanoma_only(
    rule_set: RuleSet, site: str, status: str
):
    """The labels name V600K in melanoma; NSCLC and the other indications name V600E."""
    v600k = variant("x", "BRAF", protein="p.Val600Lys")
    order = draft("pt-x", "dabrafenib")
    found = targeted(read(rule_set, "pt-x", [v600k, cancer("pt-x", site)], [order]))
    assert found.status == status
