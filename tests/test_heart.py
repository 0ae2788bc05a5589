"""The heart checks show their arithmetic: cumulative anthracycline dose, BSA, LVEF trend.

The fixture requests (tests/fixture_cases_heart.py) are sent to the service and the numbers on
the card are checked, step by step, against the same sums done by hand in each docstring.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.timing import Timing

from cds_service import facts
from cds_service.facts.dosage import doses_in
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from cds_service.ruleset.loader import RuleSetInvalid, load_rule_set
from tests.conftest import Client, copy_rules, replace_in, request_fixture
from tests.fixture_cases_heart import given, measure


def only_card(client: Client, name: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    hook = name.rsplit(".", 1)[1]
    response = client.post(f"/cds-services/oncology-{hook}", json=body or request_fixture(name))
    (card,) = response.json()["cards"]
    card["detail"] = " ".join(card["detail"].split())
    card["text"] = card["detail"].split("**Evidence**")[0]  # the rule's text, before the facts
    return card


def test_administrations_are_counted_and_their_order_is_not_counted_again(client: Client):
    """4 administrations of 60 mg/m2 name their completed order of 4: 240, not 480; + 60 = 300."""
    card = only_card(client, "anthracycline-240-plus-60.order-sign")
    assert card["text"].count("60 mg/m2 x 1 dose (one administration) x ratio 1 = 60") == 4
    assert "medrx-anthracycline-240-plus-60-ac" not in card["detail"]
    assert "Prior total: **240 mg/m2**" in card["detail"]
    assert "This order: 60 mg/m2 x 1 dose(s) x ratio 1 = **60 mg/m2**" in card["detail"]
    assert "projected 300" in card["detail"]


def test_a_finished_order_counts_its_doses_from_the_bounds(client: Client):
    """50 mg/m2 every 21 days for 210 days: 10 doses, 500; + 60 = 560 > 550: cancel the order."""
    card = only_card(client, "anthracycline-above-limit.order-sign")
    assert "50 mg/m2 x 10 doses (1 x 10 periods in 210 d) x ratio 1 = 500 mg/m2" in card["detail"]
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "delete"
    assert action["resourceId"] == "MedicationRequest/medrx-draft-anthracycline-above-limit"


def test_cyclophosphamide_lowers_the_limit_and_is_named(client: Client):
    """6 x 60 + 60 = 420: above 400 with cyclophosphamide on file, though under 550."""
    card = only_card(client, "anthracycline-cyclophosphamide-above-400.order-sign")
    assert "60 mg/m2 x 6 doses (repeat.count 6)" in card["detail"]
    assert "cyclophosphamide (MedicationRequest/medrx-" in card["detail"]


def test_epirubicin_is_counted_with_its_ratio(client: Client):
    """3 x epirubicin 100 mg/m2 x 0.8 = 240 doxorubicin-equivalent; + 60 = 300."""
    card = only_card(client, "anthracycline-epirubicin-prior.order-sign")
    assert (
        card["text"].count("epirubicin 100 mg/m2 x 1 dose (one administration) x ratio 0.8 = 80")
        == 3
    )
    assert "Prior total: **240 mg/m2**" in card["detail"]


def test_doses_in_mg_are_divided_by_the_bsa_on_file(client: Client):
    """108 mg / BSA 1.8 m2 (LOINC 8277-6) = 60 mg/m2, 4 times: 240; + 60 = 300."""
    card = only_card(client, "anthracycline-mg-bsa.order-sign")
    assert card["text"].count("108 mg / 1.8 m2 = 60 mg/m2") == 4
    assert "BSA used for doses in mg: BSA 1.8 m2 (Observation/obs-bsa-" in card["detail"]


def test_mosteller_from_height_and_weight_converts_the_order_too(client: Client):
    """sqrt(180 cm x 64.8 kg / 3600) = 1.8 m2; prior 4 x 108 mg = 240; order 108 mg = 60."""
    card = only_card(client, "anthracycline-mg-mosteller.order-sign")
    assert "Mosteller: sqrt(height 180 cm x weight 64.8 kg / 3600) = 1.8 m2" in card["detail"]
    assert "This order: 60 mg/m2 x 1 dose(s)" in card["detail"]
    assert "projected 300" in card["detail"]


def test_doses_in_mg_without_a_bsa_are_named_and_no_total_is_given(client: Client):
    """4 doses in mg, no BSA: not computed; only the order (60) is counted, and it says so."""
    card = only_card(client, "anthracycline-mg-no-bsa.order-sign")
    assert card["text"].count("108 mg (MedicationAdministration/") == 4
    assert "add up to 60 mg/m2" in card["detail"]
    assert "projected" not in card["detail"]


def test_jenny_m_administration_is_counted_with_her_mosteller_bsa(client: Client):
    """mCODE Jenny M: 65 in = 165.1 cm, 150 lb = 68.04 kg, BSA sqrt(165.1 x 68.04 / 3600) =
    1.77 m2; doxorubicin 105.96 mg / 1.77 = 59.98 mg/m2 (her order said 60); + 60 = 119.98."""
    card = only_card(client, "mcode-jenny-m-doxorubicin.order-sign")
    detail = card["detail"]
    assert "Mosteller: sqrt(height 165.1 cm x weight 68.04 kg / 3600) = 1.77 m2" in detail
    assert "105.96 mg / 1.77 m2 = 59.98 mg/m2" in detail
    assert "prior 59.98; projected 119.98" in detail
    assert "Cumulative dose with this order: 119.98 mg/m2" in detail
    request = ServiceRequest.model_validate(card["suggestions"][0]["actions"][0]["resource"])
    assert request.code.coding[0].code == "34552-0"


def test_an_administration_that_is_not_valid_fhir_stops_the_total(client: Client):
    body = request_fixture("anthracycline-240-plus-60.order-sign")
    first = body["prefetch"]["administrations"]["entry"][0]["resource"]
    first["effectiveDateTime"] = "not a date"
    card = only_card(client, "x.order-sign", body)
    assert card["source"]["topic"]["code"] == "anthracycline-dose-not-computed"
    assert card["summary"].endswith("needs a readable record of each dose")
    assert (
        f"({first['resourceType']}/{first['id']}): not valid FHIR (effectiveDateTime"
        in card["detail"]
    )


def test_a_stopped_order_is_not_counted_as_if_its_course_ran_out(client: Client):
    """500 mg/m2 ordered over 10 doses but stopped: the course did not run, the total is unknown."""
    body = request_fixture("anthracycline-above-limit.order-sign")
    (finished,) = body["prefetch"]["history"]["entry"]
    finished["resource"]["status"] = "stopped"
    card = only_card(client, "x.order-sign", body)
    assert card["source"]["topic"]["code"] == "anthracycline-dose-not-computed"
    assert "stopped before its course ended" in card["detail"]


def test_a_child_under_2_is_checked_against_daunorubicin_10_mg_per_kg(client: Client):
    """1 year 7 months, 9 kg, BSA 0.45 m2: 10 mg/kg x 9 / 0.45 = 200 mg/m2. 4 x 40 = 160 on
    file; + 40 = 200 is at the limit (no card), + 50 = 210 is past it (cancel the order)."""
    response = client.post(
        "/cds-services/oncology-order-sign",
        json=request_fixture("infant-daunorubicin-at-200.order-sign"),
    )
    assert response.json()["cards"] == []
    card = only_card(client, "infant-daunorubicin-past-200.order-sign")
    assert card["indicator"] == "critical"
    assert "10 mg/kg x 9 kg / 0.45 m2 = 200 mg/m2" in card["text"]
    assert "age group child" in card["detail"]
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "delete"


def test_trastuzumab_card_shows_baseline_and_latest_with_dates(client: Client):
    """Three LVEFs on file: the baseline is the one before the first dose (66, 2 March; the
    first dose 9 March), the latest 50: -16."""
    card = only_card(client, "trastuzumab-active-lvef-fall-16.patient-view")
    assert "from **66 %** (2026-03-02) to **50 %** (2026-09-21): -16 points" in card["detail"]
    assert "count 3" in card["detail"]


def test_the_baseline_is_the_last_lvef_before_the_first_trastuzumab_dose(client: Client):
    """70 (2025-06-02), 60 (2026-03-02), first dose 2026-03-09, 50 now: from 60, -10 at 50 %
    is no hold. Started 2025-06-09 instead, the baseline is 70: -20, withhold, and the card
    names the result and the dose that set it."""
    response = client.post(
        "/cds-services/oncology-order-sign",
        json=request_fixture("trast-baseline-before-start.order-sign"),
    )
    assert response.json()["cards"] == []
    card = only_card(client, "trast-baseline-started-earlier.order-sign")
    assert card["summary"].startswith("LVEF 50% from 70% (-20 points)")
    assert (
        "Baseline: Observation/obs-lvef-trast-baseline-started-earlier-2025-06-02 (2025-06-02), "
        "the latest LVEF on or before the first trastuzumab dose on file "
        "(MedicationAdministration/admin-trast-baseline-started-earlier-trastuzumab-2025-06-09, "
        "2025-06-09)."
    ) in card["text"]


def test_with_no_lvef_before_the_first_dose_the_card_says_the_earliest_was_used(client: Client):
    """First dose 2026-03-09, LVEF 66 on 2026-04-01 and 50 now: -16 from the earliest."""
    card = only_card(client, "trast-baseline-none-before.order-sign")
    assert "from **66 %** (2026-04-01)" in card["text"]
    assert (
        "the earliest LVEF on file: none on file was taken before the first trastuzumab dose"
        in (card["text"])
    )


def test_a_first_trastuzumab_order_has_no_fall_on_trastuzumab(client: Client):
    """66 then 50 with no trastuzumab given: the label's fall is from the pre-treatment value,
    which is the latest (50) at a first order."""
    response = client.post(
        "/cds-services/oncology-order-sign",
        json=request_fixture("trast-first-order-fall-before.order-sign"),
    )
    assert response.json()["cards"] == []


@pytest.mark.parametrize(
    ("timing", "doses"),
    [
        (None, 1.0),
        ({}, 1.0),
        ({"repeat": {"count": 4, "frequency": 1, "period": 21, "periodUnit": "d"}}, 4.0),
        (
            {
                "repeat": {
                    "frequency": 1,
                    "period": 3,
                    "periodUnit": "wk",
                    "boundsDuration": {"value": 63, "code": "d"},
                }
            },
            3.0,
        ),
        (
            {
                "repeat": {
                    "frequency": 1,
                    "period": 21,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 64, "code": "d"},
                }
            },
            4.0,
        ),
        (
            {
                "repeat": {
                    "frequency": 2,
                    "period": 1,
                    "periodUnit": "d",
                    "boundsDuration": {"value": 3, "code": "d"},
                }
            },
            6.0,
        ),
        ({"event": ["2026-01-01", "2026-01-02", "2026-01-03"]}, 3.0),
        ({"repeat": {"frequency": 1, "period": 21, "periodUnit": "d"}}, None),
        ({"repeat": {"boundsPeriod": {"start": "2018-04-01"}}}, None),
        (
            {
                "repeat": {
                    "frequency": 1,
                    "period": 1,
                    "periodUnit": "mo",
                    "boundsDuration": {"value": 6, "code": "mo"},
                }
            },
            None,
        ),
    ],
)
def test_number_of_doses_of_an_order(timing: dict[str, Any] | None, doses: float | None):
    """count; frequency x periods in boundsDuration, rounded up (day 1 is a dose); events; a
    timing that does not repeat is one dose; anything else (months have no fixed length) is not
    stated."""
    parsed = Timing.model_validate(timing) if timing is not None else None
    assert doses_in(parsed)[0] == doses


def test_lvef_by_any_method_the_latest_wins_and_the_baseline_is_before_the_drug(
    rule_set: RuleSet,
):
    """LVEF codes are methods of one measurement: a newer echo (18043-0) beats an older
    10230-1, and the trend runs from the one before trastuzumab was first given."""
    observations = [
        measure("p", "LVEF", 64, "2026-01-10"),
        {**measure("p", "LVEF", 45, "2026-08-01"), "id": "echo"},
        given("p", "trastuzumab", 6, "mg/kg", "2026-02-01"),
    ]
    observations[1]["code"] = {"coding": [{"system": "http://loinc.org", "code": "18043-0"}]}
    record = PatientRecord("pt-p", {"resourceType": "Patient", "id": "pt-p"}, observations)
    found = facts.extract(record, rule_set.knowledge, date(2026, 9, 1))
    (latest,) = [f for f in found if isinstance(f, facts.Finding) and f.finding == "LVEF"]
    (trend,) = [f for f in found if isinstance(f, facts.FindingTrend)]
    assert (latest.number, latest.sources) == (45, ("Observation/echo",))
    assert (trend.baseline, trend.latest, trend.change, trend.count) == (64, 45, -19, 2)
    assert (trend.since, trend.first_dose_date) == ("trastuzumab", "2026-02-01")


def test_no_trend_without_a_dose_of_a_drug_the_baseline_is_set_by(rule_set: RuleSet):
    """Two LVEFs and no HER2 drug given: nothing says which was before treatment."""
    observations = [measure("p", "LVEF", 64, "2026-01-10"), measure("p", "LVEF", 45, "2026-08-01")]
    record = PatientRecord("pt-p", {"resourceType": "Patient", "id": "pt-p"}, observations)
    found = facts.extract(record, rule_set.knowledge, date(2026, 9, 1))
    assert not [f for f in found if isinstance(f, facts.FindingTrend)]


def test_cancelling_an_order_needs_a_fact_about_that_order(tmp_path: Path):
    """A cumulative_dose names its order, so it can be cancelled; an LVEF result cannot."""
    rules = copy_rules(tmp_path)
    file = rules / "patient-factors" / "anthracyclines.yaml"
    replace_in(
        file,
        "        non-anthracycline regimen.\n",
        "        non-anthracycline regimen.\n"
        "      suggestions:\n"
        "        - {action: remove-order, order: lvef, label: Cancel}\n",
    )
    with pytest.raises(RuleSetInvalid) as refused:
        load_rule_set(rules)
    (problem,) = refused.value.problems
    assert problem.rule == "anthracycline-lvef-below-50"
    assert "'order: lvef' must name a condition on a draft_med or auc_dose or" in problem.message
