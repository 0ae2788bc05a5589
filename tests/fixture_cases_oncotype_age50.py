"""Fixture patients for endocrine therapy alone at 50 or under with RS 16-25 (ASCO 2022 rec. 1.3).

Women with node-negative, ER-positive, HER2-negative breast cancer and a Recurrence Score of
20, ordered tamoxifen alone: one aged 45 (the card), one aged 51 (no card), and one aged 45
whose adjuvant paclitaxel was completed in June 2026 (no card: the chemotherapy was given).
All have a CYP2D6 result (*1/*1) so that the tamoxifen rules stay quiet.
"""

from __future__ import annotations

from tests.fixture_cases import Case
from tests.fixture_cases_oncotype_orders import finished_course

BREAST = [("254837009", "Breast cancer")]
TAMOXIFEN = ("tamoxifen", "Tamoxifen 20 mg tablet", 20, "mg", "daily")
FINDINGS = {"ER": True, "HER2": False, "pN": "N0", "ECOG": 0, "RS": 20}

CASES: tuple[Case, ...] = (
    Case(
        "tamoxifen-alone-rs-20-age-45",
        "female",
        "1981-03-02",
        genotypes={"CYP2D6": "*1/*1"},
        conditions=BREAST,
        findings=FINDINGS,
        order=TAMOXIFEN,
    ),
    Case(
        "tamoxifen-alone-rs-20-age-51",
        "female",
        "1975-03-02",
        genotypes={"CYP2D6": "*1/*1"},
        conditions=BREAST,
        findings=FINDINGS,
        order=TAMOXIFEN,
    ),
    Case(
        "tamoxifen-after-completed-chemo-rs-20-age-45",
        "female",
        "1981-03-03",
        genotypes={"CYP2D6": "*1/*1"},
        conditions=BREAST,
        findings=FINDINGS,
        order=TAMOXIFEN,
        resources=[
            finished_course(
                "tamoxifen-after-completed-chemo-rs-20-age-45", "paclitaxel", "2026-06-01"
            )
        ],
    ),
)

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "tamoxifen-alone-rs-20-age-45.order-sign": [
        (
            "endocrine-alone-rs-16-25-age-50-or-under",
            "info",
            "Recurrence Score 20, age 45: tamoxifen alone",
        )
    ],
    "tamoxifen-alone-rs-20-age-51.order-sign": [],
    "tamoxifen-after-completed-chemo-rs-20-age-45.order-sign": [],
}
