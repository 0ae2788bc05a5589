"""Supportive care: dates of a diagnosis, advanced cancer, care on file, referrals, due dates.

The fixture cases (tests/fixture_cases_care.py, checked in test_fixtures.py) show each rule's
cards; these tests pin the facts and the mechanics a card rests on: which date is the diagnosis,
what makes a cancer advanced, what puts a consultation on file, the referral the EHR creates,
and a due date that moves with the service's clock.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.servicerequest import ServiceRequest

from cds_service import facts
from cds_service.config import Settings
from cds_service.prefetch.record import PatientRecord
from cds_service.ruleset.compiled import RuleSet
from tests.conftest import Client, client_for, request_fixture
from tests.fixture_cases import TODAY
from tests.test_rule_files import edit, problems

PATIENT = "pt-1"
SNOMED = "http://snomed.info/sct"
SECONDARY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-secondary-cancer-condition"
GOALS = Path("supportive-care") / "goals-of-care.yaml"
FERTILITY = Path("supportive-care") / "fertility-preservation.yaml"


def condition(ident: str, text: str, code: str | None = None, **dates: Any) -> dict[str, Any]:
    concept: dict[str, Any] = {"text": text}
    if code:
        concept["coding"] = [{"system": SNOMED, "code": code}]
    return {
        "resourceType": "Condition",
        "id": ident,
        "code": concept,
        "subject": {"reference": f"Patient/{PATIENT}"},
        **dates,
    }


def staging(ident: str, kind: str, value: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": SNOMED, "code": kind}]},
        "subject": {"reference": f"Patient/{PATIENT}"},
        "valueCodeableConcept": value,
        **extra,
    }


def snomed(code: str) -> dict[str, Any]:
    return {"coding": [{"system": SNOMED, "code": code}]}


STAGE_IV = staging("sg", "399537006", snomed("1222837003"), effectiveDateTime="2026-10-24")
NSCLC = condition("c1", "Non-small cell lung cancer", "254637007", onsetDateTime="2026-01-10")


def request(kind: str, ident: str, text: str, status: str, **extra: Any) -> dict[str, Any]:
    resource = {
        "resourceType": kind,
        "id": ident,
        "status": status,
        "code": {"text": text},
        "subject": {"reference": f"Patient/{PATIENT}"},
        **extra,
    }
    return resource | ({"intent": "order"} if kind == "ServiceRequest" else {})


def extract(rule_set: RuleSet, resources=(), orders=()) -> list[facts.Fact]:
    record = PatientRecord(PATIENT, None, list(resources), list(orders))
    return facts.extract(record, rule_set.knowledge, TODAY)


def of(found: list[facts.Fact], kind: type) -> list[Any]:
    return [fact for fact in found if isinstance(fact, kind)]


@pytest.mark.parametrize(
    ("dates", "diagnosed", "weeks"),
    [
        ({"onsetDateTime": "2026-10-24", "recordedDate": "2026-11-01"}, "2026-10-24", 4.0),
        ({"onsetDateTime": "2026-10-23T22:00:00-05:00"}, "2026-10-23", 4.1),
        ({"onsetPeriod": {"start": "2026-08-22"}}, "2026-08-22", 13.0),
        ({"onsetDateTime": "2026-10", "recordedDate": "2026-10-30"}, "2026-10-30", 3.1),
        ({"onsetString": "autumn"}, None, None),
    ],
    ids=["onset", "onset-with-time", "onset-period", "month-only-onset", "no-day"],
)
def test_the_diagnosis_date_is_the_onset_else_the_recorded_day(
    rule_set: RuleSet, dates: dict, diagnosed: str | None, weeks: float | None
):
    found = extract(rule_set, [condition("c1", "Breast cancer", "254837009", **dates)])
    (cancer,) = of(found, facts.Cancer)
    assert (cancer.diagnosed, cancer.weeks_since_diagnosis) == (diagnosed, weeks)


@pytest.mark.parametrize(
    ("resources", "diagnosed", "basis"),
    [
        pytest.param([NSCLC, STAGE_IV], "2026-10-24", "stage group IV (2026-10-24)", id="stage-iv"),
        pytest.param(
            [
                NSCLC,
                staging("m", "371497001", snomed("1229920008"), effectiveDateTime="2026-11-01"),
            ],
            "2026-11-01",
            "metastases M1 (2026-11-01)",
            id="pm1b",
        ),
        pytest.param(
            [
                NSCLC,
                condition(
                    "c2",
                    "Secondary malignant neoplasm of brain",
                    "94225005",
                    recordedDate="2026-09-05",
                    meta={"profile": [SECONDARY]},
                ),
            ],
            "2026-09-05",
            "Secondary malignant neoplasm of brain (2026-09-05)",
            id="metastatic-condition",
        ),
        pytest.param(
            [condition("c3", "Metastatic carcinoma of colon", onsetDateTime="2026-07-04")],
            "2026-07-04",
            "Metastatic carcinoma of colon (2026-07-04)",
            id="metastatic-words-in-a-malignancy",
        ),
        pytest.param(
            [NSCLC, staging("sg", "399537006", snomed("1222837003"))],
            None,  # not the primary's 2026-01-10: a recurrence would look long overdue
            "stage group IV",
            id="undated-stage-not-dated-by-the-primary",
        ),
    ],
)
def test_advanced_cancer_and_the_date_it_counts_from(
    rule_set: RuleSet, resources: list, diagnosed: str, basis: str
):
    (advanced,) = of(extract(rule_set, resources), facts.AdvancedCancer)
    assert (advanced.diagnosed, advanced.basis) == (diagnosed, basis)


def test_several_signs_make_one_fact_dated_by_the_earliest(rule_set: RuleSet):
    brain = condition("c2", "Brain metastases of lung cancer", onsetDateTime="2026-11-14")
    m1 = staging("m", "399387003", snomed("1229903009"), effectiveDateTime="2026-09-05")
    (advanced,) = of(extract(rule_set, [NSCLC, STAGE_IV, brain, m1]), facts.AdvancedCancer)
    assert advanced.diagnosed == "2026-09-05"
    assert advanced.weeks_since_diagnosis == 11.0
    assert set(advanced.sources) == {"Observation/sg", "Observation/m", "Condition/c2"}


@pytest.mark.parametrize(
    "resources",
    [
        pytest.param([NSCLC], id="no-staging"),
        pytest.param([NSCLC, staging("sg", "399588009", snomed("1222769001"))], id="stage-iib"),
        pytest.param([NSCLC, staging("m", "399387003", snomed("1229901006"))], id="cm0"),
        pytest.param([condition("c9", "Metastatic calcification of lung")], id="not-a-cancer"),
        pytest.param(
            [NSCLC, condition("c8", "Secondary malignant neoplasm of axillary lymph node")],
            id="regional-nodes",
        ),
        pytest.param(
            [NSCLC, staging("sg", "399537006", snomed("1222837003"), status="preliminary")],
            id="preliminary-stage-iv",
        ),
        pytest.param(
            [condition("c7", "Non-small cell lung cancer stage IA, medically inoperable")],
            id="inoperable-is-the-patient-not-the-tumour",
        ),
        pytest.param([condition("c6", "Relapsed breast cancer")], id="relapse-of-a-solid-tumour"),
        pytest.param([condition("c5", "Lymphoma")], id="hematologic-not-relapsed"),
        pytest.param(
            [condition("c3", "Locally advanced breast cancer")], id="locally-advanced-breast"
        ),
    ],
)
def test_not_advanced(rule_set: RuleSet, resources: list):
    assert of(extract(rule_set, resources), facts.AdvancedCancer) == []


@pytest.mark.parametrize(
    "text",
    [
        "Non-small cell lung cancer, stage IIIC, unresectable",
        "Pancreatic cancer, not resectable",
        "Locally advanced pancreatic adenocarcinoma (malignant)",
        "Acute myeloid leukaemia, refractory",
        "Multiple myeloma in relapse",
        "Relapsed/refractory follicular lymphoma",
    ],
)
def test_unresectable_and_relapsed_or_refractory_hematologic_cancers_are_advanced(
    rule_set: RuleSet, text: str
):
    """knowledge/care.yaml: unresectable disease and ASCO 2024's hematologic malignancies."""
    (advanced,) = of(extract(rule_set, [condition("c1", text)]), facts.AdvancedCancer)
    assert advanced.basis == text


