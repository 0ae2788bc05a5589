"""The generated fixture patients: PGx phenotype rows, assay eligibility, dosing, ECOG.

Each case is a fictitious patient written compactly here and expanded into the same FHIR R4
shapes as the hand-written DPYD fixtures: a collection Bundle in ``fixtures/fhir/bundles/`` and
a ready CDS Hooks request in ``fixtures/fhir/requests/``, whose prefetch is the answer to each
of the service's templates from that Bundle. ``tests/test_fixtures.py`` checks that the files
on disk are what this module builds, so the two cannot drift apart.

Cases of one topic may live in their own module, ``tests/fixture_cases_<topic>.py``, with a
``CASES`` tuple of :class:`Case`; :func:`documents` finds every such module.

Regenerate after editing a case: ``.venv/bin/python -m tests.fixture_cases``.
"""

from __future__ import annotations

import importlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from cds_service.offline.bundles import answer_prefetch
from cds_service.ruleset.loader import load_rule_set

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "fhir"
TODAY = date(2026, 11, 21)
"""The day the fixture patients' ages and intervals are chosen for; tests fix the clock to it."""
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
HGNC = "http://www.genenames.org"
TBD = "http://hl7.org/fhir/uv/genomics-reporting/CodeSystem/tbd-codes-cs"
UCUM = "http://unitsofmeasure.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
_NAMESPACE = uuid.UUID("0b7b3c52-8d0e-4c5f-9a51-6f3e1c2d9a10")
HGNC_IDS = {
    "UGT1A1": "HGNC:12530",
    "CYP2D6": "HGNC:2625",
    "TPMT": "HGNC:12014",
    "NUDT15": "HGNC:23063",
    "DPYD": "HGNC:3012",
    # issue-15 pairs (tests/fixture_cases_pgx_pairs.py)
    "G6PD": "HGNC:4057",
    "HLA-B": "HGNC:4932",
    "CYP2C19": "HGNC:2621",
    "CYP3A5": "HGNC:2638",
}
ANSWERS = {
    "Poor metabolizer": "LA9657-3",
    "Intermediate metabolizer": "LA10317-8",
    "Normal metabolizer": "LA25391-6",
}
DRUGS = {  # RxNorm ingredient codes from clinical-facts.md 4.5 [V]; None: matched by name only
    "irinotecan": "51499",
    "capecitabine": "194000",
    "tamoxifen": "10324",
    "mercaptopurine": "103",
    "azathioprine": "1256",
    "thioguanine": "10485",
    "paroxetine": "32937",
    "duloxetine": "72625",
    "amlodipine": None,
    "irinotecan liposome": None,
    "carboplatin": "40048",
    "osimertinib": None,
    "entrectinib": None,
    "selpercatinib": None,
    "sotorasib": None,
    "nivolumab": None,
    "capmatinib": None,
    "crizotinib": "1148495",  # the mCODE GenomeX example (rules/knowledge/drugs.yaml)
    "nilotinib": "662281",
    "pazopanib": "714438",
    "cyclophosphamide": "3002",
    "anastrozole": "84857",
    "paclitaxel": "56946",
    "trastuzumab": "224905",
    "dabrafenib": "1424911",
    "olaparib": "1597582",
    "pembrolizumab": "1547545",
    "doxorubicin": "3639",
    "epirubicin": "3995",
    "daunorubicin": None,
    "cytarabine": "3041",  # NMDP/CIBMTR IG value set (knowledge/drugs.yaml)
    "vincristine": "11202",
    "idarubicin": "5650",
    "mitoxantrone": "7005",
    "doxorubicin liposome": None,
    "ado-trastuzumab emtansine": "1371041",
    "trastuzumab deruxtecan": None,
    "pertuzumab": "1298944",
    # issue-15 pairs (tests/fixture_cases_pgx_pairs.py)
    "rasburicase": "283821",
    "dapsone": None,
    "allopurinol": "519",
    "ondansetron": "26225",
    "codeine": "2670",
    "tramadol": "10689",
    "voriconazole": "121243",
    "clopidogrel": "32968",
    "tacrolimus": None,
    "belinostat": "1543543",
    "sacituzumab govitecan": None,
    "FOLFOX": None,
    "FOLFIRI": None,
    "CAPOX": None,
    "tegafur": "4582",
}
GTR = "http://www.ncbi.nlm.nih.gov/gtr"
POSITIVE, NEGATIVE = ("LA6576-8", "Positive"), ("LA6577-6", "Negative")
FINDINGS = {  # finding -> (system, code, display); codes from clinical-facts.md 4.3/4.4 [V]
    "ER": (LOINC, "85337-4", "Estrogen receptor Ag [Presence] in Breast cancer specimen"),
    "HER2": (LOINC, "48676-1", "HER2 [Interpretation] in Tissue"),
    "pN": (SNOMED, "371494008", "pN category"),
    "ECOG": (LOINC, "89247-1", "ECOG performance status score"),
    "RS": (GTR, "509910", "Oncotype DX Breast Recurrence Score Assay"),
    "creatinine": (LOINC, "2160-0", "Creatinine [Mass/volume] in Serum or Plasma"),
    "weight": (LOINC, "29463-7", "Body weight"),
}
PN = {
    "N0": ("1229947003", "pN0"),
    "N1": ("1229951001", "pN1"),
    "N2": ("1229957002", "pN2"),  # 4-9 nodes (knowledge/oncology.yaml)
}
ECOG_ANSWERS = {3: ("LA9625-0", "Limited self-care")}


