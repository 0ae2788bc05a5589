"""Every fixture request gives the card that fixtures/fhir/README.md says it gives.

The same requests are sent twice: in-process, and over real HTTP to ``cds-service serve``
started on 127.0.0.1, the way an integration engineer sends them with curl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from tests import (
    fixture_cases,
    fixture_cases_biomarker_currency,
    fixture_cases_classes,
    fixture_cases_cyp2d6_notations,
    fixture_cases_g6pd_sex,
    fixture_cases_nsclc_orders,
    fixture_cases_oncotype_age50,
    fixture_cases_oncotype_n1,
    fixture_cases_pgx_course,
    fixture_cases_pgx_pairs,
)
from tests.conftest import (
    FIXTURES,
    RULES,
    Client,
    copy_rules,
    free_port,
    request_fixture,
    running_service,
)

Card = tuple[str, str, str]
"""(rule of the card, indicator, text in the summary)."""

DUE_4_WEEKS = [("goals-of-care-due", "info", "due by 2026-12-19 (8 weeks after diagnosis)")]
"""Advanced cancer diagnosed 4 weeks before the fixtures' day, nothing on file."""

# fixture request -> the cards it must produce, in any order; [] for none
EXPECTED: dict[str, list[Card]] = {
    "dpyd-c1905-het-capecitabine.order-sign": [
        ("dpyd-intermediate-as1", "warning", "500 mg/m2 twice daily (50%)")
    ],
    "dpyd-c1905-het-capecitabine.order-select": [
        ("dpyd-intermediate-as1", "warning", "500 mg/m2 twice daily (50%)")
    ],
    "dpyd-c2846-het-fluorouracil.order-sign": [
        ("dpyd-intermediate-as1.5", "warning", "1200 mg/m2 every 14 days (50%)")
    ],
    "dpyd-2a-13-capecitabine.order-sign": [("dpyd-poor", "critical", "avoid capecitabine")],
    "dpyd-normal-capecitabine.order-sign": [],
    "dpyd-untested-capecitabine.order-sign": [
        ("dpyd-test-first", "warning", "test for DPYD variants before the first dose")
    ],
    "no-oncology.order-sign": [],
    # UGT1A1 and irinotecan
    "ugt1a1-28-28-irinotecan.order-sign": [
        ("ugt1a1-poor-irinotecan", "warning", "126 mg/m2 every 14 days (70%)")
    ],
    "ugt1a1-6-28-irinotecan.order-sign": [
        ("ugt1a1-poor-irinotecan", "warning", "245 mg/m2 every 21 days (70%)")
    ],
    "ugt1a1-1-28-irinotecan.order-sign": [],
    "ugt1a1-1-1-irinotecan.order-sign": [],
    "ugt1a1-28-28-liposomal-irinotecan.order-sign": [
        ("ugt1a1-28-homozygous-liposomal-irinotecan", "warning", "at 50 mg/m2 every 14 days")
    ],
    "ugt1a1-untested-irinotecan.order-sign": [
        ("ugt1a1-test-first", "info", "genotype UGT1A1 (*28, *6) before the first dose")
    ],
    "ugt1a1-test-ordered-irinotecan.order-sign": [],
    "ugt1a1-conflict-irinotecan.order-sign": [
        ("ugt1a1-poor-irinotecan", "warning", "126 mg/m2 every 14 days (70%)"),
        ("ugt1a1-result-conflict", "warning", "the diplotype means Intermediate"),
    ],
    # CYP2D6 and tamoxifen, CYP2D6 inhibitors
    "cyp2d6-pm-postmenopausal-tamoxifen.order-sign": [
        ("cyp2d6-poor-tamoxifen-postmenopausal", "warning", "(AS 0), postmenopausal: use an")
    ],
    "cyp2d6-pm-premenopausal-tamoxifen.order-sign": [
        ("cyp2d6-poor-tamoxifen-premenopausal", "warning", "AI with ovarian suppression")
    ],
    "cyp2d6-im-as1-tamoxifen.order-sign": [
        ("cyp2d6-intermediate-as1-tamoxifen", "info", "(AS 1): an AI (+ OFS if premenopausal) may")
    ],
    "cyp2d6-im-as05-postmenopausal-tamoxifen.order-sign": [
        (
            "cyp2d6-intermediate-tamoxifen-postmenopausal",
            "warning",
            "if contraindicated, tamoxifen 40 mg/day",
        )
    ],
    "cyp2d6-nm-tamoxifen.order-sign": [],
    "cyp2d6-um-tamoxifen.order-sign": [],
    "cyp2d6-nm-paroxetine-tamoxifen.order-sign": [
        (
            "cyp2d6-inhibitor-with-tamoxifen",
            "warning",
            "paroxetine (strong CYP2D6 inhibitor) lowers CYP2D6 AS 2 to 0",
        )
    ],
    "cyp2d6-nm-duloxetine-tamoxifen.order-sign": [
        (
            "cyp2d6-inhibitor-with-tamoxifen",
            "warning",
            "duloxetine (moderate CYP2D6 inhibitor) lowers CYP2D6 AS 2 to 1",
        )
    ],
    "cyp2d6-paroxetine-on-tamoxifen.order-sign": [
        ("cyp2d6-inhibitor-ordered-on-tamoxifen", "warning", "Patient takes tamoxifen: paroxetine")
    ],
    "cyp2d6-pm-man-tamoxifen.order-sign": [
        ("cyp2d6-reduced-tamoxifen-male", "info", "a man: keep tamoxifen, the standard for men")
    ],
    "cyp2d6-pm-woman-status-unknown-tamoxifen.order-sign": [
        ("cyp2d6-poor-tamoxifen-status-unknown", "warning", "prefer an aromatase inhibitor")
    ],
    "dpyd-c1905-het-capecitabine-cycle3.order-sign": [
        ("dpyd-intermediate-after-start", "info", "dose by tolerance, no further genotype cut")
    ],
    "dpyd-c1905-het-on-capecitabine.patient-view": [
        ("dpyd-reduced-on-fluoropyrimidine", "warning", "on capecitabine: review the current dose")
    ],
    "dpyd-c1905-het-capecitabine-pills.order-sign": [
        ("dpyd-intermediate-as1", "warning", "750 mg once daily (5 x 150 mg; 50%)")
    ],
    "dpyd-c2846-het-capecitabine-reduced-start.order-sign": [
        ("dpyd-intermediate-start-reduced", "info", "starts at 50% of the full dose")
    ],
    "ugt1a1-28-28-onivyde-escalated.order-sign": [
        ("ugt1a1-poor-after-start", "info", "no further genotype cut")
    ],
    "tpmt-im-mercaptopurine-50.order-sign": [
        ("mercaptopurine-intermediate-below-full-dose", "info", "already starts below the full")
    ],
    "cyp2d6-untested-tamoxifen.order-sign": [
        ("cyp2d6-test-first", "info", "consider CYP2D6 genotyping before starting tamoxifen")
    ],
    "cyp2d6-conflict-tamoxifen.order-sign": [
        (
            "cyp2d6-result-conflict",
            "warning",
            "lab says Normal metabolizer, the diplotype means Intermediate",
        )
    ],
    # TPMT and NUDT15 and thiopurines
    "tpmt-im-mercaptopurine.order-sign": [
        ("mercaptopurine-intermediate", "warning", "22.5-60 mg/m2 once daily (30-80%)")
    ],
    "tpmt-lab-im-mercaptopurine.order-sign": [
        ("mercaptopurine-intermediate", "warning", "22.5-60 mg/m2 once daily (30-80%)")
    ],
    "nudt15-im-azathioprine.order-sign": [
        ("azathioprine-intermediate", "warning", "75 mg once daily (50%) (CPIC 30-80%)")
    ],
    "tpmt-im-thioguanine.order-sign": [
        ("thioguanine-tpmt-intermediate", "warning", "45 mg once daily (75%) (CPIC 50-80%)")
    ],
    "nudt15-im-thioguanine.order-sign": [
        ("thioguanine-nudt15-intermediate", "warning", "30 mg once daily (50%) (CPIC 50-80%)")
    ],
    "tpmt-nudt15-im-mercaptopurine.order-sign": [
        ("thiopurine-both-intermediate", "warning", "15-37.5 mg/m2 once daily (20-50%)")
    ],
    "tpmt-pm-mercaptopurine.order-sign": [
        (
            "mercaptopurine-tpmt-poor-malignant",
            "critical",
            "mercaptopurine at 7.5 mg/m2 once daily (10%), 3 days a week",
        )
    ],
    "tpmt-pm-thioguanine.order-sign": [
        (
            "thioguanine-tpmt-poor-malignant",
            "critical",
            "thioguanine at 6 mg once daily (10%), 3 days a week",
        )
    ],
    "tpmt-pm-azathioprine-crohn.order-sign": [
        ("thiopurine-poor-nonmalignant", "critical", "use a non-thiopurine instead of azathioprine")
    ],
    "nudt15-pm-mercaptopurine.order-sign": [
        ("mercaptopurine-nudt15-poor-malignant", "critical", "7.5 mg/m2 once daily (10%) or less")
    ],
    "nudt15-pm-thioguanine.order-sign": [
        ("thioguanine-nudt15-poor-malignant", "critical", "15 mg once daily (25%)")
    ],
    "tpmt-pm-azathioprine-malignant.order-sign": [
        ("azathioprine-poor-malignant", "critical", "a 10-fold cut given 3 days a week")
    ],
    "tpmt-pm-indication-unknown.order-sign": [
        (
            "thiopurine-poor-indication-unknown",
            "critical",
            "avoid azathioprine unless for a malignancy",
        )
    ],
    "tpmt-indeterminate-mercaptopurine.order-sign": [
        ("tpmt-indeterminate", "warning", "measure erythrocyte TPMT activity")
    ],
    "thiopurine-normal-mercaptopurine.order-sign": [],
    "thiopurine-untested-mercaptopurine.order-sign": [
        ("tpmt-test-first", "info", "No TPMT result on file"),
        ("nudt15-test-first", "info", "No NUDT15 result on file"),
    ],
    "thiopurine-tests-ordered-mercaptopurine.order-sign": [],
    "pgx-panel-unrelated-order.order-sign": [],
    # Oncotype DX Breast (ASCO 2022, TAILORx) at patient-view: both sides of each criterion
    "mcode-jenny-m.patient-view": [
        ("oncotype-rs-high-node-negative", "info", "Recurrence Score 47 (26 or more)")
    ],
    "oncotype-n0-eligible.patient-view": [
        ("oncotype-eligible-node-negative", "info", "ER+/HER2- node-negative breast cancer"),
        ("mammaprint-grade-not-on-file", "info", "No histologic grade on file: clinical risk"),
    ],
    "oncotype-n0-test-ordered.patient-view": [],
    "oncotype-her2-positive-n0.patient-view": [  # no Oncotype card; HER2+ without trastuzumab
        ("biomarker-therapy-not-on-file", "info", "HER2 on file (breast cancer)")
    ],
    "oncotype-n1-postmenopausal.patient-view": [
        ("oncotype-eligible-n1-postmenopausal", "info", "1-3 nodes, postmenopausal: Oncotype DX"),
        ("mammaprint-grade-not-on-file", "info", "No histologic grade on file: clinical risk"),
    ],
    "oncotype-n1-premenopausal.patient-view": [
        ("oncotype-n1-premenopausal", "info", "do not use Oncotype DX to decide on chemotherapy")
    ],
    "oncotype-n1-age-45-status-unknown.patient-view": [
        ("oncotype-n1-menopause-unknown", "info", "Record menopausal status")
    ],
    "oncotype-n1-age-55.patient-view": [
        ("oncotype-eligible-n1-over-50", "info", "1-3 nodes, age over 50: Oncotype DX"),
        ("mammaprint-grade-not-on-file", "info", "No histologic grade on file: clinical risk"),
    ],
    # Endocrine therapy alone against a Recurrence Score of 26 or more (order entry)
    "anastrozole-alone-rs-31.order-sign": [
        (
            "endocrine-alone-against-high-recurrence-score",
            "warning",
            "Recurrence Score 31 (26 or more): anastrozole alone",
        )
    ],
    "anastrozole-with-paclitaxel-rs-31.order-sign": [],
    # Carboplatin computed the NCCN way (adjusted weight at BMI 25+) is not called under-dosing
    "carboplatin-nccn-adjusted-weight.order-sign": [],
    "carboplatin-actual-weight-bmi-37.order-sign": [],
    "carboplatin-below-both-ways.order-sign": [
        ("carboplatin-dose-off", "warning", "450 mg is 16.41% below the Calvert dose of 538.35 mg")
    ],
    "anastrozole-after-completed-chemo-rs-31.order-sign": [],
    "anastrozole-chemo-two-years-ago-rs-31.order-sign": [
        ("endocrine-alone-against-high-recurrence-score", "warning", "Recurrence Score 31")
    ],
    "anastrozole-alone-rs-25.order-sign": [],
    "oncotype-rs-26-n0.patient-view": [
        ("oncotype-rs-high-node-negative", "info", "Recurrence Score 26 (26 or more)")
    ],
    "oncotype-rs-25-n0-over-50.patient-view": [
        ("oncotype-rs-endocrine-alone-over-50", "info", "Recurrence Score 25, node-negative, over")
    ],
    "oncotype-rs-16-n0-age-45.patient-view": [
        ("oncotype-rs-16-25-age-50-or-under", "info", "Recurrence Score 16, node-negative, age 45")
    ],
    "oncotype-rs-15-n0-age-45.patient-view": [
        ("oncotype-rs-11-15-age-50-or-under", "info", "Recurrence Score 15, node-negative, age 45")
    ],
    "oncotype-rs-10-n0.patient-view": [
        ("oncotype-rs-0-10", "info", "Recurrence Score 10, node-negative: endocrine therapy alone")
    ],
    "oncotype-rs-30-n1-postmenopausal.patient-view": [
        ("oncotype-rs-high-n1", "info", "Recurrence Score 30 (26 or more), 1-3 nodes")
    ],
    "oncotype-rs-30-n1-premenopausal.patient-view": [
        ("oncotype-n1-premenopausal", "info", "do not use Oncotype DX")
    ],
    "breast-no-her2-no-ecog.patient-view": [
        ("oncotype-breast-finding-missing", "info", "no HER2 result on file"),
        ("ecog-not-on-file", "info", "No ECOG performance status on file"),
    ],
    # Genomic assays at patient-view: MammaPrint (MINDACT clinical risk, over 50), Decipher after
    # radical prostatectomy, Oncotype DX Colon (T3 N0, MSS/pMMR); both sides of each criterion
    "mammaprint-n0-grade2-2p1cm.patient-view": [
        ("mammaprint-eligible-n0-grade2", "info", "(N0, grade 2, 2.1 cm), age 60: MammaPrint"),
        ("oncotype-eligible-node-negative", "info", "node-negative breast cancer: Oncotype DX"),
    ],
    "mammaprint-n0-grade2-2cm.patient-view": [
        ("oncotype-eligible-node-negative", "info", "node-negative breast cancer: Oncotype DX"),
    ],
    "mammaprint-n1-grade1-2p5cm.patient-view": [
        ("mammaprint-eligible-n1-grade1", "info", "(N1, grade 1, 2.5 cm), age 62: MammaPrint"),
        ("oncotype-eligible-n1-postmenopausal", "info", "1-3 nodes, postmenopausal: Oncotype DX"),
    ],
    "mammaprint-n1-grade1-2cm.patient-view": [
        ("oncotype-eligible-n1-postmenopausal", "info", "1-3 nodes, postmenopausal: Oncotype DX"),
    ],
    "mammaprint-n0-grade3-age-45.patient-view": [
        ("oncotype-eligible-node-negative", "info", "node-negative breast cancer: Oncotype DX"),
    ],
    "mammaprint-n0-grade3-age-60.patient-view": [
        ("mammaprint-eligible-n0-grade3", "info", "(N0, grade 3, 1.5 cm), age 60: MammaPrint"),
        ("oncotype-eligible-node-negative", "info", "node-negative breast cancer: Oncotype DX"),
    ],
    "mammaprint-n0-no-size.patient-view": [
        ("mammaprint-size-not-on-file", "info", "No tumor size on file (N0, grade 2)"),
        ("oncotype-eligible-node-negative", "info", "node-negative breast cancer: Oncotype DX"),
    ],
    "mammaprint-ordered.patient-view": [],
    "mammaprint-ordered-age-45.patient-view": [
        ("mammaprint-ordered-age-50-or-under", "info", "MammaPrint ordered at age 45"),
    ],
    "decipher-pt2-negative-margin.patient-view": [],
    "decipher-pt3a.patient-view": [
        ("decipher-eligible-pt3", "info", "T3 after radical prostatectomy: Decipher may inform"),
    ],
    "decipher-positive-margin.patient-view": [
        (
            "decipher-eligible-margin",
            "info",
            "Positive surgical margin after radical prostatectomy",
        ),
    ],
    "decipher-psa-0p2.patient-view": [
        ("decipher-eligible-psa", "info", "PSA 0.2 ng/mL after radical prostatectomy"),
    ],
    "decipher-psa-0p1.patient-view": [],
    "decipher-psa-before-prostatectomy.patient-view": [
        ("decipher-psa-not-since-prostatectomy", "info", "No PSA on file since the radical"),
    ],
    "decipher-no-prostatectomy.patient-view": [],
    "decipher-ordered.patient-view": [],
    "colon-t3n0-mss.patient-view": [
        ("oncotype-colon-eligible-mss-no-mmr", "info", "T3 N0 colon cancer, MSI stable: Oncotype"),
    ],
    "colon-t3n0-msi-h.patient-view": [  # pT3 pN0, not advanced: no pembrolizumab card
        ("oncotype-colon-not-indicated-msi-h", "info", "MSI-H: Oncotype DX Colon is not indicated"),
    ],
    "colon-t4n0-mss.patient-view": [],
    "colon-t3n1-mss.patient-view": [],
    "colon-t3n0-no-msi.patient-view": [
        ("oncotype-colon-msi-not-on-file", "info", "no readable MSI or MMR status"),
    ],
    "colon-no-t-category.patient-view": [
        ("oncotype-colon-t-not-on-file", "info", "Colon cancer with no T category on file"),
    ],
    # Carboplatin by Calvert (tolerance 10 %), performance status at order-sign
    "carboplatin-auc5-as-calculated.order-sign": [],
    "carboplatin-auc5-9pct-above.order-sign": [],
    "carboplatin-auc5-11pct-above.order-sign": [
        ("carboplatin-dose-off", "warning", "520 mg is 10.71% above the Calvert dose of 469.7 mg")
    ],
    "carboplatin-auc5-15pct-below.order-sign": [
        ("carboplatin-dose-off", "warning", "400 mg is 14.84% below the Calvert dose of 469.7 mg")
    ],
    "carboplatin-above-capped-maximum.order-sign": [
        (
            "carboplatin-above-maximum",
            "critical",
            "800 mg exceeds the Calvert maximum for AUC 5: 750",
        ),
        ("fertility-preservation-referral", "info", "Gonadotoxic carboplatin ordered"),
    ],
    "carboplatin-no-creatinine.order-sign": [
        ("carboplatin-not-checked", "warning", "no usable creatinine on file")
    ],
    "carboplatin-auc-not-stated.order-sign": [
        ("carboplatin-not-checked", "warning", "no usable target AUC on file")
    ],
    "carboplatin-ecog-3.order-sign": [
        ("cytotoxic-at-ecog-3-4", "warning", "ECOG 3 on file: reconsider carboplatin")
    ],
    "carboplatin-ecog-2.order-sign": [],
    "osimertinib-ecog-3.order-sign": [  # targeted: no ECOG card; but no EGFR result on file
        ("egfr-not-on-file", "warning", "No EGFR mutation result on file")
    ],
    # Biomarker-matched targeted therapy (FDA labels): patient-view and order-sign. Drugs
    # labelled only for advanced disease are options with stage IV, M1 or a metastatic
    # Condition on file, are not offered in staged early disease, and are named as depending on
    # the stage when none is on file
    "egfr-l858r-no-therapy.patient-view": [
        ("biomarker-therapy-stage-unknown", "info", "stage unknown: osimertinib; more if advanced")
    ],
    "egfr-l858r-stage-ii.patient-view": [
        (
            "biomarker-therapy-not-advanced",
            "info",
            "(lung cancer): no matched therapy on file; options: osimertinib",
        )
    ],
    "egfr-l858r-on-osimertinib.patient-view": [],
    "egfr-negative-osimertinib.order-sign": [
        ("targeted-drug-biomarker-negative", "warning", "osimertinib ordered, but EGFR tested")
    ],
    "egfr-test-ordered-osimertinib.order-sign": [
        ("targeted-drug-result-pending", "warning", "osimertinib ordered before the EGFR result")
    ],
    "osimertinib-ecog-3-egfr-l858r.order-sign": [],
    "braf-v600e-melanoma-dabrafenib.order-sign": [],
    "braf-v600e-colorectal.patient-view": [  # brain metastases on file
        ("biomarker-therapy-not-on-file", "info", "options: encorafenib, cetuximab"),
        ("goals-of-care-overdue", "warning", "it was due by 2026-11-05"),
    ],
    "braf-v600e-colorectal-dabrafenib.order-sign": [
        ("braf-v600e-colorectal-dabrafenib", "warning", "use encorafenib with cetuximab")
    ],
    "her2-low-trastuzumab.order-sign": [
        ("trastuzumab-her2-low", "warning", "HER2-low is not HER2-positive"),
        ("trastuzumab-no-lvef", "warning", "No LVEF on file: assess LVEF before trastuzumab"),
    ],
    "msi-h-colorectal.patient-view": [  # cM1
        ("biomarker-therapy-not-on-file", "info", "MSI-H on file (colon cancer): no matched"),
        ("goals-of-care-overdue", "warning", "it was due by 2026-11-05"),
    ],
    "msi-h-colon-stage-ii.patient-view": [  # no pembrolizumab card
        ("oncotype-colon-t-not-on-file", "info", "Colon cancer with no T category on file"),
    ],
    "msi-h-colon-no-stage.patient-view": [
        (
            "biomarker-therapy-if-advanced",
            "info",
            "stage unknown: if advanced, consider pembrolizumab",
        ),
        ("oncotype-colon-t-not-on-file", "info", "Colon cancer with no T category on file"),
    ],
    "msi-stable-colorectal-pembrolizumab.order-sign": [
        ("targeted-drug-biomarker-negative", "warning", "MSI-H tested negative")
    ],
    "alk-fusion-mcode-adam-anyperson.patient-view": [  # clinical stage group IV added
        ("biomarker-therapy-not-on-file", "info", "ALK on file (lung cancer)"),
        ("biomarker-therapy-not-on-file", "info", "MSI-H on file (lung cancer)"),
        ("biomarker-therapy-not-on-file", "info", "TMB-H on file (lung cancer)"),
        ("goals-of-care-overdue", "warning", "it was due by 2026-11-05"),
    ],
    "brca1-germline-breast.patient-view": [
        ("biomarker-therapy-not-on-file", "info", "BRCA1/2 on file (breast cancer)")
    ],
    "brca1-germline-her2-positive-breast.patient-view": [
        ("biomarker-therapy-not-on-file", "info", "HER2 on file (breast cancer)")
    ],
    "her2-positive-trastuzumab-completed.patient-view": [],
    "brca-untested-breast-olaparib.order-sign": [
        ("brca-not-on-file", "warning", "germline BRCA testing is needed before olaparib")
    ],
    # Supportive care: fertility preservation (order-sign) and goals of care (patient-view);
    # ages and weeks are counted to fixture_cases.TODAY, the clock the tests set
    "fertility-cyclophosphamide-age-30.order-sign": [
        ("fertility-preservation-referral", "info", "Gonadotoxic cyclophosphamide ordered")
    ],
    "fertility-cyclophosphamide-age-46.order-sign": [],
    "fertility-cyclophosphamide-age-11.order-sign": [
        (
            "fertility-preservation-child",
            "info",
            "for a child: discuss fertility with the child and parents",
        )
    ],
    "fertility-consult-on-file.order-sign": [],
    "fertility-paclitaxel-age-30.order-sign": [],
    "goals-of-care-stage-iv-due.patient-view": [
        ("goals-of-care-due", "info", "conversation due by 2026-12-19 (8 weeks after diagnosis)")
    ],
    "goals-of-care-stage-iv-overdue.patient-view": [
        (
            "goals-of-care-overdue",
            "warning",
            "no goals-of-care conversation on file; it was due by 2026-10-17",
        )
    ],
    "goals-of-care-documented.patient-view": [],
    "goals-of-care-stage-ii.patient-view": [],
    "goals-of-care-m1-category.patient-view": [("goals-of-care-due", "info", "due by 2027-01-02")],
    "goals-of-care-metastatic-condition.patient-view": [
        ("goals-of-care-due", "info", "due by 2027-01-09")
    ],
    "goals-of-care-date-unknown.patient-view": [
        ("goals-of-care-date-unknown", "info", "no diagnosis date on file, so no due date")
    ],
    # Advanced: unresectable stage III, locally advanced pancreatic, relapsed or refractory
    # hematologic malignancies (knowledge/care.yaml); not: stage III alone, a new leukaemia
    "goals-of-care-nsclc-iiib-unresectable.patient-view": DUE_4_WEEKS,
    "goals-of-care-nsclc-iiib.patient-view": [],
    "goals-of-care-pancreas-locally-advanced.patient-view": DUE_4_WEEKS,
    "goals-of-care-pancreas-resectable.patient-view": [],
    "goals-of-care-aml-relapsed.patient-view": DUE_4_WEEKS,
    "goals-of-care-aml-new.patient-view": [],
    "goals-of-care-myeloma-refractory.patient-view": DUE_4_WEEKS,
    "goals-of-care-lymphoma-relapsed.patient-view": DUE_4_WEEKS,
    # Choosing Wisely's ECOG 3-4 item is about solid tumours: not lymphoma
    "ecog-3-cyclophosphamide-breast.order-sign": [
        ("cytotoxic-at-ecog-3-4", "warning", "ECOG 3 on file: reconsider cyclophosphamide")
    ],
    "ecog-3-cyclophosphamide-lymphoma.order-sign": [],
    # Heart: cumulative anthracycline dose (300 / 400 / 550 mg/m2), LVEF, trastuzumab holds
    "anthracycline-240-plus-60.order-sign": [
        ("anthracycline-cumulative-300", "warning", "reaches 300 mg/m2: assess LVEF (echo or MUGA)")
    ],
    "anthracycline-240-plus-50.order-sign": [],
    "anthracycline-above-limit.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "doxorubicin dose would be 560 mg/m2: above its 550",
        )
    ],
    "anthracycline-at-limit.order-sign": [
        (
            "anthracycline-cumulative-over-400",
            "warning",
            "reaches 550 mg/m2 (over 400): check LVEF by echo",
        )
    ],
    "anthracycline-cyclophosphamide-above-400.order-sign": [
        ("anthracycline-above-own-limit", "critical", "would be 420 mg/m2: above its 400 mg/m2")
    ],
    # Each drug's own labelled limit: at it (monitoring), past it (critical); standard AML courses
    # of daunorubicin and mitoxantrone are never told to cancel
    "daunorubicin-aml-induction.order-sign": [],
    "daunorubicin-at-550.order-sign": [
        ("anthracycline-cumulative-300", "warning", "reaches 330 mg/m2: assess LVEF (echo or MUGA)")
    ],
    "daunorubicin-past-550.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "daunorubicin dose would be 570 mg/m2: above its 550",
        )
    ],
    "mitoxantrone-aml-course.order-sign": [
        ("anthracycline-cumulative-300", "warning", "reaches 378 mg/m2")
    ],
    "mitoxantrone-at-140.order-sign": [
        ("anthracycline-cumulative-over-400", "warning", "reaches 1470 mg/m2 (over 400)")
    ],
    "mitoxantrone-past-140.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "mitoxantrone dose would be 142 mg/m2: above its 140",
        )
    ],
    "epirubicin-at-900.order-sign": [
        ("anthracycline-cumulative-over-400", "warning", "reaches 720 mg/m2 (over 400)")
    ],
    "epirubicin-past-900.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "epirubicin dose would be 910 mg/m2: above its 900",
        )
    ],
    "idarubicin-no-labelled-limit.order-sign": [
        ("anthracycline-cumulative-over-400", "warning", "reaches 420 mg/m2 (over 400)")
    ],
    "liposomal-doxorubicin-at-550.order-sign": [
        ("anthracycline-cumulative-over-400", "warning", "reaches 550 mg/m2 (over 400)")
    ],
    "liposomal-doxorubicin-past-550.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "liposome dose would be 560 mg/m2: above its 550",
        )
    ],
    "child-daunorubicin-at-300.order-sign": [],
    "child-daunorubicin-past-300.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "daunorubicin dose would be 310 mg/m2: above its 300",
        )
    ],
    "infant-daunorubicin-at-200.order-sign": [],
    "infant-daunorubicin-past-200.order-sign": [
        (
            "anthracycline-above-own-limit",
            "critical",
            "daunorubicin dose would be 210 mg/m2: above its 200 mg/m2 lifetime limit",
        )
    ],
    "child-doxorubicin-250.order-sign": [
        (
            "anthracycline-child-cumulative-250",
            "warning",
            "Child: cumulative doxorubicin-equivalent dose reaches 250",
        )
    ],
    "child-doxorubicin-240.order-sign": [],
    "doxorubicin-trastuzumab-above-400.order-sign": [
        ("anthracycline-above-own-limit", "critical", "would be 420 mg/m2: above its 400 mg/m2")
    ],
    "doxorubicin-chest-rt-above-400.order-sign": [
        ("anthracycline-above-own-limit", "critical", "would be 420 mg/m2: above its 400 mg/m2")
    ],
    "doxorubicin-no-cotherapy-420.order-sign": [
        ("anthracycline-cumulative-over-400", "warning", "reaches 420 mg/m2 (over 400)")
    ],
    "anthracycline-epirubicin-prior.order-sign": [
        ("anthracycline-cumulative-300", "warning", "reaches 300 mg/m2")
    ],
    "anthracycline-mg-bsa.order-sign": [
        ("anthracycline-cumulative-300", "warning", "reaches 300 mg/m2")
    ],
    "anthracycline-mg-mosteller.order-sign": [
        ("anthracycline-cumulative-300", "warning", "reaches 300 mg/m2")
    ],
    "anthracycline-mg-no-bsa.order-sign": [
        (
            "anthracycline-dose-not-computed",
            "warning",
            "not computed: needs BSA (or height and weight) for doses in mg",
        )
    ],
    "anthracycline-no-lvef.order-sign": [
        ("anthracycline-no-baseline-lvef", "warning", "No LVEF on file: assess LVEF")
    ],
    "anthracycline-lvef-49.order-sign": [
        ("anthracycline-lvef-below-50", "warning", "LVEF 49% (below 50%)")
    ],
    "anthracycline-lvef-50.order-sign": [],
    "mcode-jenny-m-doxorubicin.order-sign": [
        ("anthracycline-no-baseline-lvef", "warning", "No LVEF on file")
    ],
    "tdm1-lvef-39.order-sign": [
        ("tdm1-lvef-below-40", "warning", "LVEF 39% (below 40%): do not give T-DM1")
    ],
    "tdm1-lvef-45-fall-10.order-sign": [
        ("tdm1-lvef-40-45-fall-10", "warning", "LVEF 45% from 55% (-10 points)")
    ],
    "tdm1-lvef-46-fall-20.order-sign": [],
    "trastuzumab-lvef-fall-16.order-sign": [
        ("trastuzumab-lvef-fall-16", "warning", "LVEF 50% from 66% (-16 points): withhold")
    ],
    "trastuzumab-lvef-fall-15.order-sign": [],
    "trastuzumab-lvef-fall-10-to-49.order-sign": [
        ("trastuzumab-lvef-below-limit-fall-10", "warning", "LVEF 49% (below 50%) from 59%")
    ],
    "trastuzumab-lvef-fall-10-to-50.order-sign": [],
    "trastuzumab-no-lvef.order-sign": [
        ("trastuzumab-no-lvef", "warning", "No LVEF on file: assess LVEF before trastuzumab")
    ],
    "trastuzumab-active-lvef-fall-16.patient-view": [
        ("trastuzumab-active-lvef-fall-16", "warning", "On trastuzumab, LVEF 50% from 66%")
    ],
    # The baseline is the latest LVEF before the first trastuzumab dose (not the earliest)
    "trast-baseline-before-start.order-sign": [],
    "trast-baseline-started-earlier.order-sign": [
        ("trastuzumab-lvef-fall-16", "warning", "LVEF 50% from 70% (-20 points): withhold")
    ],
    "trast-baseline-none-before.order-sign": [
        ("trastuzumab-lvef-fall-16", "warning", "LVEF 50% from 66% (-16 points): withhold")
    ],
    "trast-first-order-fall-before.order-sign": [],
    # T-DXd (Enhertu label) and pertuzumab (Perjeta label 2.3, early and metastatic)
    "tdxd-lvef-39.order-sign": [("tdxd-lvef-below-40", "warning", "LVEF 39% (below 40%)")],
    "tdxd-lvef-46-fall-21.order-sign": [
        ("tdxd-lvef-fall-over-20", "warning", "LVEF 46% from 67% (-21 points, more than 20)")
    ],
    "tdxd-lvef-46-fall-20.order-sign": [],
    "tdxd-lvef-45-fall-10.order-sign": [
        ("tdxd-lvef-40-45-fall-10-20", "warning", "LVEF 45% from 55% (-10 points)")
    ],
    "tdxd-no-lvef.order-sign": [("tdxd-no-lvef", "warning", "No LVEF on file")],
    "pertuzumab-early-lvef-49.order-sign": [
        ("pertuzumab-early-lvef-below-50-fall-10", "warning", "LVEF 49% (below 50%) from 59%")
    ],
    "pertuzumab-early-lvef-50.order-sign": [],
    "pertuzumab-mbc-lvef-45-fall-10.order-sign": [
        ("pertuzumab-metastatic-lvef-40-45-fall-10", "warning", "LVEF 45% from 55% (-10 points)")
    ],
    "pertuzumab-mbc-lvef-46-fall-12.order-sign": [],
}
EXPECTED.update(fixture_cases_pgx_pairs.EXPECTED)  # the issue-15 gene-drug pairs
EXPECTED.update(fixture_cases_oncotype_age50.EXPECTED)
EXPECTED.update(fixture_cases_nsclc_orders.EXPECTED)
EXPECTED.update(fixture_cases_oncotype_n1.EXPECTED)
EXPECTED.update(fixture_cases_pgx_course.EXPECTED)  # issue 13: later cycles, plain mg
EXPECTED.update(fixture_cases_cyp2d6_notations.EXPECTED)  # issue 13: *36+*10, xN
EXPECTED.update(fixture_cases_classes.EXPECTED)
EXPECTED.update(fixture_cases_biomarker_currency.EXPECTED)  # the review's label currency (LOW)
EXPECTED.update(fixture_cases_g6pd_sex.EXPECTED)  # G6PD activity limits by sex