def test_a_pathologic_m_that_says_not_applicable_gives_way_to_the_clinical_m(
    rule_set: RuleSet,
):
    """The mCODE example pM is data-absent-reason "not-applicable"; the cM beside it counts."""
    absent = {
        "coding": [
            {
                "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
                "code": "not-applicable",
            }
        ]
    }
    found = extract(
        rule_set,
        [
            staging("pm", "371497001", absent, effectiveDateTime="2026-11-01"),
            staging("cm", "399387003", snomed("1229903009"), effectiveDateTime="2026-10-01"),
        ],
    )
    (metastases,) = [f for f in of(found, facts.Finding) if f.finding == "metastases"]
    assert (metastases.value, metastases.sources) == ("M1", ("Observation/cm",))


def test_care_on_file_from_requests_procedures_and_draft_orders(rule_set: RuleSet):
    acp = request("Procedure", "acp", "Advance care planning", "completed")
    acp["code"] = snomed("713603004")
    found = extract(
        rule_set,
        [acp, request("ServiceRequest", "fp", "Oncofertility consult", "revoked")],
        [request("ServiceRequest", "fp2", "Sperm banking before chemotherapy", "draft")],
    )
    on_file = {f.item: (f.resource, f.status) for f in of(found, facts.CareOnFile)}
    assert on_file == {
        "goals_of_care": ("Procedure/acp", "completed"),
        "fertility_preservation": ("ServiceRequest/fp2", "draft"),
    }
    assert of(found, facts.CareMissing) == []


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param(request("Procedure", "p", "Advance care planning", "not-done"), id="not-done"),
        pytest.param(
            request("ServiceRequest", "s", "Palliative care referral", "entered-in-error"),
            id="entered-in-error",
        ),
        pytest.param(
            request(
                "Procedure",
                "p",
                "Goals of care discussion",
                "completed",
                subject={"reference": "Patient/someone-else"},
            ),
            id="another-patient",
        ),
        pytest.param(request("Procedure", "p", "Palliative radiotherapy", "completed"), id="words"),
        pytest.param(
            {"resourceType": "Procedure", "id": "p", "status": "completed", "code": "ACP"},
            id="invalid",
        ),
    ],
)
def test_what_does_not_put_care_on_file(rule_set: RuleSet, resource: dict):
    found = extract(rule_set, [resource])
    assert {f.item for f in of(found, facts.CareMissing)} == {
        "fertility_preservation",
        "goals_of_care",
    }


