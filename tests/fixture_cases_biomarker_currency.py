"""Fixture patients for the biomarker label currency of the clinical review (LOW).

Built as in ``tests/fixture_cases_biomarkers.py`` (variants, HER2 words, the mCODE MSI example
shape, the stage group). Each change has a patient on both sides: HER2-ultralow against a plain
HER2 IHC 0 before trastuzumab; nivolumab for MSI-H colon cancer against untested colon cancer;
osimertinib with T790M on file against a T790M pertinent negative alone; crizotinib with a ROS1
fusion against an ALK negative with ROS1 untested; capmatinib with and without MET exon 14.
"""

from __future__ import annotations

from typing import Any

from tests.fixture_cases import Case
from tests.fixture_cases_biomarkers import (
    ABSENT,
    BREAST,
    COLON,
    NSCLC,
    STAGED,
    her2_low,
    msi,
    variant,
)
from tests.fixture_cases_care import CM1, M_CATEGORY, STAGE_GROUP, STAGE_IV, staging
from tests.fixture_cases_nsclc_orders import fusion

TRASTUZUMAB = ("trastuzumab", "Trastuzumab 150 mg injection", 8, "mg/kg", "q21d")
NIVOLUMAB = ("nivolumab", "Nivolumab 240 mg injection", 240, "mg", "q21d")
OSIMERTINIB = ("osimertinib", "Osimertinib 80 mg tablet", 80, "mg", "daily")
CRIZOTINIB = ("crizotinib", "Crizotinib 250 mg capsule", 250, "mg", "daily")
CAPMATINIB = ("capmatinib", "Capmatinib 400 mg tablet", 400, "mg", "daily")
T790M = {"protein": "NP_005219.2:p.Thr790Met", "dna": "NM_005228.4:c.2369C>T"}
MET_EX14 = {"dna": "MET exon 14 skipping"}  # as the lab words it (fixture_cases_nsclc_orders)


def her2(case: str, text: str) -> dict[str, Any]:
    """HER2 coded negative with the lab's words (the shape of ``her2_low``)."""
    found = her2_low(case)
    found["valueCodeableConcept"] = found["valueCodeableConcept"] | {"text": text}
    return found


def _breast(name: str, birth: str, text: str) -> Case:
    return Case(
        name,
        "female",
        birth,
        conditions=BREAST,
        findings={"ER": True, "ECOG": 0},
        resources=[her2(name, text)],
        order=TRASTUZUMAB,
    )


def _colon(name: str, birth: str, *resources: dict[str, Any]) -> Case:
    return Case(
        name,
        "male",
        birth,
        conditions=COLON,
        findings={"ECOG": 1},
        resources=[*resources, staging(name, M_CATEGORY, CM1, STAGED)],
        order=NIVOLUMAB,
    )


def _lung(name: str, birth: str, order: tuple, *resources: dict[str, Any]) -> Case:
    return Case(
        name,
        "female",
        birth,
        conditions=NSCLC,
        findings={"ECOG": 1},
        resources=[*resources, staging(name, STAGE_GROUP, STAGE_IV, STAGED)],
        order=order,
    )


CASES: tuple[Case, ...] = (
    _breast("her2-ultralow-trastuzumab", "1969-05-06", "HER2-ultralow: IHC >0 <1+"),
    _breast("her2-ihc0-trastuzumab", "1969-05-07", "HER2 IHC 0, no staining"),
    _colon("msi-h-colon-nivolumab", "1955-06-10", msi("msi-h-colon-nivolumab", "MSI-H")),
    _colon("msi-untested-colon-nivolumab", "1955-06-11"),
    _lung(
        "egfr-t790m-osimertinib",
        "1958-07-09",
        OSIMERTINIB,
        variant("egfr-t790m-osimertinib", "EGFR", **T790M),
    ),
    _lung(
        "egfr-t790m-negative-osimertinib",
        "1958-07-10",
        OSIMERTINIB,
        variant("egfr-t790m-negative-osimertinib", "EGFR", found=ABSENT, protein="p.Thr790Met"),
    ),
    _lung(
        "ros1-fusion-crizotinib",
        "1961-03-10",
        CRIZOTINIB,
        variant("ros1-fusion-crizotinib", "ALK", found=ABSENT),
        fusion("ros1-fusion-crizotinib", "ROS1", "CD74"),
    ),
    _lung(
        "alk-negative-ros1-untested-crizotinib",
        "1961-03-11",
        CRIZOTINIB,
        variant("alk-negative-ros1-untested-crizotinib", "ALK", found=ABSENT),
    ),
    _lung(
        "met-ex14-capmatinib",
        "1950-02-02",
        CAPMATINIB,
        variant("met-ex14-capmatinib", "MET", **MET_EX14),
    ),
    _lung("met-untested-capmatinib", "1950-02-03", CAPMATINIB),
)

LVEF = ("trastuzumab-no-lvef", "warning", "No LVEF on file: assess LVEF before trastuzumab")
UNTESTED = "targeted-biomarker-untested-beside-negative"
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "her2-ultralow-trastuzumab.order-sign": [
        ("trastuzumab-her2-low", "warning", "HER2-ultralow is not HER2-positive"),
        LVEF,
    ],
    "her2-ihc0-trastuzumab.order-sign": [
        ("targeted-drug-biomarker-negative", "warning", "HER2 tested negative"),
        LVEF,
    ],
    "msi-h-colon-nivolumab.order-sign": [],
    "msi-untested-colon-nivolumab.order-sign": [
        ("msi-not-on-file", "warning", "test MSI or MMR before nivolumab for colon cancer")
    ],
    "egfr-t790m-osimertinib.order-sign": [],
    "egfr-t790m-negative-osimertinib.order-sign": [
        (UNTESTED, "warning", "No EGFR result on file: test before osimertinib")
    ],
    "ros1-fusion-crizotinib.order-sign": [],
    "alk-negative-ros1-untested-crizotinib.order-sign": [
        (UNTESTED, "warning", "No ROS1 result on file: test before crizotinib")
    ],
    "met-ex14-capmatinib.order-sign": [],
    "met-untested-capmatinib.order-sign": [
        ("driver-biomarker-not-on-file", "warning", "No MET exon 14 result on file")
    ],
}
