"""What the open endpoints tell a stranger: no path of the machine, no made-up API document."""

from __future__ import annotations

from tests.conftest import ROOT, Client, client_for


def test_health_names_no_path_of_the_machine(client: Client):
    health = client.get("/health")
    assert health.status_code == 200
    assert str(ROOT) not in health.text
    assert health.json()["rules"]["directory"] == "rules"
    assert health.json()["auth"] == "off"


def test_no_openapi_document_describing_what_the_service_does_not_do(client: Client):
    assert client.get("/openapi.json").status_code == 404
    assert client.get("/docs").status_code == 404


def test_a_405_says_which_methods_are_allowed():
    with client_for() as client:
        wrong = client.get("/cds-services/oncology-order-sign")
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "POST"
        assert wrong.json()["resourceType"] == "OperationOutcome"
