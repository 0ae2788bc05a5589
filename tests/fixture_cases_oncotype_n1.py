"""Fixture patients for a Recurrence Score with positive nodes (ASCO 2022 rec. 1.4-1.7, RxPONDER).

ER-positive, HER2-negative breast cancer with a resulted score on both sides of 25/26, before
and after the menopause, and with the nodal category that stands for each node count: pN0 (no
node), pN1 (1 to 3 nodes: one node and three nodes are the same category, the service reads
no node count) and pN2 (4 to 9 nodes). Postmenopausal is by age (66, knowledge/conditions.yaml:
60 or over); premenopausal is a recorded Condition (SNOMED CT 22636003); 55 with no status is
ASCO's "over 50" proxy. Ages stay clear of the boundaries because they move with the calendar.
"""

from __future__ import annotations

from tests.fixture_cases import Case

BREAST = ("254837009", "Breast cancer")
PREMENOPAUSAL = ("22636003", "Premenopausal state")


def _case(name: str, birth: str, pn: str, rs: int, premenopausal: bool = False) -> Case:
    conditions = [BREAST, PREMENOPAUSAL] if premenopausal else [BREAST]
    findings = {"ER": True, "HER2": False, "pN": pn, "ECOG": 0, "RS": rs}
    return Case(
        name, "female", birth, conditions=conditions, findings=findings, hook="patient-view"
    )


CASES: tuple[Case, ...] = (
    _case("oncotype-rs-25-n1-postmenopausal", "1960-05-01", "N1", 25),
    _case("oncotype-rs-26-n1-postmenopausal", "1960-05-02", "N1", 26),
    _case("oncotype-rs-25-n1-premenopausal", "1984-05-03", "N1", 25, premenopausal=True),
    _case("oncotype-rs-26-n1-premenopausal", "1984-05-04", "N1", 26, premenopausal=True),
    _case("oncotype-rs-25-n1-age-55", "1971-05-05", "N1", 25),
    _case("oncotype-rs-25-n0-postmenopausal", "1960-05-06", "N0", 25),
    _case("oncotype-rs-25-n2-postmenopausal", "1960-05-07", "N2", 25),
)

EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "oncotype-rs-25-n1-postmenopausal.patient-view": [
        (
            "oncotype-rs-0-25-n1-postmenopausal",
            "info",
            "Recurrence Score 25, 1-3 nodes, postmenopausal: endocrine therapy alone",
        )
    ],
    "oncotype-rs-26-n1-postmenopausal.patient-view": [
        ("oncotype-rs-high-n1", "info", "Recurrence Score 26 (26 or more), 1-3 nodes")
    ],
    "oncotype-rs-25-n1-premenopausal.patient-view": [
        ("oncotype-n1-premenopausal", "info", "do not use Oncotype DX to decide on chemotherapy")
    ],
    "oncotype-rs-26-n1-premenopausal.patient-view": [
        ("oncotype-n1-premenopausal", "info", "do not use Oncotype DX to decide on chemotherapy")
    ],
    "oncotype-rs-25-n1-age-55.patient-view": [
        (
            "oncotype-rs-0-25-n1-over-50",
            "info",
            "Recurrence Score 25, 1-3 nodes, age 55: endocrine therapy alone if postmenopausal",
        )
    ],
    "oncotype-rs-25-n0-postmenopausal.patient-view": [
        ("oncotype-rs-endocrine-alone-over-50", "info", "Recurrence Score 25, node-negative")
    ],
    "oncotype-rs-25-n2-postmenopausal.patient-view": [
        ("oncotype-rs-four-or-more-nodes", "info", "Recurrence Score 25 with 4 or more positive")
    ],
}