@dataclass
class Case:
    name: str
    gender: str
    birth: str
    genotypes: dict[str, str] = field(default_factory=dict)
    """Gene -> diplotype text as the lab reports it."""
    lab: dict[str, str] = field(default_factory=dict)
    """Gene -> lab phenotype (STU3 therapeutic implication, or 79713-4 for TPMT)."""
    conditions: list[tuple[str | None, str]] = field(default_factory=list)
    """(SNOMED CT code or None for text only, text)."""
    active: list[tuple[str, str]] = field(default_factory=list)
    """(MedicationRequest or MedicationStatement, drug)."""
    tests: list[str] = field(default_factory=list)
    """Texts of active genotyping ServiceRequests."""
    order: tuple[str, str, float | None, str | None, str | None] = ("", "", None, None, None)
    """(drug, text, dose, unit, timing: "daily" or "q14d" or "q21d")."""
    findings: dict[str, Any] = field(default_factory=dict)
    """Finding -> value: ER/HER2 "positive"/"negative", pN "N0"/"N1", ECOG score (an int, or
    a str for the LOINC answer code), RS score, creatinine (value, unit), weight kg."""
    dosage_text: str | None = None
    hook: str = "order-sign"
    resources: list[dict[str, Any]] = field(default_factory=list)
    """Further resources of the record, written out in full (ids unique to the case)."""
    patient: str | None = None
    """The patient's id when ``resources`` are published examples about that patient."""
    service_request: str | None = None
    """Code text of a draft ServiceRequest ordered instead of a medication (radiotherapy)."""

    @property
    def patient_id(self) -> str:
        return self.patient or f"pt-{self.name}"