def check(name: str, cards: list[dict]) -> None:
    """The cards are the expected ones; several cards of one rule may come in any order."""
    expected = sorted(EXPECTED[name])
    rules = sorted(card["source"]["topic"]["code"] for card in cards)
    assert rules == [rule for rule, _, _ in expected]
    unmatched = list(cards)
    for rule, indicator, text in expected:
        said = [c for c in unmatched if c["source"]["topic"]["code"] == rule]
        found = [c for c in said if text in c["summary"]]
        assert found, f"no {rule} card says {text!r}: {[c['summary'] for c in said]}"
        card = found[0]
        assert card["indicator"] == indicator
        assert len(card["summary"]) < 140
        unmatched.remove(card)


def service_path(name: str) -> str:
    return "/cds-services/oncology-" + name.rsplit(".", 1)[1]


def test_every_request_fixture_is_covered():
    assert {p.stem for p in (FIXTURES / "requests").glob("*.json")} == set(EXPECTED)


def test_generated_fixtures_are_what_their_cases_build():
    """The files a user curls are the ones tests/fixture_cases.py describes."""
    for relative, document in fixture_cases.documents().items():
        on_disk = (FIXTURES / relative).read_text(encoding="utf-8")
        assert on_disk == fixture_cases.dump(document), f"regenerate {relative}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_gives_its_card(client: Client, name: str):
    response = client.post(service_path(name), json=request_fixture(name))
    assert response.status_code == 200
    check(name, response.json()["cards"])