def cards(client: Client, name: str, body: dict | None = None) -> list[dict[str, Any]]:
    hook = name.rsplit(".", 1)[1]
    response = client.post(f"/cds-services/oncology-{hook}", json=body or request_fixture(name))
    assert response.status_code == 200, response.text
    return response.json()["cards"]


def test_the_referral_is_a_draft_service_request_for_this_patient(client: Client):
    (card,) = cards(client, "fertility-cyclophosphamide-age-30.order-sign")
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "create"
    referral = ServiceRequest.model_validate(action["resource"])
    assert (referral.status, referral.intent) == ("draft", "order")
    assert referral.category[0].coding[0].code == "3457005"
    assert referral.subject.reference == "Patient/pt-fertility-cyclophosphamide-age-30"
    assert "cyclophosphamide (gonadotoxic) planned" in referral.reasonCode[0].text


def test_a_referral_accepted_at_order_select_is_not_asked_for_at_order_sign(client: Client):
    name = "fertility-cyclophosphamide-age-30.order-sign"
    (card,) = cards(client, name)
    body = request_fixture(name)
    referral = card["suggestions"][0]["actions"][0]["resource"] | {"id": "referral-1"}
    body["context"]["draftOrders"]["entry"].append({"resource": referral})
    assert cards(client, name, body) == []


@pytest.mark.parametrize(
    ("today", "rule", "indicator"),
    [
        (date(2026, 12, 19), "goals-of-care-due", "info"),  # the due day itself
        (date(2026, 12, 20), "goals-of-care-overdue", "warning"),
    ],
)
def test_the_card_turns_to_a_warning_the_day_after_the_due_date(
    today: date, rule: str, indicator: str
):
    with client_for(today=today) as client:
        (card,) = cards(client, "goals-of-care-stage-iv-due.patient-view")
    assert (card["source"]["topic"]["code"], card["indicator"]) == (rule, indicator)
    assert "2026-12-19" in card["summary"]


def test_the_clock_can_be_fixed_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("CDS_TODAY", "2027-01-17")
    assert Settings.from_env().day() == date(2027, 1, 17)
    monkeypatch.delenv("CDS_TODAY")
    assert Settings.from_env().today is None


@pytest.mark.parametrize(
    ("file", "old", "new", "words"),
    [
        pytest.param(
            GOALS,
            'due: {after: advanced.diagnosed, weeks: *weeks}\n      summary: "Advanced',
            'due: {after: advanced.diagnosis, weeks: *weeks}\n      summary: "Advanced',
            "due.after 'advanced.diagnosis' must be condition.attribute naming a date",
            id="due-after-unknown-attribute",
        ),
        pytest.param(
            GOALS,
            '      summary: "Advanced cancer: no diagnosis date on file',
            '      summary: "Advanced cancer: due {due.date}; no diagnosis date on file',
            "{due.date} needs 'due' in the card",
            id="due-placeholder-without-due",
        ),
        pytest.param(
            FERTILITY,
            'reason: "{order.ingredient} (gonadotoxic)',
            'reason: "{order.ingredients} (gonadotoxic)',
            "service_request reason: {order.ingredients}: a draft_med fact has no 'ingredients'",
            id="reason-placeholder",
        ),
        pytest.param(
            FERTILITY,
            '            category:\n              coding: [{system: "http://snomed.info/sct", '
            'code: "3457005", display: Patient referral}]\n',
            "",
            "service_request: missing 'category'",
            id="referral-without-category",
        ),
    ],
)
def test_rule_file_mistakes_in_due_dates_and_referrals(
    tmp_path: Path, file: Path, old: str, new: str, words: str
):
    rules = edit(tmp_path, old, new, file)
    found = problems(rules)
    assert found
    assert all(p.path == (rules / file).resolve() for p in found), found
    assert any(words in p.message for p in found), [p.message for p in found]
