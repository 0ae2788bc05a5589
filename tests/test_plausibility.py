"""Values that cannot be real (knowledge/plausibility.yaml) are unreadable, never computed with.

A dose of -1000 mg/m2 gave "start capecitabine at -500 mg/m2", a dose of 0 "0 mg/m2", and a
tumour of 1.2e12 cm was taken as measured (issue 12, item 7).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from cds_service.ruleset.loader import RuleSetInvalid, load_rule_set
from tests.conftest import FIXTURES, client_for, copy_rules, replace_in

EDGE = FIXTURES / "edge-cases"


def cards(name: str, hook_service: str) -> dict[str, dict[str, Any]]:
    body = json.loads((EDGE / f"{name}.json").read_text(encoding="utf-8"))
    with client_for() as client:
        response = client.post(f"/cds-services/{hook_service}", json=body)
    assert response.status_code == 200, response.text
    return {card["source"]["topic"]["code"]: card for card in response.json()["cards"]}


def test_a_negative_dose_is_never_scaled():
    found = cards("dpyd-capecitabine-dose-negative.order-sign", "oncology-order-sign")
    dpyd = found["dpyd-intermediate-as1"]  # the DPYD finding still stands
    assert "-500" not in json.dumps(dpyd)
    assert not dpyd.get("suggestions")  # no order with a computed dose to apply
    assert "50% of the ordered dose" in dpyd["summary"]
    said = found["draft-dose-implausible"]["detail"]
    assert "-1000 mg/m2: implausible (must be above 0 and at most 20000)" in said


def test_a_zero_dose_is_not_compared_with_calvert():
    found = cards("carboplatin-dose-zero.order-sign", "oncology-order-sign")
    assert "carboplatin-dose-off" not in found
    assert "carboplatin-not-checked" in found
    assert "0 mg: implausible" in found["draft-dose-implausible"]["detail"]


def test_a_tumour_of_1p2e12_cm_is_unreadable_with_its_range():
    found = cards("mammaprint-tumor-size-1p2e12cm.patient-view", "oncology-patient-view")
    summary = found["finding-value-not-interpreted"]["summary"]
    assert "tumor size result on file could not be read: 1.2e+12 cm: implausible" in summary
    assert "mammaprint-size-not-read" in found  # MINDACT risk is not assessed from it
    assert not [code for code in found if code.startswith("mammaprint-high")]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("  LVEF: {above: 0", "  LVEF_typo: {above: 0", "findings.LVEF_typo: not a finding"),
        ("  mg: {above: 0, at_most: 100000}", "  mg: {above: zero}", "found 'zero'"),
        ("  any: {above: 0}", "  any: {}", "should be non-empty"),
    ],
)
def test_the_table_is_checked_when_the_rules_load(tmp_path: Path, old: str, new: str, message):
    rules = copy_rules(tmp_path)
    replace_in(rules / "knowledge" / "plausibility.yaml", old, new)
    with pytest.raises(RuleSetInvalid) as raised:
        load_rule_set(rules)
    assert message in str(raised.value)


def test_a_negative_past_dose_is_not_summed_into_the_cumulative_total():
    """-1000 mg/m2 given in May would bring 240 + 60 down to -700: a silent all-clear."""
    found = cards("anthracycline-prior-dose-negative.order-sign", "oncology-order-sign")
    card = found["anthracycline-dose-not-computed"]
    assert card["summary"].endswith("needs a plausible dose for each (plausibility.yaml)")
    assert "-1000 mg/m2: implausible" in card["detail"]