CASES: tuple[Case, ...] = (
    # UGT1A1 and irinotecan
    Case(
        "ugt1a1-28-28-irinotecan",
        "male",
        "1958-04-02",
        genotypes={"UGT1A1": "UGT1A1 *28/*28"},
        conditions=[(None, "Adenocarcinoma of rectum, metastatic")],
        order=("irinotecan", "Irinotecan injection (FOLFIRI)", 180, "mg/m2", "q14d"),
    ),
    Case(
        "ugt1a1-6-28-irinotecan",
        "female",
        "1966-09-12",
        genotypes={"UGT1A1": "*6/*28"},
        lab={"UGT1A1": "Poor metabolizer"},
        order=("irinotecan", "Irinotecan injection", 350, "mg/m2", "q21d"),
    ),
    Case(
        "ugt1a1-1-28-irinotecan",
        "male",
        "1961-01-20",
        genotypes={"UGT1A1": "*1/*28"},
        order=("irinotecan", "Irinotecan injection", 180, "mg/m2", "q14d"),
    ),
    Case(
        "ugt1a1-1-1-irinotecan",
        "female",
        "1970-06-30",
        genotypes={"UGT1A1": "*1/*1"},
        order=("irinotecan", "Irinotecan injection", 180, "mg/m2", "q14d"),
    ),
    Case(
        "ugt1a1-28-28-liposomal-irinotecan",
        "female",
        "1955-03-08",
        genotypes={"UGT1A1": "(TA)7/(TA)7"},
        conditions=[(None, "Adenocarcinoma of pancreas, metastatic")],
        order=(
            "irinotecan liposome",
            "Onivyde (irinotecan liposome) injection",
            70,
            "mg/m2",
            "q14d",
        ),
    ),
    Case(
        "ugt1a1-untested-irinotecan",
        "male",
        "1963-11-11",
        order=("irinotecan", "Irinotecan injection", 180, "mg/m2", "q14d"),
    ),
    Case(
        "ugt1a1-test-ordered-irinotecan",
        "male",
        "1963-11-12",
        tests=["UGT1A1 genotyping (*28, *6)"],
        order=("irinotecan", "Irinotecan injection", 180, "mg/m2", "q14d"),
    ),
    Case(
        "ugt1a1-conflict-irinotecan",
        "female",
        "1969-02-14",
        genotypes={"UGT1A1": "*1/*28"},
        lab={"UGT1A1": "Poor metabolizer"},
        order=("irinotecan", "Irinotecan injection", 180, "mg/m2", "q14d"),
    ),
    # CYP2D6 and tamoxifen
    Case(
        "cyp2d6-pm-postmenopausal-tamoxifen",
        "female",
        "1959-05-05",
        genotypes={"CYP2D6": "CYP2D6 *4/*4"},
        conditions=[("254837009", "Breast cancer")],
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-pm-premenopausal-tamoxifen",
        "female",
        "1985-07-21",
        genotypes={"CYP2D6": "*4/*5"},
        conditions=[("254837009", "Breast cancer"), ("22636003", "Premenopausal state")],
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-im-as1-tamoxifen",
        "female",
        "1974-03-03",
        genotypes={"CYP2D6": "*1/*4"},
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-im-as05-postmenopausal-tamoxifen",
        "female",
        "1971-12-01",
        genotypes={"CYP2D6": "*10/*41"},
        conditions=[("76498008", "Postmenopausal state")],
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-nm-tamoxifen",
        "female",
        "1962-08-08",
        genotypes={"CYP2D6": "*1/*2"},
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-um-tamoxifen",
        "female",
        "1960-10-10",
        genotypes={"CYP2D6": "*1/*2x2"},
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-nm-paroxetine-tamoxifen",
        "female",
        "1964-04-04",
        genotypes={"CYP2D6": "*1/*1"},
        conditions=[("35489007", "Depressive disorder")],
        active=[("MedicationStatement", "paroxetine")],
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-nm-duloxetine-tamoxifen",
        "female",
        "1965-06-06",
        genotypes={"CYP2D6": "*1/*1"},
        active=[("MedicationRequest", "duloxetine")],
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-paroxetine-on-tamoxifen",
        "female",
        "1967-09-09",
        genotypes={"CYP2D6": "*1/*1"},
        active=[("MedicationRequest", "tamoxifen")],
        order=("paroxetine", "Paroxetine 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-untested-tamoxifen",
        "female",
        "1958-01-15",
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    Case(
        "cyp2d6-conflict-tamoxifen",
        "female",
        "1957-02-02",
        genotypes={"CYP2D6": "*1/*4"},
        lab={"CYP2D6": "Normal metabolizer"},
        order=("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily"),
    ),
    # TPMT and NUDT15 and thiopurines
    Case(
        "tpmt-im-mercaptopurine",
        "male",
        "2014-05-05",
        genotypes={"TPMT": "*1/*3A", "NUDT15": "*1/*1"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "tpmt-lab-im-mercaptopurine",
        "female",
        "2012-07-07",
        genotypes={"NUDT15": "*1/*1"},
        lab={"TPMT": "Intermediate metabolizer"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "nudt15-im-azathioprine",
        "male",
        "1990-03-03",
        genotypes={"TPMT": "*1/*1", "NUDT15": "*1/*3"},
        conditions=[(None, "Crohn disease of ileum")],
        order=("azathioprine", "Azathioprine 50 mg tablet", 150, "mg", "daily"),
    ),
    Case(
        "tpmt-im-thioguanine",
        "female",
        "1980-08-08",
        genotypes={"TPMT": "*1/*3C", "NUDT15": "*1/*1"},
        conditions=[(None, "Acute myeloid leukemia")],
        order=("thioguanine", "Thioguanine 40 mg tablet", 60, "mg", "daily"),
    ),
    Case(
        "nudt15-im-thioguanine",
        "male",
        "1983-09-09",
        genotypes={"TPMT": "*1/*1", "NUDT15": "*1/*3"},
        conditions=[(None, "Acute myeloid leukemia")],
        order=("thioguanine", "Thioguanine 40 mg tablet", 60, "mg", "daily"),
    ),
    Case(
        "tpmt-nudt15-im-mercaptopurine",
        "female",
        "2013-10-10",
        genotypes={"TPMT": "*1/*3A", "NUDT15": "*1/*3"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "tpmt-pm-mercaptopurine",
        "male",
        "2015-11-11",
        genotypes={"TPMT": "*3A/*3A", "NUDT15": "*1/*1"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "tpmt-pm-thioguanine",
        "female",
        "1979-12-12",
        genotypes={"TPMT": "*3A/*3C", "NUDT15": "*1/*1"},
        conditions=[(None, "Acute myeloid leukemia")],
        order=("thioguanine", "Thioguanine 40 mg tablet", 60, "mg", "daily"),
    ),
    Case(
        "tpmt-pm-azathioprine-crohn",
        "female",
        "1992-01-01",
        genotypes={"TPMT": "*3A/*3C", "NUDT15": "*1/*1"},
        conditions=[(None, "Crohn disease of ileum")],
        order=("azathioprine", "Azathioprine 50 mg tablet", 150, "mg", "daily"),
    ),
    Case(
        "nudt15-pm-mercaptopurine",
        "male",
        "2016-02-02",
        genotypes={"TPMT": "*1/*1", "NUDT15": "*3/*3"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "nudt15-pm-thioguanine",
        "female",
        "1984-03-03",
        genotypes={"TPMT": "*1/*1", "NUDT15": "*3/*3"},
        conditions=[(None, "Acute myeloid leukemia")],
        order=("thioguanine", "Thioguanine 40 mg tablet", 60, "mg", "daily"),
    ),
    Case(
        "tpmt-pm-azathioprine-malignant",
        "male",
        "1975-04-04",
        genotypes={"TPMT": "*3A/*3A", "NUDT15": "*1/*1"},
        conditions=[(None, "Acute lymphoblastic leukemia")],
        order=("azathioprine", "Azathioprine 50 mg tablet", 150, "mg", "daily"),
    ),
    Case(
        "tpmt-pm-indication-unknown",
        "male",
        "1988-05-05",
        genotypes={"TPMT": "*3A/*3A", "NUDT15": "*1/*1"},
        order=("azathioprine", "Azathioprine 50 mg tablet", 150, "mg", "daily"),
    ),
    Case(
        "tpmt-indeterminate-mercaptopurine",
        "female",
        "2011-06-06",
        genotypes={"TPMT": "*1/*5", "NUDT15": "*1/*1"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "thiopurine-normal-mercaptopurine",
        "male",
        "2010-07-07",
        genotypes={"TPMT": "*1/*1", "NUDT15": "*1/*1"},
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "thiopurine-untested-mercaptopurine",
        "female",
        "2012-08-08",
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    Case(
        "thiopurine-tests-ordered-mercaptopurine",
        "male",
        "2013-09-09",
        tests=["TPMT and NUDT15 genotyping"],
        conditions=[("277571004", "B-cell acute lymphoblastic leukemia")],
        order=("mercaptopurine", "Mercaptopurine 50 mg tablet", 75, "mg/m2", "daily"),
    ),
    # Oncotype DX Breast (ASCO 2022), at patient-view
    Case(
        "oncotype-n0-eligible",
        "female",
        "1968-02-10",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0},
        hook="patient-view",
    ),
    Case(
        "oncotype-n0-test-ordered",
        "female",
        "1968-02-11",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0},
        tests=["Oncotype DX Breast Recurrence Score"],
        hook="patient-view",
    ),
    Case(
        "oncotype-her2-positive-n0",
        "female",
        "1968-02-12",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": True, "pN": "N0", "ECOG": 0},
        hook="patient-view",
    ),
    Case(
        "oncotype-n1-postmenopausal",
        "female",
        "1960-04-04",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N1", "ECOG": 0},
        hook="patient-view",
    ),
    Case(
        "oncotype-n1-premenopausal",
        "female",
        "1984-05-05",
        conditions=[("254837009", "Breast cancer"), ("22636003", "Premenopausal state")],
        findings={"ER": True, "HER2": False, "pN": "N1", "ECOG": 0},
        hook="patient-view",
    ),
    Case(
        "oncotype-n1-age-45-status-unknown",
        "female",
        "1981-06-06",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N1", "ECOG": 0},
        hook="patient-view",
    ),
    Case(
        "oncotype-n1-age-55",
        "female",
        "1971-01-15",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N1", "ECOG": 0},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-26-n0",
        "female",
        "1968-03-01",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 26},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-25-n0-over-50",
        "female",
        "1968-03-02",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 25},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-16-n0-age-45",
        "female",
        "1981-03-03",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 16},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-15-n0-age-45",
        "female",
        "1981-03-04",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 15},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-10-n0",
        "female",
        "1968-03-05",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 10},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-30-n1-postmenopausal",
        "female",
        "1960-03-06",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "HER2": False, "pN": "N1", "ECOG": 0, "RS": 30},
        hook="patient-view",
    ),
    Case(
        "oncotype-rs-30-n1-premenopausal",
        "female",
        "1984-03-07",
        conditions=[("254837009", "Breast cancer"), ("22636003", "Premenopausal state")],
        findings={"ER": True, "HER2": False, "pN": "N1", "ECOG": 0, "RS": 30},
        hook="patient-view",
    ),
    Case(
        "breast-no-her2-no-ecog",
        "female",
        "1968-03-08",
        conditions=[("254837009", "Breast cancer")],
        findings={"ER": True, "pN": "N0"},
        hook="patient-view",
    ),
    # Carboplatin by Calvert and Cockcroft-Gault; performance status at order-sign
    Case(
        "carboplatin-auc5-as-calculated",
        "male",
        "1964-05-01",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 470, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-auc5-9pct-above",
        "male",
        "1964-05-02",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 515, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-auc5-11pct-above",
        "male",
        "1964-05-03",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 520, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-auc5-15pct-below",
        "male",
        "1964-05-04",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 400, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-above-capped-maximum",
        "female",
        "1986-06-01",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (53, "umol/L"), "weight": 80, "ECOG": 0},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 800, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-no-creatinine",
        "male",
        "1964-05-05",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"weight": 70, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 470, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-auc-not-stated",
        "male",
        "1964-05-06",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 470, "mg", "q21d"),
    ),
    Case(
        "carboplatin-ecog-3",
        "male",
        "1964-05-07",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": "3"},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 470, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "carboplatin-ecog-2",
        "male",
        "1964-05-08",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"creatinine": (1.1, "mg/dL"), "weight": 70, "ECOG": 2},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 470, "mg", "q21d"),
        dosage_text="Carboplatin AUC 5 IV over 30 minutes, day 1 every 21 days",
    ),
    Case(
        "osimertinib-ecog-3",
        "male",
        "1964-05-09",
        conditions=[("254637007", "Non-small cell lung cancer")],
        findings={"ECOG": 3},
        order=("osimertinib", "Osimertinib 80 mg tablet", 80, "mg", "daily"),
    ),
    # PGx results on file, an unrelated order
    Case(
        "pgx-panel-unrelated-order",
        "female",
        "1960-01-01",
        genotypes={
            "DPYD": "*2A/*13",
            "UGT1A1": "*28/*28",
            "CYP2D6": "*4/*4",
            "TPMT": "*3A/*3A",
            "NUDT15": "*3/*3",
        },
        order=("amlodipine", "Amlodipine 5 mg tablet", 5, "mg", "daily"),
    ),
)