def test_dose_suggestion_is_a_valid_updated_order(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "update"
    order = MedicationRequest.model_validate(action["resource"])
    assert order.id == body["context"]["draftOrders"]["entry"][0]["resource"]["id"]
    assert float(order.dosageInstruction[0].doseAndRate[0].doseQuantity.value) == 500
    assert "1000 mg/m2" in card["detail"]
    assert "Observation/obs-geno-dpyd-c1905-het" in card["detail"]
    assert "Strong" in card["detail"]


def test_poor_metabolizer_suggests_removing_the_order(client: Client):
    body = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    assert action == {
        "type": "delete",
        "resourceId": "MedicationRequest/medrx-draft-capecitabine-2a-13",
        "description": action["description"],
    }


def test_test_first_suggests_a_valid_service_request(client: Client):
    body = request_fixture("dpyd-untested-capecitabine.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    request = ServiceRequest.model_validate(action["resource"])
    assert request.subject.reference == "Patient/pt-dpyd-untested"
    assert "DPYD" in request.code.text


def test_same_finding_has_the_same_uuid_at_select_and_sign(client: Client):
    select = client.post(
        service_path("x.order-select"),
        json=request_fixture("dpyd-c1905-het-capecitabine.order-select"),
    )
    sign = client.post(
        service_path("x.order-sign"), json=request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    )
    assert select.json()["cards"][0]["uuid"] == sign.json()["cards"][0]["uuid"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_service(RULES) as base:
        yield base


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_over_real_http(server: str, name: str):
    body = (FIXTURES / "requests" / f"{name}.json").read_bytes()
    response = httpx.post(
        server + service_path(name),
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    check(name, json.loads(response.content)["cards"])


def test_carboplatin_card_shows_the_computation_step_by_step(client: Client):
    """CrCl (140 - 62) x 70 x 1 / (72 x 1.1) = 68.94; dose 5 x (68.94 + 25) = 469.7 mg."""
    body = request_fixture("carboplatin-auc5-11pct-above.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    detail = " ".join(card["detail"].split())
    assert "(140 - age 62) x weight 70 kg x 1 (male) / (72 x serum creatinine 1.1 mg/dL)" in detail
    assert "**68.94 mL/min**" in detail
    assert "AUC 5 x (68.94 + 25) = **469.7 mg**" in detail
    assert "(maximum at this AUC: 750 mg)" in detail
    assert "Observation/obs-creatinine-carboplatin-auc5-11pct-above" in detail


def test_carboplatin_cap_converts_umol_and_caps_the_gfr(client: Client):
    """53 umol/L / 88.4 = 0.6 mg/dL; CrCl (140 - 40) x 80 x 0.85 / (72 x 0.6) = 157.53 -> 125."""
    body = request_fixture("carboplatin-above-capped-maximum.order-sign")
    cards = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == "carboplatin-above-maximum"]
    detail = " ".join(card["detail"].split())
    assert "x 0.85 (female) / (72 x serum creatinine 0.6 mg/dL)" in detail
    assert "**157.53 mL/min**" in detail
    assert "capped at 125 = **125 mL/min**" in detail
    assert "AUC 5 x (125 + 25) = **750 mg**" in detail


def test_carboplatin_with_a_zero_creatinine_names_it_as_unusable(client: Client):
    """A creatinine of 0 would divide by zero: the check says it cannot run, and why."""
    body = request_fixture("carboplatin-auc5-11pct-above.order-sign")
    for entry in body["prefetch"]["oncology"]["entry"]:
        if entry["resource"]["id"] == "obs-creatinine-carboplatin-auc5-11pct-above":
            entry["resource"]["valueQuantity"]["value"] = 0
    cards = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    by_topic = {card["source"]["topic"]["code"]: card for card in cards}
    assert set(by_topic) == {"carboplatin-not-checked", "finding-value-not-interpreted"}
    assert by_topic["carboplatin-not-checked"]["summary"].endswith("no usable creatinine on file")
    said = by_topic["finding-value-not-interpreted"]["summary"]  # and why (plausibility.yaml)
    assert said.endswith("0 mg/dL: implausible (must be above 0 and at most 50)")


def test_eligibility_card_offers_the_assay_order(client: Client):
    body = request_fixture("oncotype-n0-eligible.patient-view")
    cards = client.post(service_path("x.patient-view"), json=body).json()["cards"]
    (card,) = [
        c for c in cards if c["source"]["topic"]["code"] == "oncotype-eligible-node-negative"
    ]
    (action,) = card["suggestions"][0]["actions"]
    request = ServiceRequest.model_validate(action["resource"])
    assert request.code.coding[0].code == "509910"
    assert request.subject.reference == "Patient/pt-oncotype-n0-eligible"
    for evidence in ("ER positive", "HER2 negative", "nodal category N0"):
        assert evidence in card["detail"]


@pytest.mark.parametrize(
    ("name", "assay"),
    [
        ("mammaprint-n0-grade2-2p1cm", "MammaPrint"),
        ("decipher-pt3a", "Decipher"),
        ("colon-t3n0-mss", "Oncotype DX Colon"),
    ],
)
def test_an_assay_without_a_verified_code_is_ordered_by_name(client: Client, name, assay):
    body = request_fixture(f"{name}.patient-view")
    cards = client.post(service_path("x.patient-view"), json=body).json()["cards"]
    (card,) = [c for c in cards if assay in c["summary"]]
    (action,) = card["suggestions"][0]["actions"]
    request = ServiceRequest.model_validate(action["resource"])
    assert assay in request.code.text
    assert not request.code.coding
    assert request.subject.reference == f"Patient/pt-{name}"


def test_patient_view_repeats_no_order_level_card(client: Client):
    """The record opened at patient-view: the order's ECOG and dose cards stay at order-sign."""
    for name in ("carboplatin-ecog-3", "carboplatin-auc5-11pct-above"):
        body = request_fixture(f"{name}.order-sign")
        assert client.post(service_path("x.order-sign"), json=body).json()["cards"]
        body["hook"] = "patient-view"
        del body["context"]["draftOrders"]
        response = client.post(service_path("x.patient-view"), json=body)
        assert response.status_code == 200
        assert response.json()["cards"] == [], name


def test_service_refuses_to_start_on_an_invalid_rule_set(tmp_path: Path):
    broken = copy_rules(tmp_path)
    rule_file = broken / "pgx" / "dpyd-fluoropyrimidines.yaml"
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(
        text.replace("activity_score: 1.5", "activity_scor: 1.5"), encoding="utf-8"
    )
    line = text.splitlines().index("        activity_score: 1.5") + 1
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cds_service.cli",
            "--rules",
            str(broken),
            "serve",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"dpyd-fluoropyrimidines.yaml:{line}: rule dpyd-intermediate-as1.5:" in result.stderr
    assert "activity_scor" in result.stderr


def test_a_dose_change_accepted_at_order_select_is_not_repeated_at_order_sign(client: Client):
    """The updated order carries the card's uuid; signing it must not halve the dose again."""
    select = client.post(
        service_path("x.order-select"),
        json=request_fixture("dpyd-c1905-het-capecitabine.order-select"),
    )
    (card,) = select.json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    sign = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    sign["context"]["draftOrders"]["entry"] = [{"resource": action["resource"]}]
    assert client.post(service_path("x.order-sign"), json=sign).json()["cards"] == []

    unchanged = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    (repeated,) = client.post(service_path("x.order-sign"), json=unchanged).json()["cards"]
    assert repeated["uuid"] == card["uuid"]


def test_a_test_ordered_from_the_card_is_not_asked_for_again_at_order_sign(client: Client):
    first = client.post(
        service_path("x.order-sign"), json=request_fixture("dpyd-untested-capecitabine.order-sign")
    )
    (card,) = first.json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    body = request_fixture("dpyd-untested-capecitabine.order-sign")
    body["context"]["draftOrders"]["entry"].append(
        {"resource": {**action["resource"], "id": "sr-dpyd-new"}}
    )
    assert client.post(service_path("x.order-sign"), json=body).json()["cards"] == []


def test_another_cards_tag_does_not_hide_a_card(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    order = body["context"]["draftOrders"]["entry"][0]["resource"]
    order["meta"] = {"tag": [{"system": "urn:oncology-pgx-cds:applied-card", "code": "other"}]}
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    assert card["source"]["topic"]["code"] == "dpyd-intermediate-as1"
