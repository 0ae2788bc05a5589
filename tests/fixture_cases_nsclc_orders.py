"""Fixture patients for chemotherapy ordered in advanced NSCLC with an EGFR driver on file.

The EGFR L858R variant and the mCODE stage group are built as in
``tests/fixture_cases_biomarkers.py``; the order is paclitaxel. A stage IV patient with no
matched therapy gets the card; on osimertinib, or at stage IIB, none.
"""

from __future__ import annotations

from tests.fixture_cases import Case
from tests.fixture_cases_biomarkers import EGFR_L858R, NSCLC, STAGED, variant
from tests.fixture_cases_care import STAGE_GROUP, STAGE_IIB, STAGE_IV, staging

PACLITAXEL = ("paclitaxel", "Paclitaxel 200 mg/m2 IV", 200, "mg/m2", "q21d")


def _case(name: str, birth: str, stage: tuple[str, str], on: list[tuple[str, str]]) -> Case:
    return Case(
        name,
        "female",
        birth,
        conditions=NSCLC,
        findings={"ECOG": 1},
        active=on,
        resources=[
            variant(name, "EGFR", **EGFR_L858R),
            staging(name, STAGE_GROUP, stage, STAGED),
        ],
        order=PACLITAXEL,
    )


CASES: tuple[Case, ...] = (
    _case("nsclc-egfr-stage-iv-paclitaxel", "1958-07-01", STAGE_IV, []),
    _case(
        "nsclc-egfr-stage-iv-paclitaxel-on-osimertinib",
        "1958-07-02",
        STAGE_IV,
        [("MedicationRequest", "osimertinib")],
    ),
    _case("nsclc-egfr-stage-ii-paclitaxel", "1958-07-03", STAGE_IIB, []),
)

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "nsclc-egfr-stage-iv-paclitaxel.order-sign": [
        ("nsclc-chemotherapy-driver-no-matched-therapy", "warning", "EGFR, advanced NSCLC")
    ],
    "nsclc-egfr-stage-iv-paclitaxel-on-osimertinib.order-sign": [],
    "nsclc-egfr-stage-ii-paclitaxel.order-sign": [],
}
