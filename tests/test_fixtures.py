"""Every fixture request gives the card that fixtures/fhir/README.md says it gives.

The same requests are sent twice: in-process, and over real HTTP to ``cds-service serve``
started on 127.0.0.1, the way an integration engineer sends them with curl.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.servicerequest import ServiceRequest

from tests.conftest import (
    FIXTURES,
    RULES,
    Client,
    copy_rules,
    free_port,
    request_fixture,
    running_service,
)

# fixture request -> (rule of the one card, indicator, text in the summary); None: no card
EXPECTED: dict[str, tuple[str, str, str] | None] = {
    "dpyd-c1905-het-capecitabine.order-sign": (
        "dpyd-intermediate-as1",
        "warning",
        "500 mg/m2 twice daily (50%)",
    ),
    "dpyd-c1905-het-capecitabine.order-select": (
        "dpyd-intermediate-as1",
        "warning",
        "500 mg/m2 twice daily (50%)",
    ),
    "dpyd-c2846-het-fluorouracil.order-sign": (
        "dpyd-intermediate-as1.5",
        "warning",
        "1200 mg/m2 every 14 days (50%)",
    ),
    "dpyd-2a-13-capecitabine.order-sign": ("dpyd-poor", "critical", "avoid capecitabine"),
    "dpyd-normal-capecitabine.order-sign": None,
    "dpyd-untested-capecitabine.order-sign": (
        "dpyd-test-first",
        "warning",
        "test for DPYD variants before the first dose",
    ),
    "no-oncology.order-sign": None,
}


def check(name: str, cards: list[dict]) -> None:
    expected = EXPECTED[name]
    if expected is None:
        assert cards == []
        return
    (card,) = cards
    rule, indicator, text = expected
    assert card["source"]["topic"]["code"] == rule
    assert card["indicator"] == indicator
    assert text in card["summary"]


def service_path(name: str) -> str:
    return "/cds-services/oncology-" + name.rsplit(".", 1)[1]


def test_every_request_fixture_is_covered():
    assert {p.stem for p in (FIXTURES / "requests").glob("*.json")} == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_gives_its_card(client: Client, name: str):
    response = client.post(service_path(name), json=request_fixture(name))
    assert response.status_code == 200
    check(name, response.json()["cards"])


def test_dose_suggestion_is_a_valid_updated_order(client: Client):
    body = request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    assert action["type"] == "update"
    order = MedicationRequest.model_validate(action["resource"])
    assert order.id == body["context"]["draftOrders"]["entry"][0]["resource"]["id"]
    assert float(order.dosageInstruction[0].doseAndRate[0].doseQuantity.value) == 500
    assert "1000 mg/m2" in card["detail"]
    assert "Observation/obs-geno-dpyd-c1905-het" in card["detail"]
    assert "Strong" in card["detail"]


def test_poor_metabolizer_suggests_removing_the_order(client: Client):
    body = request_fixture("dpyd-2a-13-capecitabine.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    assert action == {
        "type": "delete",
        "resourceId": "MedicationRequest/medrx-draft-capecitabine-2a-13",
        "description": action["description"],
    }


def test_test_first_suggests_a_valid_service_request(client: Client):
    body = request_fixture("dpyd-untested-capecitabine.order-sign")
    (card,) = client.post(service_path("x.order-sign"), json=body).json()["cards"]
    (action,) = card["suggestions"][0]["actions"]
    request = ServiceRequest.model_validate(action["resource"])
    assert request.subject.reference == "Patient/pt-dpyd-untested"
    assert "DPYD" in request.code.text


def test_same_finding_has_the_same_uuid_at_select_and_sign(client: Client):
    select = client.post(
        service_path("x.order-select"),
        json=request_fixture("dpyd-c1905-het-capecitabine.order-select"),
    )
    sign = client.post(
        service_path("x.order-sign"), json=request_fixture("dpyd-c1905-het-capecitabine.order-sign")
    )
    assert select.json()["cards"][0]["uuid"] == sign.json()["cards"][0]["uuid"]


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with running_service(RULES) as base:
        yield base


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_fixture_over_real_http(server: str, name: str):
    body = (FIXTURES / "requests" / f"{name}.json").read_bytes()
    response = httpx.post(
        server + service_path(name),
        content=body,
        headers={"Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    check(name, json.loads(response.content)["cards"])


def test_service_refuses_to_start_on_an_invalid_rule_set(tmp_path: Path):
    broken = copy_rules(tmp_path)
    rule_file = broken / "pgx" / "dpyd-fluoropyrimidines.yaml"
    text = rule_file.read_text(encoding="utf-8")
    rule_file.write_text(
        text.replace("activity_score: 1.5", "activity_scor: 1.5"), encoding="utf-8"
    )
    line = text.splitlines().index("        activity_score: 1.5") + 1
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cds_service.cli",
            "--rules",
            str(broken),
            "serve",
            "--port",
            str(free_port()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert f"dpyd-fluoropyrimidines.yaml:{line}: rule dpyd-intermediate-as1.5:" in result.stderr
    assert "activity_scor" in result.stderr