def build(case: Case, hooks: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(relative path, document)`` for the case's Bundle and its order-sign request."""
    resources = _record(case)
    yield (
        f"bundles/{case.name}.json",
        {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [
                {"fullUrl": f"http://example.org/fhir/{r['resourceType']}/{r['id']}", "resource": r}
                for r in resources
            ],
        },
    )
    service = hooks[f"oncology-{case.hook}"]
    context: dict[str, Any] = {
        "userId": "Practitioner/prac-onc-hartley",
        "patientId": case.patient_id,
    }
    if case.hook != "patient-view":
        context["draftOrders"] = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": _draft_request(case, resources)}],
        }
    yield (
        f"requests/{case.name}.{case.hook}.json",
        {
            "hook": case.hook,
            "hookInstance": str(uuid.uuid5(_NAMESPACE, case.name)),
            "fhirServer": "https://ehr.example.org/fhir",
            "context": context,
            "prefetch": answer_prefetch(resources, service, case.patient_id),
        },
    )


def _record(case: Case) -> list[dict[str, Any]]:
    pid = case.patient_id
    subject = {"reference": f"Patient/{pid}"}
    record: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": pid,
            "active": True,
            "name": [{"use": "official", "family": "Example", "given": [case.name]}],
            "gender": case.gender,
            "birthDate": case.birth,
        }
    ]
    for n, (code, text) in enumerate(case.conditions, 1):
        concept: dict[str, Any] = {"text": text}
        if code:
            concept["coding"] = [{"system": SNOMED, "code": code, "display": text}]
        record.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{case.name}-{n}",
                "clinicalStatus": _coding(
                    "http://terminology.hl7.org/CodeSystem/condition-clinical", "active"
                ),
                "code": concept,
                "subject": subject,
                "recordedDate": "2026-09-01",
            }
        )
    for gene, text in case.genotypes.items():
        record.append(_genotype(case, gene, text, subject))
    for gene, phenotype in case.lab.items():
        record.append(_lab_phenotype(case, gene, phenotype, subject))
    for kind, drug in case.active:
        medication = {
            "resourceType": kind,
            "id": _fhir_id(f"{kind.lower()}-{case.name}-{drug}"),
            "status": "active",
            "medicationCodeableConcept": _drug(drug, drug.capitalize()),
            "subject": subject,
        }
        if kind == "MedicationRequest":
            medication["intent"] = "order"
        record.append(medication)
    for name, value in case.findings.items():
        record.append(_finding(case, name, value, subject))
    for n, text in enumerate(case.tests, 1):
        record.append(
            {
                "resourceType": "ServiceRequest",
                "id": f"sr-{case.name}-{n}",
                "status": "active",
                "intent": "order",
                "code": {"text": text},
                "subject": subject,
                "authoredOn": "2026-10-01",
            }
        )
    record.extend(case.resources)
    return record


