"""Ideal body weight in NCCN's adjusted weight for carboplatin: Devine from the rule data.

The height Devine starts from (5 feet), the weight there and the kilograms per inch over it
are ``rules/knowledge/oncology.yaml`` data, not Python: a site that changes them changes the
dose the card gives. A patient shorter than the base height has the weight at the base.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cds_service.ruleset.loader import load_rule_set
from tests.conftest import RULES, client_for, copy_rules, replace_in
from tests.fixture_cases import Case, build
from tests.fixture_cases_carboplatin import AUC5, LUNG
from tests.fixture_cases_heart import measure

SIGN = "/cds-services/oncology-order-sign"


def short_patient(height_cm: float) -> dict[str, Any]:
    """A woman of 100 kg (BMI over 25), carboplatin AUC 5 ordered at 450 mg: a dose-off card."""
    name = "carboplatin-short-patient"
    case = Case(
        name,
        "female",
        "1971-06-01",
        conditions=LUNG,
        findings={"creatinine": (0.9, "mg/dL"), "weight": 100, "ECOG": 1},
        order=("carboplatin", "Carboplatin 10 mg/mL injection", 450, "mg", "q21d"),
        dosage_text=AUC5,
        resources=[measure(name, "height", height_cm, "2026-09-01")],
    )
    rule_set = load_rule_set(RULES)
    try:
        return dict(build(case, rule_set.services))[f"requests/{name}.order-sign.json"]
    finally:
        rule_set.close()


def calvert_detail(rules: Path, request: dict[str, Any]) -> str:
    with client_for(rules_dir=rules) as client:
        cards = client.post(SIGN, json=request).json()["cards"]
    (card,) = [c for c in cards if c["source"]["topic"]["code"] == "carboplatin-dose-off"]
    return card["detail"]


def test_a_patient_under_five_feet_has_the_ideal_weight_at_five_feet():
    detail = calvert_detail(RULES, short_patient(145))  # 57.1 inches
    assert "IBW 45.5 + 0.4 x (100 - 45.5) = 67.3 kg" in detail


def test_the_base_height_is_rule_data(tmp_path: Path):
    rules = copy_rules(tmp_path)
    replace_in(rules / "knowledge/oncology.yaml", "ibw_base_inches: 60", "ibw_base_inches: 56")
    detail = calvert_detail(rules, short_patient(145))  # 1.09 inches over 56: 45.5 + 2.5
    assert "IBW 48 + 0.4 x (100 - 48) = 68.8 kg" in detail
