"""Fixture patients for G6PD enzyme activity read by sex (knowledge/genomics.yaml "activity").

A quantitative result (U/g Hb, ARUP adult interval 9.6-16.3, midpoint 12.95) and a hemolytic
drug: a woman at 25, 50, 70 and 85% of normal, a man at 50 and 70%, a patient whose sex is
"unknown" at 70%. A woman (and an unstated sex) is intermediate, CPIC's Variable, at 60-80%
(WHO 2022) and only normal from 80%; a man keeps the class limits (normal from 60%).
"""

from __future__ import annotations

from tests.fixture_cases import Case
from tests.fixture_cases_pgx_pairs import HEME, g6pd_activity

RASBURICASE = ("rasburicase", "rasburicase 0.2 mg/kg IV", None, None, None)
DAPSONE = ("dapsone", "dapsone 100 mg tablet", None, None, None)


def measured(name: str, gender: str, birth: str, value: float, order: tuple) -> Case:
    """A patient with one G6PD activity result (U/g Hb, with the lab's range) and the order."""
    resources = [g6pd_activity(name, value, (9.6, 16.3))]
    return Case(name, gender, birth, conditions=HEME, order=order, resources=resources)


CASES: tuple[Case, ...] = (
    measured("g6pd-woman-activity-25pct-rasburicase", "female", "1972-01-10", 3.2, RASBURICASE),
    measured("g6pd-woman-activity-50pct-dapsone", "female", "1972-01-11", 6.5, DAPSONE),
    measured("g6pd-woman-activity-70pct-rasburicase", "female", "1972-01-12", 9.1, RASBURICASE),
    measured("g6pd-woman-activity-85pct-rasburicase", "female", "1972-01-13", 11.0, RASBURICASE),
    measured("g6pd-man-activity-50pct-rasburicase", "male", "1960-06-01", 6.5, RASBURICASE),
    measured("g6pd-man-activity-70pct-dapsone", "male", "1960-06-02", 9.1, DAPSONE),
    measured(
        "g6pd-sex-unknown-activity-70pct-rasburicase", "unknown", "1965-09-09", 9.1, RASBURICASE
    ),
)

# fixture request -> the cards it must produce (tests/test_fixtures.py)
EXPECTED: dict[str, list[tuple[str, str, str]]] = {
    "g6pd-woman-activity-25pct-rasburicase.order-sign": [
        ("g6pd-deficient-hemolytic-drug", "critical", "do not give rasburicase")
    ],
    "g6pd-woman-activity-50pct-dapsone.order-sign": [
        ("g6pd-deficient-hemolytic-drug", "critical", "do not give dapsone")
    ],
    "g6pd-woman-activity-70pct-rasburicase.order-sign": [
        ("g6pd-intermediate-activity-hemolytic-drug", "warning", "hemolysis risk with rasburicase")
    ],
    "g6pd-woman-activity-85pct-rasburicase.order-sign": [],
    "g6pd-man-activity-50pct-rasburicase.order-sign": [
        ("g6pd-deficient-hemolytic-drug", "critical", "do not give rasburicase")
    ],
    "g6pd-man-activity-70pct-dapsone.order-sign": [],
    "g6pd-sex-unknown-activity-70pct-rasburicase.order-sign": [
        ("g6pd-intermediate-activity-hemolytic-drug", "warning", "hemolysis risk with rasburicase")
    ],
}