def _finding(case: Case, name: str, value: Any, subject: dict[str, str]) -> dict[str, Any]:
    system, code, display = FINDINGS[name]
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-{name.lower()}-{case.name}",
        "status": "final",
        "category": [_coding(CATEGORY, "laboratory")],
        "code": _coding(system, code, display),
        "subject": subject,
        "effectiveDateTime": "2026-09-20",
    }
    if name in ("ER", "HER2"):
        observation["valueCodeableConcept"] = _coding(LOINC, *(POSITIVE if value else NEGATIVE))
    elif name == "pN":
        observation["valueCodeableConcept"] = _coding(SNOMED, *PN[value])
    elif name == "ECOG" and isinstance(value, str):
        observation["valueCodeableConcept"] = _coding(LOINC, *ECOG_ANSWERS[int(value)])
    elif name == "ECOG":
        observation["valueInteger"] = value
    elif name == "RS":
        observation["code"]["text"] = display
        observation["valueQuantity"] = {"value": value, "unit": "Recurrence score"}
    else:
        amount, unit = value if isinstance(value, tuple) else (value, "kg")
        observation["valueQuantity"] = {"value": amount, "unit": unit, "system": UCUM, "code": unit}
    return observation


def _genotype(case: Case, gene: str, text: str, subject: dict[str, str]) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-geno-{case.name}-{gene.lower()}",
        "meta": {
            "profile": ["http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/genotype"]
        },
        "status": "final",
        "category": [_coding(CATEGORY, "laboratory")],
        "code": _coding(LOINC, "84413-4", "Genotype display name"),
        "subject": subject,
        "effectiveDateTime": "2026-09-15",
        "valueCodeableConcept": {"text": text},
        "component": [_gene_component(gene)],
    }


