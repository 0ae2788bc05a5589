"""Prefetch templates, tokens and per-key policies: what is fetched, skipped or refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from cds_service.app import create_app
from cds_service.config import Settings
from cds_service.prefetch import keys as prefetch
from cds_service.prefetch import queries
from cds_service.prefetch.fhirclient import allowed_base
from cds_service.prefetch.keys import PrefetchUnavailable
from cds_service.prefetch.queries import KeySpec, OnError
from cds_service.protocol.messages import PatientViewContext
from cds_service.protocol.outcomes import ClientError
from cds_service.ruleset.loader import RuleSetInvalid, load_rule_set
from tests.conftest import client_for, copy_rules, replace_in, request_fixture

TODAY = date(2026, 11, 21)
CONTEXT = PatientViewContext(userId="Practitioner/prac-1", patientId="pt-1", encounterId="enc-1")


@pytest.mark.parametrize(
    "template",
    [
        "Patient/{{context.patientId}}",
        "Encounter/{{context.encounterId}}",
        "Practitioner/{{userPractitionerId}}",
        "PractitionerRole?_id={{userPractitionerRoleId}}",
        "Observation?patient={{context.patientId}}&code=http://loinc.org|84413-4&_count=50",
        "Observation?patient={{context.patientId}}&code:in=http://example.org/vs&_sort=-date",
        "Observation?patient={{context.patientId}}&date=ge{{today() - 90 days}}",
        "MedicationRequest?subject={{userPatientId}}&_maxresults=10",
        "RelatedPerson/{{userRelatedPersonId}}",
    ],
)
def test_templates_within_the_query_restrictions(template: str):
    assert queries.template_problem(template, "order-sign") is None


@pytest.mark.parametrize(
    ("template", "problem"),
    [
        ("Patient/{{context.medication.id}}", "not a prefetch token"),
        ("Observation?patient={{context.draftOrders}}", "not a prefetch token"),
        ("Patient/{{patientId}}", "not a prefetch token"),
        ("Patient/{{context.patientId}", "without its"),
        ("https://other.example/Patient/1", "relative"),
        ("/Patient/{{context.patientId}}", "relative"),
        ("Patients/{{context.patientId}}", "not a FHIR R4 resource type"),
        ("Patient/{{context.patientId}}/_history", "instance read"),
        ("Observation?subject.name=x", "chained"),
        ("Observation?code:not=1234-5", "modifier"),
        ("Observation?patient={{context.patientId}}&_include=Observation:subject", "_include"),
        ("Patient?_has:Observation:patient:code=1234-5", "_has"),
        ("Observation?date=ne2026-01-01", "date prefix"),
        ("Observation?date=ap{{today()}}", "date prefix"),
    ],
)
def test_templates_outside_the_query_restrictions(template: str, problem: str):
    assert problem in (queries.template_problem(template, "order-sign") or "")


def test_every_token_renders():
    user_tokens = [
        ("Practitioner/prac-1", "userPractitionerId"),
        ("PractitionerRole/role-1", "userPractitionerRoleId"),
        ("Patient/pt-1", "userPatientId"),
        ("RelatedPerson/rp-1", "userRelatedPersonId"),
    ]
    for user, token in user_tokens:
        context = PatientViewContext(userId=user, patientId="pt-1")
        assert prefetch.render(f"X/{{{{{token}}}}}", context, TODAY) == f"X/{user.split('/')[1]}"
        others = [t for _, t in user_tokens if t != token]
        assert prefetch.render(f"X/{{{{{others[0]}}}}}", context, TODAY) is None
    rendered = prefetch.render(
        "Observation?patient={{context.patientId}}&encounter={{ context.encounterId }}"
        "&date=ge{{today() - 90 days}}&date=le{{today()}}",
        CONTEXT,
        TODAY,
    )
    assert (
        rendered == "Observation?patient=pt-1&encounter=enc-1&date=ge2026-08-23&date=le2026-11-21"
    )


def test_a_template_whose_token_has_no_value_means_no_data():
    context = PatientViewContext(userId="Practitioner/p", patientId="pt-1")  # no encounterId
    specs = (KeySpec("encounter", "Encounter/{{context.encounterId}}"),)
    planned = prefetch.plan({}, context, specs, TODAY)
    assert planned.queries == {}
    assert prefetch.record(context, planned, {}).resources == []


@pytest.mark.parametrize("patient_id", ["../../admin", "pt-1&_include=*", "pt 1", ".."])
def test_a_crafted_context_id_cannot_shape_the_query(patient_id: str):
    """(An id over 64 characters is refused by the context itself: tests/test_bounded.py.)"""
    context = PatientViewContext(userId="Practitioner/p", patientId=patient_id)
    with pytest.raises(ClientError) as raised:
        prefetch.render("Observation?patient={{context.patientId}}", context, TODAY)
    assert raised.value.status == 400
    assert raised.value.issues[0].expression == "context.patientId"


OUTCOME = {"resourceType": "OperationOutcome", "issue": [{"severity": "error", "code": "timeout"}]}


def plan(policy: OnError, sent: dict[str, Any]) -> prefetch.Plan:
    specs = (KeySpec("pgx", "Observation?patient={{context.patientId}}", policy),)
    return prefetch.plan(sent, CONTEXT, specs, TODAY)


def test_four_states_of_a_key():
    present = plan(OnError.FETCH, {"pgx": {"resourceType": "Bundle", "type": "searchset"}})
    assert (present.have, present.queries) == ({"pgx": []}, {})
    null = plan(OnError.FETCH, {"pgx": None})
    assert (null.have, null.queries) == ({"pgx": []}, {})
    for omitted in (plan(OnError.FETCH, {}), plan(OnError.FAIL, {}), plan(OnError.SKIP, {})):
        assert omitted.queries["pgx"].url == "Observation?patient=pt-1"
        assert omitted.queries["pgx"].reason == "not sent"
    fetched = plan(OnError.FETCH, {"pgx": OUTCOME})
    assert "reported an error" in fetched.queries["pgx"].reason
    assert plan(OnError.SKIP, {"pgx": OUTCOME}).queries == {}
    with pytest.raises(PrefetchUnavailable) as raised:
        plan(OnError.FAIL, {"pgx": OUTCOME})
    assert raised.value.status == 412
    assert "timeout" in raised.value.issues[0].message


def test_a_prefetch_value_that_is_not_fhir_is_400():
    with pytest.raises(ClientError) as raised:
        plan(OnError.FETCH, {"pgx": "Observation/1"})
    assert (raised.value.status, raised.value.issues[0].expression) == (400, "prefetch.pgx")


def test_an_unanswered_query_is_named_with_why_not_no_data():
    planned = plan(OnError.FETCH, {})
    (issue,) = prefetch.unanswered(planned, {}, {}).values()
    assert (issue.expression, issue.code) == ("prefetch.pgx", "incomplete")
    assert "did not fetch" in issue.message
    assert "Observation?patient=pt-1" in issue.message
    assert prefetch.unanswered(planned, {"pgx": []}, {}) == {}


def test_services_yaml_policies_are_loaded(rule_set, tmp_path: Path):
    """One key per template; a policy written in services.yaml reaches that key, others fetch."""
    service = rule_set.services["oncology-order-sign"]
    assert [spec.key for spec in service.keys] == list(service.prefetch)
    rules = copy_rules(tmp_path)
    edit_services(rules, "      pgx: fetch", "      pgx: skip")
    edited = load_rule_set(rules)
    select = edited.service_for("order-select")  # the first service: the one edited
    assert select is not None
    policies = {spec.key: spec.on_error for spec in select.keys}
    edited.close()
    assert policies["pgx"] is OnError.SKIP
    assert {key for key, policy in policies.items() if policy is not OnError.FETCH} == {"pgx"}


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    return copy_rules(tmp_path)


def edit_services(rules: Path, old: str, new: str) -> None:
    replace_in(rules / "services.yaml", old, new, count=-1)  # every service


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("      pgx: fetch", "      pgx: retry", "'retry' is not one of: fetch, skip, fail"),
        ("      pgx: fetch", "      labs: fetch", "prefetch_policy.labs: no such prefetch key"),
        ("pgx: Observation?patient=", "pgx: Observation?_revinclude=x&patient=", "_revinclude"),
        ("Patient/{{context.patientId}}", "Patient/{{context.draftOrders.id}}", "prefetch.patient"),
    ],
)
def test_the_service_refuses_to_start_on_a_bad_template_or_policy(
    rules_copy: Path, old: str, new: str, message: str
):
    edit_services(rules_copy, old, new)
    with pytest.raises(RuleSetInvalid) as raised:
        create_app(Settings(rules_dir=rules_copy))
    problem = raised.value.problems[0]
    lines = (rules_copy / "services.yaml").read_text(encoding="utf-8").splitlines()
    assert problem.path.name == "services.yaml"
    assert new.strip() in lines[problem.line - 1]
    assert message in problem.message


def test_fail_policy_answers_412_at_once(rules_copy: Path):
    edit_services(rules_copy, "      pgx: fetch", "      pgx: fail")
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["prefetch"]["pgx"] = OUTCOME
    with client_for(rules_dir=rules_copy) as client:
        response = client.post("/cds-services/oncology-order-sign", json=body)
    assert response.status_code == 412
    assert "its policy is to fail" in response.json()["issue"][0]["diagnostics"]


def test_skip_policy_goes_on_without_the_key(rules_copy: Path):
    edit_services(rules_copy, "      pgx: fetch", "      pgx: skip")
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    body["prefetch"]["pgx"] = OUTCOME
    with client_for(rules_dir=rules_copy) as client:
        (card,) = client.post("/cds-services/oncology-order-sign", json=body).json()["cards"]
    assert card["source"]["topic"]["code"] == "dpyd-test-first"


@pytest.mark.parametrize(
    ("server", "allowed"),
    [
        ("https://ehr.example.org/fhir", True),
        ("https://ehr.example.org/fhir/", True),
        ("https://ehr.example.org/fhir/r4", True),
        ("https://EHR.example.org/fhir", True),
        ("https://ehr.example.org/fhirx", False),
        ("https://ehr.example.org", False),
        ("http://ehr.example.org/fhir", False),
        ("https://ehr.example.org:8443/fhir", False),
        ("https://ehr.example.org.evil.test/fhir", False),
        ("https://user:pw@ehr.example.org/fhir", False),
        ("https://ehr.example.org/fhir?x=1", False),
        ("not a url", False),
    ],
)
def test_the_allow_list(server: str, allowed: bool):
    assert (allowed_base(server, ("https://ehr.example.org/fhir",)) is not None) is allowed