def _lab_phenotype(case: Case, gene: str, phenotype: str, subject: dict[str, str]) -> dict:
    # phenotypes without a LOINC answer (G6PD "Deficient") are sent as text, as labs do
    answer = (
        _coding(LOINC, ANSWERS[phenotype], phenotype)
        if phenotype in ANSWERS
        else {"text": phenotype}
    )
    observation: dict[str, Any] = {
        "resourceType": "Observation",
        "id": f"obs-pheno-{case.name}-{gene.lower()}",
        "status": "final",
        "category": [_coding(CATEGORY, "laboratory")],
        "subject": subject,
        "effectiveDateTime": "2026-09-15",
    }
    if gene == "TPMT" and gene not in case.genotypes:  # the gene-specific LOINC code
        code = _coding(LOINC, "79713-4", "TPMT gene product metabolic activity interpretation")
        return {**observation, "code": code, "valueCodeableConcept": answer}
    implication = _coding(TBD, "therapeutic-implication", "Therapeutic Implication")
    drug = case.order[0]
    if gene in case.genotypes:
        observation["derivedFrom"] = [
            {"reference": f"Observation/obs-geno-{case.name}-{gene.lower()}"}
        ]
    return {
        **observation,
        "meta": {
            "profile": [
                "http://hl7.org/fhir/uv/genomics-reporting/StructureDefinition/"
                "therapeutic-implication"
            ]
        },
        "code": implication,
        "component": [
            {
                "code": _coding(LOINC, "51963-7", "Medication assessed [ID]"),
                "valueCodeableConcept": _drug(drug, drug),
            },
            {"code": implication, "valueCodeableConcept": answer},
            _gene_component(gene),
        ],
    }


def _gene_component(gene: str) -> dict[str, Any]:
    return {
        "code": _coding(LOINC, "48018-6", "Gene studied [ID]"),
        "valueCodeableConcept": {
            "coding": [{"system": HGNC, "code": HGNC_IDS[gene], "display": gene}]
        },
    }


def _draft_request(case: Case, record: list[dict[str, Any]]) -> dict[str, Any]:
    """The case's draft order: its ServiceRequest when it has one, else its MedicationRequest."""
    if case.service_request is None:
        return _draft_order(case, record)
    return {
        "resourceType": "ServiceRequest",
        "id": f"sr-draft-{case.name}",
        "status": "draft",
        "intent": "order",
        "code": {"text": case.service_request},
        "subject": {"reference": f"Patient/{case.patient_id}"},
        "authoredOn": "2026-10-02T09:30:00+00:00",
    }


def _draft_order(case: Case, record: list[dict[str, Any]]) -> dict[str, Any]:
    drug, text, dose, unit, timing = case.order
    order: dict[str, Any] = {
        "resourceType": "MedicationRequest",
        "id": f"medrx-draft-{case.name}",
        "status": "draft",
        "intent": "order",
        "medicationCodeableConcept": _drug(drug, text),
        "subject": {"reference": f"Patient/{case.patient_id}"},
        "authoredOn": "2026-10-02T09:30:00+00:00",
    }
    if dose is not None and unit and timing:
        period = {"daily": 1, "q14d": 14, "q21d": 21}[timing]
        dosage: dict[str, Any] = {
            "timing": {"repeat": {"frequency": 1, "period": period, "periodUnit": "d"}},
            "doseAndRate": [
                {"doseQuantity": {"value": dose, "unit": unit, "system": UCUM, "code": unit}}
            ],
        }
        if case.dosage_text:
            dosage = {"text": case.dosage_text, **dosage}
        order["dosageInstruction"] = [dosage]
    conditions = [r for r in record if r["resourceType"] == "Condition"]
    if conditions:
        order["reasonReference"] = [{"reference": f"Condition/{conditions[0]['id']}"}]
    return order


def _drug(drug: str, text: str) -> dict[str, Any]:
    code = DRUGS[drug]
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": RXNORM, "code": code, "display": drug}]
    return concept


def _coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding]}


def all_cases() -> tuple[Case, ...]:
    """The cases here and those of every ``tests/fixture_cases_<topic>.py``."""
    topics = sorted(Path(__file__).parent.glob("fixture_cases_*.py"))
    modules = [importlib.import_module(f"tests.{path.stem}") for path in topics]
    return (*CASES, *(case for module in modules for case in module.CASES))


def documents() -> dict[str, dict[str, Any]]:
    """Every generated fixture file by its path under ``fixtures/fhir/``."""
    rule_set = load_rule_set(ROOT / "rules")
    try:
        return {path: doc for case in all_cases() for path, doc in build(case, rule_set.services)}
    finally:
        rule_set.close()


def _fhir_id(wanted: str) -> str:
    """``wanted``, or its short form where it is longer than the 64 characters FHIR allows."""
    if len(wanted) <= 64:
        return wanted
    short = wanted.replace("medicationrequest-", "medrx-").replace("medicationstatement-", "medst-")
    assert len(short) <= 64, f"a fixture id is longer than FHIR's 64 characters: {short}"
    return short


def dump(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    for relative, document in documents().items():
        (FIXTURES / relative).write_text(dump(document), encoding="utf-8")
        print(relative)
